"""A plan for one campaign: measured inputs, the what-if per pacing mode, and the fewest agents for a goal.

The database is read once, up front, inside the caller's session; the simulations then run on plain data in
other processes, so a plan never holds a transaction (or SQLite's write lock) while it computes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

import numpy as np
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from campaigns.campaign.models import Campaign
from campaigns.dispatch.models import Call
from campaigns.reports.history import abandon_history_placed
from dialer.planner import DEFAULT_SEEDS
from dialer.planner.inputs import Inputs, measure
from dialer.planner.whatif import Schedule, scenario_for, simulate, summarise
from dialer.planner.world import Start, read_queue
from dnc.errors import UserError

GOALS = ("contacts_per_day", "occupancy", "list_done_by")
CAMPAIGN_RULES = ("pacing_mode", "power_ratio", "abandon_target", "max_attempts", "retry_no_answer_s",
                  "retry_busy_s", "retry_machine_s", "max_lines", "machine_action")


@dataclass(frozen=True)
class Basis:
    """Everything a plan needs from the database, read in one go."""

    inputs: Inputs
    campaign: dict
    history_30d: tuple[int, int]  # live answers and abandons of the last 30 days (the legal window)
    start: Start | None = None  # the list as it stands and the 30-day ledger by placement time (None: a fresh list)

    def start_for(self) -> Start | None:
        """The plan's start, with the list cut or padded with fresh leads to the (overridable) leads left."""
        if self.start is None:
            return None
        n = self.inputs.callable_leads
        if n == len(self.start.queue):
            return self.start
        return replace(self.start, queue=self.start.queue.resized(n, self.inputs.until))


def read_basis(session: Session, campaign_name: str, now: datetime, days: int = 14,
               overrides: dict | None = None) -> Basis:
    """Measure the campaign and apply the manager's ``overrides`` (for example ``{"live": 0.3}``)."""
    inputs = measure(session, campaign_name, now, days)
    c = session.scalar(select(Campaign).where(Campaign.name == campaign_name))
    rules = {k: getattr(c, k) for k in CAMPAIGN_RULES}
    since = now - timedelta(days=30)
    live, ab = session.execute(select(
        func.count().filter(Call.outcome.in_(("completed", "abandoned"))),
        func.count().filter(Call.outcome == "abandoned"))
        .where(Call.campaign_id == c.id, Call.placed_at >= since, Call.placed_at < now)).one()
    apply_overrides(inputs, overrides or {})
    hist_live, hist_abandoned = abandon_history_placed(session, c.id, now)
    start = Start(read_queue(session, c.id), refail=inputs.refail if inputs.refail is not None else 1.0,
                  fail_later=inputs.fail_later or 0.0, history_live=np.array(hist_live),
                  history_abandoned=np.array(hist_abandoned), attempt_factors=inputs.attempt_factors())
    return Basis(inputs, rules, (int(live or 0), int(ab or 0)), start)


OVERRIDABLE = {"live", "machine", "no_answer", "busy", "talk_mean_s", "wrap_mean_s", "callable_leads",
               "retry_decay", "close_share"}


