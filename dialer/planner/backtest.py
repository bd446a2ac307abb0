"""Back-test of the planner: a simulated campaign with a known truth, fitted on its first days, planned after.

The truth runs in the simulator for every day; its calls of the first ``fit_days`` and its leads as they stood
the morning after are written into a real database the way the product stores them. The planner then measures
that history like any campaign's and plans the remaining days with the schedule the truth really had; the
report sets its contacts, closes and list-dry day beside the truth's.
"""

from __future__ import annotations

import math
import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import numpy as np
from sqlalchemy import insert, select
from sqlalchemy.orm import Session, sessionmaker

from campaigns.agents.service import create_agent
from campaigns.campaign.models import Campaign
from campaigns.campaign.service import CampaignSettings, create_campaign
from campaigns.db import session_scope
from campaigns.dispatch.models import Call
from campaigns.leads.models import Lead, LeadList
from dialer.loop.pacers import named_pacer
from dialer.planner.service import read_basis, what_if
from dialer.planner.whatif import Schedule, _close_share, _PlanSimulation, dry_threshold
from dialer.sim.result import SimResult
from dialer.sim.runner import day_windows
from dialer.sim.scenario import Agents, Answering, CampaignRules, Run, Scenario
from dialer.sim.world import MemoryWorld, agent_name, phone_of
from dnc.errors import UserError

CAMPAIGN = "Back-test"


def truth_scenario(agents: int = 20, hours: int = 6, days: int = 8, list_size: int = 12_000) -> Scenario:
    """A campaign whose true behaviour is known: the base mix with an hour-of-day curve and retries."""
    return Scenario(name="backtest-truth", run=Run(days=days, hours_per_day=hours,
                                                    start=datetime(2030, 3, 4, 9, 0), timezone="America/Chicago"),
                    agents=Agents(count=agents), answering=Answering(curve=((12.0, 0.85), (13.0, 1.1)),
                                                                     retry_decay=0.8),
                    campaign=CampaignRules(max_attempts=4, retry_no_answer_s=3 * 3600, retry_busy_s=1800,
                                           retry_machine_s=4 * 3600),
                    list_size=list_size, pacer="predictive")


