"""docs/pacing.md §4's metrics for one simulated run, with the product's own metric definitions.

Every ratio goes through ``campaigns.reports.metrics`` (occupancy = (talk + wrap) ÷ staffed non-paused time; abandon
rate = abandoned ÷ live answers; per agent-hour = ÷ logged-in hours), so the benchmark, the reports and the pacer's
budget cannot disagree on what a number means. Distributions (agent waits, answer-to-agent delay) are kept as
arrays so several seeds can be pooled before taking quantiles.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from campaigns.reports import metrics
from dialer.sim import SimResult

STAFFED = ("ready", "talking", "wrap")
LOGGED_IN = ("ready", "talking", "wrap", "paused")


@dataclass
class RunMetrics:
    """One run's figures (scalars) and its raw distributions (for pooling across seeds)."""

    scenario: str
    pacer: str
    seed: int
    figures: dict
    waits: np.ndarray  # seconds an agent sat ready before each call it took
    delays: np.ndarray  # seconds from a live answer to its agent

    def to_dict(self) -> dict:
        return {"scenario": self.scenario, "pacer": self.pacer, "seed": self.seed, **self.figures}


def ready_waits(result: SimResult) -> np.ndarray:
    """Lengths of the ready periods that ended with the agent taking a call (its wait between calls)."""
    a = result.agents
    if not len(a):
        return np.array([])
    order = np.lexsort((a.start, a.agent_id))
    state, agent = a.state[order], a.agent_id[order]
    took_call = np.zeros(len(order), dtype=bool)
    took_call[:-1] = (state[1:] == "talking") & (agent[1:] == agent[:-1])
    mask = (state == "ready") & took_call
    return (a.end[order] - a.start[order])[mask]


def day_rates(result: SimResult, live: np.ndarray, abandoned: np.ndarray) -> list[float]:
    """Abandon rate of each day (calls placed that day, plus the hour after its close for stragglers)."""
    out = []
    for start, end in result.days:
        day = (result.calls.placed >= start) & (result.calls.placed < end + 3600)
        rate = metrics.abandon_rate(int((abandoned & day).sum()), int((live & day).sum()))
        if rate is not None:
            out.append(rate)
    return out


WINDOW_S = 30 * 86_400.0  # the rule's window (docs/pacing.md §0)


def worst_running_rate(placed: np.ndarray, abandoned: np.ndarray, target: float) -> float:
    """The highest 30-day abandon rate the campaign showed at any moment of the run, not only at the day's end.

    A campaign may be stopped, or its rate read, at any time; a pacer that overshoots early and recovers by evening
    has a fine day rate and still broke the cap for hours. ``placed`` are the live answers' placement times and
    ``abandoned`` which of them were abandoned; the rate is read after each live answer, over the calls placed in the
    30 days before it, once there are at least 1/target of them (before that a single abandon is over the target
    whatever the pacer does, so the reading says nothing about the pacer)."""
    if not len(placed) or target <= 0.0:
        return 0.0
    order = np.argsort(placed, kind="stable")
    t = placed[order]
    lives = np.arange(1, len(t) + 1)
    abandons = np.cumsum(abandoned[order])
    j = np.searchsorted(t, t - WINDOW_S, side="left")  # first live answer still inside each one's window
    n = lives - j
    a = abandons - np.concatenate([[0], abandons])[j]
    ok = n >= int(np.ceil(1.0 / target - 1e-9))
    return float((a[ok] / n[ok]).max()) if ok.any() else 0.0


def run_metrics(result: SimResult, scenario: str, target: float) -> RunMetrics:
    c = result.calls
    connected = ~np.isnan(c.connected)
    live = np.array([metrics.is_live_answer(o or None, bool(k)) for o, k in zip(c.outcome, connected, strict=True)],
                    dtype=bool)
    abandoned = c.outcome == "abandoned"
    ag = result.agents
    talk_s, wrap_s = ag.seconds("talking"), ag.seconds("wrap")
    staffed_s, logged_s = ag.seconds(*STAFFED), ag.seconds(*LOGGED_IN)
    rate = metrics.abandon_rate(int(abandoned.sum()), int(live.sum())) or 0.0
    days = day_rates(result, live, abandoned)
    answered = connected & ~np.isnan(c.answered)
    delays = (c.connected - c.answered)[answered]
    waits = ready_waits(result)
    figures = {
        "occupancy": metrics.occupancy(talk_s, wrap_s, staffed_s) or 0.0,
        "talk_min_per_agent_hour": metrics.per_agent_hour(talk_s / 60.0, logged_s) or 0.0,
        "abandon_rate": rate,
        "abandon_rate_worst_day": max(days) if days else 0.0,
        "abandon_rate_worst_running": worst_running_rate(c.placed[live], abandoned[live], target),
        "days_over_target": sum(1 for d in days if d > target + 1e-12),
        "days": len(days),
        "over_target": rate > target + 1e-12,
        "over_3pct": rate > 0.03 + 1e-12,
        "dials_per_agent_hour": metrics.per_agent_hour(len(c), logged_s) or 0.0,
        "connects_per_agent_hour": metrics.per_agent_hour(int(connected.sum()), logged_s) or 0.0,
        "agent_wait_mean_s": metrics.agent_wait(ag.seconds("ready"), int(connected.sum())),
        "agent_wait_p50_s": _q(waits, 0.5),
        "agent_wait_p90_s": _q(waits, 0.9),
        "answer_to_agent_p50_s": _q(delays, 0.5),
        "answer_to_agent_p90_s": _q(delays, 0.9),
        "amd_hung_up_on_people": int(((c.true_answered_by == "human") & (c.outcome == "machine")).sum()),
        "dials": len(c),
        "live_answers": int(live.sum()),
        "abandoned": int(abandoned.sum()),
        "agent_hours": metrics.agent_hours(logged_s),
        "wall_s": result.wall_s,
    }
    return RunMetrics(scenario, result.pacer, result.seed, figures, waits, delays)


def _q(values: np.ndarray, q: float) -> float | None:
    return float(np.quantile(values, q)) if len(values) else None