def apply_overrides(inputs: Inputs, overrides: dict) -> None:
    """Replace measured figures by the manager's: shares as fractions, durations in seconds."""
    for key, value in overrides.items():
        if key not in OVERRIDABLE:
            raise UserError(f"cannot override {key!r}; choose from {', '.join(sorted(OVERRIDABLE))}")
        if not math.isfinite(value):  # 1e400, inf, nan: no figure, and int() of one raises
            raise UserError(f"{key}: {value!r} is not a finite number")
        if key in ("live", "machine", "no_answer", "busy"):
            if not 0 <= value <= 1:
                raise UserError(f"{key} is a share of dials between 0 and 1")
            if key == "live" and inputs.live_first is not None and inputs.shares.get("live"):
                scale = float(value) / inputs.shares["live"]  # every attempt answers that much more or less
                inputs.live_first = min(0.98, inputs.live_first * scale)
                inputs.live_on_attempt = {k: min(0.98, v * scale) for k, v in inputs.live_on_attempt.items()}
            inputs.shares = {**inputs.shares, key: float(value)}
        elif key in ("talk_mean_s", "wrap_mean_s"):
            fit = inputs.talk if key == "talk_mean_s" else inputs.wrap
            if fit is None or value <= 0:
                raise UserError(f"{key} needs a measured distribution to rescale and a value > 0")
            scale = value / fit.mean_s
            comps = tuple((w, round(m * scale, 2), s) for w, m, s in fit.components)
            rescaled = type(fit)(comps, float(value), fit.samples)
            if key == "talk_mean_s":
                inputs.talk = rescaled
            else:
                inputs.wrap = rescaled
        elif key == "callable_leads":
            inputs.callable_leads = int(value)
        elif key == "retry_decay":  # the manager's decay replaces the attempts' own shares too
            inputs.retry_decay, inputs.live_on_attempt = float(value), {}
        else:
            inputs.dispositions = {**inputs.dispositions, "close": float(value)}
    if inputs.shares and sum(inputs.shares.get(k, 0) for k in ("live", "machine", "no_answer", "busy")) > 1:
        raise UserError("live, machine, no-answer and busy shares add up to more than 100 %")


def what_if(basis: Basis, schedule: Schedule, seeds: int = DEFAULT_SEEDS, pacers: tuple[str, ...] = (),
            first_seed: int = 1) -> dict:
    """The plan for ``schedule``, once per pacing mode asked for (the campaign's own when none is)."""
    modes = pacers or (None,)
    out = {"campaign": basis.inputs.campaign, "timezone": basis.inputs.timezone, "seeds": seeds, "plans": []}
    for pacer in modes:
        scenario = scenario_for(basis.inputs, schedule, basis.campaign, pacer)
        runs = simulate(scenario, seeds, start=basis.start_for(), first_seed=first_seed)
        out["plans"].append({"pacer": scenario.pacer, **summarise(scenario, runs, basis.history_30d)})
    return out


def fewest_agents(basis: Basis, schedule: Schedule, goal: str, value: float, seeds: int = DEFAULT_SEEDS,
                  max_agents: int = 1000) -> dict:
    """The smallest flat head count over the schedule's hours that meets ``goal`` at <= the abandon target."""
    if goal not in GOALS:
        raise UserError(f"goal must be one of {', '.join(GOALS)}")
    target = basis.campaign["abandon_target"]

    def meets(n: int) -> tuple[bool, dict]:
        plan = what_if(basis, schedule.flat(n), seeds)["plans"][0]
        days = plan["daily"]
        ok_abandon = all(d["abandon"]["mean"] <= target for d in days)
        if goal == "contacts_per_day":
            ok = min(d["contacts"]["mean"] for d in days) >= value
        elif goal == "occupancy":
            ok = min(d["occupancy"]["mean"] for d in days) >= value
        else:
            dry = plan["dry"]["date"]
            ok = dry is not None and not plan["dry"]["projected"] and dry <= str(value)
        return ok and ok_abandon, plan

    lo, hi = 0, _first_guess(basis, schedule, goal, value)
    ok, plan = meets(hi)
    while not ok:
        if hi >= max_agents:
            raise UserError(f"no staffing up to {max_agents} agents meets that goal within the abandon target")
        lo, hi = hi, min(max_agents, hi * 2)
        ok, plan = meets(hi)
    best = plan
    while hi - lo > 1:
        mid = (lo + hi) // 2
        ok, p = meets(mid)
        if ok:
            hi, best = mid, p
        else:
            lo = mid
    return {"goal": goal, "value": value, "agents": hi, "plan": best}


def _first_guess(basis: Basis, schedule: Schedule, goal: str, value: float) -> int:
    """An opening bracket from the fluid model: contacts an agent handles in an hour at 90 % occupancy."""
    i = basis.inputs
    handle = (i.talk.mean_s if i.talk else 120.0) + (i.wrap.mean_s if i.wrap else 15.0)
    hours = len(schedule.hours)
    if goal == "contacts_per_day":
        return max(1, math.ceil(value * handle / (0.9 * 3600 * hours)))
    return max(1, max(n for _, n in schedule.hours))