class _TruthSimulation(_PlanSimulation):
    """The plan's simulation, also keeping each morning's leads (the state a planner would start from); its loop
    turns as the benchmark simulator's does (the truth is the product, not the plan)."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, paced=False, **kwargs)
        self.mornings: list[dict[int, tuple]] = []

    def _open(self, start: float, end: float) -> None:
        self.mornings.append({lead.id: (lead.status, lead.attempts, lead.next_attempt_at, lead.last_outcome,
                                        lead.last_called_at, lead.callback_at)
                              for lead in self.world.store.leads.values()})
        super()._open(start, end)


def run_truth(scenario: Scenario, seed: int = 7) -> tuple[SimResult, _TruthSimulation]:
    settings = {"target_abandon_rate": scenario.campaign.abandon_target}
    t0, _ = day_windows(scenario)
    sim = _TruthSimulation(scenario, seed, MemoryWorld(scenario, t0), named_pacer(scenario.pacer, settings))
    sim.run()
    return sim.result(scenario.pacer, settings, 0.0), sim


@dataclass(frozen=True)
class TruthRun:
    """What a back-test keeps of one truth run (plain data, so it crosses processes): its calls, its days, the
    leads as they stood each morning and the leads left each evening."""

    seed: int
    result: SimResult
    days: list
    mornings: list
    leads_left: list


def truth_run(scenario: Scenario, seed: int) -> TruthRun:
    result, sim = run_truth(scenario, seed)
    return TruthRun(seed, result, sim.days, sim.mornings, sim.leads_left)


def write_history(sessions: sessionmaker[Session], scenario: Scenario, result: SimResult,
                  sim: _TruthSimulation | TruthRun, fit_days: int, name: str = CAMPAIGN) -> datetime:
    """Store the truth's first ``fit_days`` as campaign ``name``, as the product would have; returns the morning
    after (the "now")."""
    t0 = result.t0
    cutoff = sim.days[fit_days][0]  # the next morning's start: every call of the fitted days has ended
    morning = sim.mornings[fit_days]
    with session_scope(sessions) as s:
        if s.scalar(select(Campaign.id).where(Campaign.name == name)) is not None:
            raise UserError(f"a campaign named {name!r} already exists; use an empty database")
        c = create_campaign(s, name, "+12125550123", t0, CampaignSettings(timezone=scenario.run.timezone,
                                                                             max_attempts=scenario.campaign.max_attempts))
        c.retry_no_answer_s, c.retry_busy_s = scenario.campaign.retry_no_answer_s, scenario.campaign.retry_busy_s
        c.retry_machine_s, c.status = scenario.campaign.retry_machine_s, "paused"
        lst = LeadList(campaign_id=c.id, name="back-test list", sha256="1" * 64, uploaded_at=t0,
                       rows=scenario.list_size, accepted=scenario.list_size)
        s.add(lst)
        s.flush()
        prefix = "" if name == CAMPAIGN else f"{name} "
        agents = {i + 1: create_agent(s, prefix + agent_name(i), t0, campaign=c, simulated=True).id
                  for i in range(scenario.agents.max_count)}
        size = scenario.list_size or 0
        for lo in range(0, size, 5000):
            rows = []
            for i in range(lo, min(size, lo + 5000)):
                status, attempts, nxt, last, called, cb = morning.get(i + 1, ("new", 0, None, None, None, None))
                rows.append({"campaign_id": c.id, "list_id": lst.id, "line": i + 2, "phone": phone_of(i),
                             "custom": {}, "status": status, "attempts": attempts, "next_attempt_at": nxt,
                             "last_outcome": last, "last_called_at": called, "callback_at": cb,
                             "created_at": t0, "updated_at": t0})
            s.execute(insert(Lead), rows)
        ids = dict(s.execute(select(Lead.line, Lead.id).where(Lead.list_id == lst.id)).all())
        _write_calls(s, c.id, lst.id, ids, agents, result, cutoff)
    return (t0 + timedelta(seconds=cutoff)).astimezone(UTC) - timedelta(minutes=1)


def _write_calls(s: Session, campaign_id: int, list_id: int, lead_ids: dict[int, int], agents: dict[int, int],
                 result: SimResult, cutoff: float) -> None:
    c, a = result.calls, result.agents
    wrap_end = {(int(ag), round(float(st), 3)): float(en)
                for ag, state, st, en in zip(a.agent_id, a.state, a.start, a.end, strict=True) if state == "wrap"}
    base = result.t0
    attempts: dict[int, int] = {}

    def at(x: float) -> datetime | None:
        return None if math.isnan(x) else base + timedelta(seconds=float(x))

    order = np.argsort(c.placed, kind="stable")
    rows = []
    for i in order:
        if not c.ended[i] < cutoff:
            continue
        lead = int(c.lead_id[i])
        attempts[lead] = attempts.get(lead, 0) + 1
        agent = int(c.agent_id[i])
        done = None
        if agent >= 0 and not math.isnan(c.connected[i]):
            done = at(wrap_end.get((agent, round(float(c.ended[i]), 3)), float(c.ended[i]) + 12.0))
        rows.append({"campaign_id": campaign_id, "lead_id": lead_ids[lead + 1], "list_id": list_id,
                     "phone": phone_of(lead - 1), "attempt": attempts[lead], "provider": "sim", "status": "ended",
                     "placed_at": at(c.placed[i]), "answered_at": at(c.answered[i]),
                     "answered_by": c.answered_by[i] or None, "connected_at": at(c.connected[i]),
                     "agent_id": agents.get(agent), "ended_at": at(c.ended[i]), "outcome": str(c.outcome[i]),
                     "disposition_code": c.disposition[i] or None, "dispositioned_at": done})
        if len(rows) >= 5000:
            s.execute(insert(Call), rows)
            rows = []
    if rows:
        s.execute(insert(Call), rows)


def truth_by_day(scenario: Scenario, result: SimResult, sim: _TruthSimulation | TruthRun) -> list[dict]:
    c = result.calls
    out = []
    for d, (start, end) in enumerate(sim.days):
        day = (c.placed >= start) & (c.placed < end)
        edges = np.arange(start, end + 1, 3600.0)
        contacts = c.placed[day & ~np.isnan(c.connected)]
        people = int((day & ~np.isnan(c.connected) & (c.true_answered_by == "human")).sum())
        out.append({"day": (scenario.run.start + timedelta(days=d)).date().isoformat(),
                    "contacts": int(len(contacts)), "contacts_by_hour": np.histogram(contacts, edges)[0].tolist(),
                    "closes": int((day & (c.disposition == "SALE")).sum()),
                    "closes_expected": round(people * _close_share(scenario), 1), "leads_left": sim.leads_left[d]})
    return out


def backtest(sessions: sessionmaker[Session], *, agents: int = 20, hours: int = 6, days: int = 8,
             fit_days: int = 5, list_size: int = 12_000, seeds: int = 4, seed: int = 7,
             truth_seeds: int = 4, fit_seeds: int = 1) -> dict:
    """Fit on the truth's first ``fit_days``, plan the rest with the real schedule, compare.

    ``truth_seeds`` runs with the same parameters (seeds ``seed``, ``seed + 1`` …) give the truth's expectation
    (their mean) and its spread. The first ``fit_seeds`` of them are each stored, measured and planned as a
    campaign of its own: one fitted history carries its own luck (a close share or a retry decay a few per cent
    off: the sampling error of a few thousand contacts), so the planner's error is the mean of the plans against
    the truth's mean, and the plans' spread shows what one history's luck does to a plan. Each plan is also set
    beside the run it was fitted on (what that campaign really did next, its luck included).
    """
    if not 1 <= fit_days < days:
        raise UserError("fit days must be at least 1 and fewer than the days simulated")
    if not 1 <= truth_seeds <= 16:
        raise UserError("truth seeds must be between 1 and 16")
    if not 1 <= fit_seeds <= truth_seeds:
        raise UserError("fit seeds must be between 1 and the truth seeds")
    scenario = truth_scenario(agents, hours, days, list_size)
    context = multiprocessing.get_context("forkserver")
    with ProcessPoolExecutor(max_workers=os.cpu_count() or 1, mp_context=context) as pool:
        truths = list(pool.map(truth_run, [scenario] * truth_seeds, range(seed, seed + truth_seeds)))
    runs = [truth_by_day(scenario, t.result, t) for t in truths]
    first = (scenario.run.start + timedelta(days=fit_days)).date()
    schedule = Schedule(first, days - fit_days, tuple((9 + h, agents) for h in range(hours)))
    fits = []
    for k, truth in enumerate(truths[:fit_seeds]):
        name = CAMPAIGN if k == 0 else f"{CAMPAIGN} {truth.seed}"
        now = write_history(sessions, scenario, truth.result, truth, fit_days, name)
        with session_scope(sessions) as s:
            basis = read_basis(s, name, now, days=fit_days + 1)
        # each fit's plan its own seeds: the same seeds would draw the same customers at the same places of every
        # fit's list, so their luck would not average out over the fits (seeds 1-2 made on average 5 % more
        # second-hour contacts than seeds 3-4, on every one of ten 25-agent mornings)
        plan = what_if(basis, schedule, seeds, first_seed=1 + k * seeds)["plans"][0]
        fits.append({"seed": truth.seed, "basis": basis, "plan": plan, "run": runs[k],
                     "plan_seeds": list(range(1 + k * seeds, 1 + (k + 1) * seeds))})
    compared = [_compare_day(d, fits, runs) for d in range(fit_days, days)]
    threshold = dry_threshold(fits[0]["basis"].inputs.callable_leads)  # 1 % of the leads the plan starts with
    dry_runs = [next((r[d]["day"] for d in range(fit_days, days) if r[d]["leads_left"] <= threshold), None)
                for r in runs]
    return {"agents": agents, "hours_per_day": hours, "fit_days": fit_days, "planned_days": days - fit_days,
            "list_size": list_size, "seeds": seeds, "truth_seeds": truth_seeds, "fit_seeds": fit_seeds,
            "inputs": fits[0]["basis"].inputs.as_dict(), "fit": fit_report(scenario, fits[0]["basis"].inputs),
            "fits": [{"seed": f["seed"], "fit": fit_report(scenario, f["basis"].inputs),
                      "dials": f["basis"].inputs.dials, "dry_plan": f["plan"]["dry"],
                      "plan_seeds": f["plan_seeds"]} for f in fits],
            "days": compared, "dry_truth_runs": dry_runs, "dry_plan": fits[0]["plan"]["dry"],
            "dry_threshold": threshold}


def _compare_day(d: int, fits: list[dict], runs: list[list[dict]]) -> dict:
    """One planned day: the plans (each fitted history's mean over its seeds; their mean and range) beside the
    truth runs (their mean and range) and beside the run each plan was fitted on."""
    row = {"day": runs[0][d]["day"]}
    for key in ("contacts", "closes", "leads_left"):
        plans = np.array([_plan_day(f, row["day"])[key]["mean"] for f in fits], dtype=float)
        own = np.array([f["run"][d][key] for f in fits], dtype=float)
        values = np.array([r[d][key] for r in runs], dtype=float)
        mean = float(values.mean())
        row[key] = {"plan": {"mean": round(float(plans.mean()), 1), "min": float(plans.min()),
                             "max": float(plans.max()), "fits": plans.tolist()},
                    "fitted_runs": own.tolist(),
                    "truth": {"mean": round(mean, 1), "min": float(values.min()), "max": float(values.max())},
                    "error_vs_fitted_runs": _err(float(plans.mean()), float(own.mean())),
                    "error_vs_truth": _err(float(plans.mean()), mean)}
    # the truth's expected closes: its runs' people reached × its close share (the closes counted in a few runs
    # carry each contact's coin besides: ±13 % a day on an 8-agent floor)
    expected = float(np.mean([r[d]["closes_expected"] for r in runs]))
    row["closes"]["truth_expected"] = round(expected, 1)
    row["closes"]["error_vs_truth_expected"] = _err(row["closes"]["plan"]["mean"], expected)
    runs_hours = np.array([r[d]["contacts_by_hour"] for r in runs], dtype=float)
    fits_hours = np.array([[h["contacts"]["mean"] for h in f["plan"]["hourly"] if h["day"] == row["day"]]
                           for f in fits], dtype=float)
    hourly, plan_hours = runs_hours.mean(axis=0), fits_hours.mean(axis=0)
    # each fit's hours and each truth run's beside the means: one history's luck, and the truth's own, by the hour
    row["contacts_by_hour"] = {"plan": [round(float(x), 1) for x in plan_hours],
                               "truth": [round(float(x), 1) for x in hourly],
                               "plan_fits": fits_hours.round(1).tolist(), "truth_runs": runs_hours.tolist(),
                               "error_vs_truth": [_err(float(p), float(t)) for p, t in zip(plan_hours, hourly,
                                                                                          strict=True)]}
    return row


def _plan_day(fit: dict, day: str) -> dict:
    return next(row for row in fit["plan"]["daily"] if row["day"] == day)


def fit_report(scenario: Scenario, inputs) -> dict:
    """The fitted inputs beside the truth's generating parameters (the live share among numbers in service is
    what a person answering before the ring timeout gives)."""
    from dialer.planner.whatif import _answered_in_time

    o, a = scenario.outcomes, scenario.answering
    true_first = o.live / (1 - o.sit) * _answered_in_time(scenario.answer)
    factors = {h: row.get("factor") for h, row in inputs.by_hour.items()}
    true_factors = {h: _curve_at(a.curve, h) for h in factors}
    return {"live_first": [inputs.live_first, round(true_first, 4)], "dead_first": [inputs.dead_first, o.sit],
            "refail": [inputs.refail, 1.0], "retry_decay": [inputs.retry_decay, a.retry_decay],
            "live_on_attempt": [inputs.live_on_attempt,
                                {k: round(true_first * a.retry_decay ** (k - 1), 4) for k in inputs.live_on_attempt}],
            "hour_factors": [factors, true_factors],
            "talk_mean_s": [inputs.talk.mean_s if inputs.talk else None, round(scenario.talk.mean_s, 2)],
            "wrap_mean_s": [inputs.wrap.mean_s if inputs.wrap else None, round(scenario.agents.wrap.mean_s, 2)],
            "close_share": [inputs.dispositions.get("close"), dict(scenario.dispositions).get("SALE"),
                            _standard_error(inputs.dispositions.get("close"), inputs.contacts)],
            "contacts": inputs.contacts}


def _standard_error(share: float | None, n: int) -> float | None:
    """The sampling error of a share measured on ``n`` trials (what one history's luck moves it by, 1 σ)."""
    return round(math.sqrt(share * (1 - share) / n), 4) if share is not None and n > 0 else None


def _curve_at(curve: tuple[tuple[float, float], ...], hour: int) -> float:
    factor = 1.0
    for h, f in curve:
        if hour >= h:
            factor = f
    return factor


def _err(plan: float, truth: float) -> float | None:
    return round((plan - truth) / truth, 4) if truth else None
