"""A simulation scenario: who answers, how long they talk, who staffs the floor, and the campaign's rules.

Plain frozen dataclasses with the defaults of docs/pacing.md §3 (the "base" column); ``dialer.sim.load`` reads them
from a TOML file and names the file, section and field of every mistake. The README section "Pacing, the dial
loop and the simulator" documents the format.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True)
class Lognormal:
    weight: float
    median_s: float
    sigma: float


@dataclass(frozen=True)
class Mixture:
    """A mixture of lognormals (call-centre service times are near-lognormal: Brown et al., JASA 2005)."""

    components: tuple[Lognormal, ...]

    @property
    def mean_s(self) -> float:
        import math

        total = sum(c.weight for c in self.components)
        return sum(c.weight * c.median_s * math.exp(c.sigma ** 2 / 2) for c in self.components) / total


@dataclass(frozen=True)
class Outcomes:
    """Shares of dials by what happens at the far end; they add up to 1. ``sit`` numbers are dead for good."""

    live: float = 0.25
    machine: float = 0.20
    no_answer: float = 0.35
    busy: float = 0.05
    sit: float = 0.15


@dataclass(frozen=True)
class Answer:
    """Time from the dial to the answer: post-dial delay plus a gamma with the given mean and shape."""

    pdd_s: float = 2.0
    human_mean_s: float = 8.0
    human_shape: float = 2.0
    machine_mean_s: float = 12.0
    machine_shape: float = 4.0
    busy_s: tuple[float, float] = (2.0, 6.0)
    sit_s: tuple[float, float] = (1.0, 4.0)
    ring_timeout_s: int = 25
    patience_s: float = 30.0  # a live person left waiting hangs up after this (the loop abandons at 2 s)
    safe_harbor_s: float = 8.0  # length of the safe-harbor message
    voicemail_s: float = 20.0  # length of a voicemail drop


@dataclass(frozen=True)
class Amd:
    """Answering-machine detection: verdict delay and error rates (docs/pacing.md §3: 2.5 s, 10 %/10 % on S9)."""

    enabled: bool = True
    delay_s: float = 0.0  # 0: the verdict comes with the answer
    delay_sigma: float = 0.0  # lognormal spread of the delay
    human_as_machine: float = 0.0
    machine_as_human: float = 0.0
    agent_machine_s: float = 5.0  # an agent who gets a machine hangs up after this


@dataclass(frozen=True)
class Step:
    """From ``hour`` (local, on 1-based ``day``) on, the base live share is ``live``."""

    day: int
    hour: float
    live: float


@dataclass(frozen=True)
class Answering:
    """How the live share moves: hour-of-day factors, step changes, daily drift, decay on retries."""

    curve: tuple[tuple[float, float], ...] = ()  # (from local hour, factor); before the first: 1.0
    steps: tuple[Step, ...] = ()
    daily_drift: float = 0.0  # each day multiplies the live share by U(1 - d, 1 + d)
    retry_decay: float = 0.8  # attempt k answers live at p × decay^(k-1) (Kulka & Weeks 1988)


@dataclass(frozen=True)
class Shift:
    """From ``hour`` after the day's start, ``count`` agents are on shift (churn: 10 -> 25 -> 8)."""

    hour: float
    count: int


@dataclass(frozen=True)
class Agents:
    count: int = 20
    schedule: tuple[Shift, ...] = ()  # empty: ``count`` all day
    wrap: Mixture = field(default_factory=lambda: Mixture((Lognormal(1.0, 12.0, 0.5),)))
    break_every_h: float = 0.0  # 0: no breaks
    break_min: float = 15.0
    lunch_at_h: float = 0.0  # 0: no lunch
    lunch_min: float = 30.0
    stagger_min: float = 10.0  # log-ins, breaks and lunches spread over +- this
    logouts_per_hour: float = 0.0  # mid-call log-outs per agent-hour (the call is dropped)
    # a break or lunch that falls due during a call is said on the seat then ("pause after this call"), so the
    # pacer counts the agent out at once; False: the agent just pauses once the wrap-up is done
    breaks_said_ahead: bool = False
    relogin_s: float = 300.0

    @property
    def max_count(self) -> int:
        return max([self.count, *(s.count for s in self.schedule)])


@dataclass(frozen=True)
class CampaignRules:
    pacing_mode: str = "predictive"
    abandon_target: float = 0.03
    max_attempts: int = 5
    retry_no_answer_s: int = 4 * 3600
    retry_busy_s: int = 30 * 60
    retry_machine_s: int = 6 * 3600
    max_lines: int | None = None
    lines_per_agent: float | None = None
    cps: float | None = None
    machine_action: str = "hangup"


@dataclass(frozen=True)
class Run:
    days: int = 1
    hours_per_day: float = 8.0
    start: datetime = datetime(2030, 1, 7, 9, 0)  # local wall time of the first day's start
    timezone: str = "America/New_York"
    tick_s: float = 1.0
    explain_every_s: float = 60.0


DEFAULT_DISPOSITIONS = (("SALE", 0.10), ("NI", 0.80), ("CALLBK", 0.05), ("DNC", 0.05))


@dataclass(frozen=True)
class Scenario:
    name: str = "base"
    description: str = ""
    seed: int = 1
    run: Run = field(default_factory=Run)
    outcomes: Outcomes = field(default_factory=Outcomes)
    answer: Answer = field(default_factory=Answer)
    talk: Mixture = field(default_factory=lambda: Mixture((Lognormal(0.35, 15.0, 0.6), Lognormal(0.65, 120.0, 0.8))))
    amd: Amd = field(default_factory=Amd)
    answering: Answering = field(default_factory=Answering)
    agents: Agents = field(default_factory=Agents)
    campaign: CampaignRules = field(default_factory=CampaignRules)
    list_size: int | None = None  # None: fresh leads never run out
    dispositions: tuple[tuple[str, float], ...] = DEFAULT_DISPOSITIONS
    callback_after_h: float = 24.0
    pacer: str = "predictive"
    pacer_settings: dict = field(default_factory=dict)
    source: str = "<defaults>"

    @property
    def max_lines(self) -> int | None:
        caps = [c for c in (self.campaign.max_lines,) if c is not None]
        if self.campaign.lines_per_agent is not None:
            caps.append(max(1, int(self.campaign.lines_per_agent * self.agents.max_count)))
        return min(caps) if caps else None
