"""What a simulation run produced: every call, every agent state interval, the pacer's sampled explanations,
and the headline figures (occupancy, abandon rate, waits) computed from them.

Times are seconds since the run's start (``t0``), NaN where a call never reached that stage. The arrays are
numpy columns so a 30-day run stays small and the benchmark can slice it by day or by agent.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import NamedTuple

import numpy as np

STAFFED = ("ready", "talking", "wrap")


class CallRecord(NamedTuple):
    id: int
    lead_id: int
    agent_id: int | None
    placed: float
    answered: float
    connected: float
    ended: float
    true_answered_by: str | None  # what really picked up: human, machine, or None (never answered)
    answered_by: str | None  # what detection said: human, machine, unknown
    outcome: str
    disposition: str | None


@dataclass
class CallTable:
    id: np.ndarray
    lead_id: np.ndarray
    agent_id: np.ndarray  # -1: no agent
    placed: np.ndarray
    answered: np.ndarray
    connected: np.ndarray
    ended: np.ndarray
    true_answered_by: np.ndarray  # "" when never answered
    answered_by: np.ndarray  # "" when never answered
    outcome: np.ndarray
    disposition: np.ndarray  # "" when none

    def __len__(self) -> int:
        return len(self.id)

    def records(self) -> Iterator[CallRecord]:
        for i in range(len(self.id)):
            agent = int(self.agent_id[i])
            yield CallRecord(int(self.id[i]), int(self.lead_id[i]), agent if agent >= 0 else None,
                             float(self.placed[i]), float(self.answered[i]), float(self.connected[i]),
                             float(self.ended[i]), self.true_answered_by[i] or None, self.answered_by[i] or None,
                             str(self.outcome[i]), self.disposition[i] or None)


@dataclass
class AgentIntervals:
    """One row per period an agent spent in a state other than offline."""

    agent_id: np.ndarray
    state: np.ndarray
    reason: np.ndarray  # pause reason code, "" otherwise
    start: np.ndarray
    end: np.ndarray

    def __len__(self) -> int:
        return len(self.agent_id)

    def seconds(self, *states: str) -> float:
        mask = np.isin(self.state, states)
        return float((self.end[mask] - self.start[mask]).sum())


@dataclass
class SimResult:
    scenario: str
    pacer: str
    pacer_settings: dict
    seed: int
    store: str
    t0: datetime
    days: list[tuple[float, float]]  # each day's dialing window, seconds since t0
    calls: CallTable
    agents: AgentIntervals
    explanations: list[tuple[float, dict]] = field(default_factory=list)
    wall_s: float = 0.0
    events: int = 0
    loop: dict = field(default_factory=dict)

    def summary(self) -> dict:
        """Headline figures: docs/pacing.md §4's metrics that a single run can give."""
        c = self.calls
        live = np.isin(c.outcome, ("completed", "abandoned"))  # campaigns.reports.metrics.is_live_answer
        abandoned = c.outcome == "abandoned"
        connected = ~np.isnan(c.connected)
        staffed_s = self.agents.seconds(*STAFFED)
        busy_s = self.agents.seconds("talking", "wrap")
        talk_s = self.agents.seconds("talking")
        hours = staffed_s / 3600
        waits = self._ready_waits()
        delay = (c.connected - c.answered)[connected & ~np.isnan(c.answered)]
        per_day = []
        for start, end in self.days:
            day = (c.placed >= start) & (c.placed < end + 3600)
            lives = int((live & day).sum())
            per_day.append(float((abandoned & day).sum()) / lives if lives else 0.0)
        return {
            "dials": len(c),
            "live_answers": int(live.sum()),
            "connected": int(connected.sum()),
            "abandoned": int(abandoned.sum()),
            "abandon_rate": _ratio(int(abandoned.sum()), int(live.sum())),
            "abandon_rate_worst_day": round(max(per_day), 5) if per_day else 0.0,
            "amd_hung_up_on_people": int(((c.true_answered_by == "human") & (c.outcome == "machine")).sum()),
            "agent_hours": round(hours, 2),
            "occupancy": _ratio(busy_s, staffed_s),
            "talk_min_per_agent_hour": round(talk_s / 60 / hours, 2) if hours else 0.0,
            "dials_per_agent_hour": round(len(c) / hours, 2) if hours else 0.0,
            "wait_p50_s": _q(waits, 0.5),
            "wait_p90_s": _q(waits, 0.9),
            "answer_to_agent_p50_s": _q(delay, 0.5),
            "answer_to_agent_p90_s": _q(delay, 0.9),
            "outcomes": {str(k): int(v) for k, v in zip(*np.unique(c.outcome, return_counts=True), strict=True)},
        }

    def _ready_waits(self) -> np.ndarray:
        """How long agents waited in ``ready`` before each call (ready periods that ended in a call)."""
        a = self.agents
        if not len(a):
            return np.array([])
        order = np.lexsort((a.start, a.agent_id))
        st, ag = a.state[order], a.agent_id[order]
        nxt_talk = np.zeros(len(order), dtype=bool)
        nxt_talk[:-1] = (st[1:] == "talking") & (ag[1:] == ag[:-1])
        mask = (st == "ready") & nxt_talk
        return (a.end[order] - a.start[order])[mask]

    def to_dict(self) -> dict:
        return {"scenario": self.scenario, "pacer": self.pacer, "pacer_settings": self.pacer_settings,
                "seed": self.seed, "store": self.store, "start": self.t0.isoformat(), "days": len(self.days),
                "calls": len(self.calls), "events": self.events, "wall_s": round(self.wall_s, 3),
                **self.summary(), "loop": self.loop}


def calls_to_columns(calls) -> dict[str, np.ndarray]:
    """``CallExport`` rows (the SQL store's export) as the columns the in-memory store's call log gives."""
    def col(f, dtype):
        return np.fromiter((f(c) for c in calls), dtype=dtype, count=len(calls))

    def text(f):
        return np.array([f(c) or "" for c in calls], dtype=str) if calls else np.array([], dtype="<U1")

    return {"id": col(lambda c: c.id, np.int64), "campaign": col(lambda c: c.campaign_id, np.int64),
            "lead": col(lambda c: -1 if c.lead_id is None else c.lead_id, np.int64),
            "agent": col(lambda c: -1 if c.agent_id is None else c.agent_id, np.int64),
            "placed": col(lambda c: c.placed, float), "answered": col(lambda c: c.answered, float),
            "connected": col(lambda c: c.connected, float), "ended": col(lambda c: c.ended, float),
            "answered_by": text(lambda c: c.answered_by), "outcome": text(lambda c: c.outcome),
            "disposition": text(lambda c: c.disposition)}


def events_to_columns(events) -> dict[str, np.ndarray]:
    """``AgentEvent`` rows (the SQL store's history) as the in-memory agent log's columns."""
    return {"seq": np.array([e.seq for e in events], dtype=np.int64),
            "agent": np.array([e.agent_id for e in events], dtype=np.int64),
            "state": np.array([e.state for e in events], dtype=str) if events else np.array([], dtype="<U1"),
            "reason": np.array([e.reason or "" for e in events], dtype=str) if events else np.array([], dtype="<U1"),
            "at": np.array([e.at.timestamp() for e in events], dtype=float)}


def intervals(ev: dict[str, np.ndarray], base: float, end_t: float) -> AgentIntervals:
    """Each agent state change opens a period that the agent's next change (or the run's end) closes; periods
    spent offline are left out."""
    order = np.lexsort((ev["seq"], ev["agent"]))
    agent, state, reason = ev["agent"][order], ev["state"][order], ev["reason"][order]
    start = ev["at"][order] - base
    end = np.full(len(order), float(end_t))
    same = agent[1:] == agent[:-1]
    end[:-1][same] = start[1:][same]
    keep = state != "offline"
    return AgentIntervals(agent_id=agent[keep], state=state[keep].astype("<U7"), reason=reason[keep].astype("<U16"),
                          start=start[keep], end=end[keep])


def _ratio(a: float, b: float) -> float:
    return round(a / b, 5) if b else 0.0


def _q(values: np.ndarray, q: float) -> float | None:
    return round(float(np.quantile(values, q)), 2) if len(values) else None
