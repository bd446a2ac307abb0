"""Outbound what-if: run the real dial loop in the simulator on a campaign's measured inputs and a schedule.

No formula fits outbound staffing (answer rates, retries, calling windows and the pacer decide), so the plan is
the simulator's: several seeds in parallel processes, each the same loop and pacer the campaign runs, and the
spread between seeds shown beside the mean. ``fewest_agents`` inverts it by bisection on a flat staffing level.
"""

from __future__ import annotations

import math
import multiprocessing
import os
import re
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np

from dialer.loop.memory import CALLABLE_STATUSES
from dialer.loop.pacers import named_pacer
from dialer.pacing import kernel
from dialer.planner import DEFAULT_SEEDS
from dialer.planner.inputs import Inputs
from dialer.planner.turns import PacedTurns
from dialer.planner.world import PlanCustomers, PlanWorld, Start
from dialer.sim.runner import day_windows
from dialer.sim.scenario import (
    Agents,
    Answer,
    Answering,
    CampaignRules,
    Lognormal,
    Mixture,
    Outcomes,
    Run,
    Scenario,
    Shift,
)
from dialer.sim.world import MemoryWorld
from dnc.errors import UserError

MIN_HOUR_DIALS = 50  # an hour-of-day factor needs at least this many dials behind it
WARMUP_S = 1800.0  # the plan's pacer first dials this long on the same floor and list (see _warm_pacer)
WARMUP_BEFORE = timedelta(days=31)  # ... this long before the plan: outside the 30-day window of its budget
PROCS_PER_CPU = 4  # simulate: at most this many seeds' processes share a CPU
PACERS_BY_MODE = {"predictive": "predictive", "progressive": "progressive", "power": "power"}


@dataclass(frozen=True)
class Schedule:
    """Agents per local hour of each planned day: ``hours`` maps the hour's start (0-23) to a head count."""

    first_day: date
    days: int
    hours: tuple[tuple[int, int], ...]

    @property
    def start_hour(self) -> int:
        return self.hours[0][0]

    @property
    def end_hour(self) -> int:
        return self.hours[-1][0] + 1

    def flat(self, agents: int) -> Schedule:
        return replace(self, hours=tuple((h, agents) for h, _ in self.hours))


def parse_schedule(text: str, first_day: date, days: int = 1) -> Schedule:
    """``"9-12:20,12-17:25"``: 20 agents from 9:00 to 12:00, 25 from 12:00 to 17:00 (local, every day)."""
    if not 1 <= days <= 31:
        raise UserError("days must be between 1 and 31")
    hours: dict[int, int] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        m = re.fullmatch(r"(\d{1,2})(?::00)?-(\d{1,2})(?::00)?\s*[:=]\s*(\d{1,4})", part)
        if not m:
            raise UserError(f"schedule: {part!r} is not FROM-TO:AGENTS (for example 9-17:20)")
        lo, hi, n = int(m[1]), int(m[2]), int(m[3])
        if not 0 <= lo < hi <= 24:
            raise UserError(f"schedule: {part!r}: hours run from 0 to 24 and FROM comes before TO")
        for h in range(lo, hi):
            if h in hours:
                raise UserError(f"schedule: hour {h}:00 is given twice")
            hours[h] = n
    if not hours:
        raise UserError("schedule: give at least one FROM-TO:AGENTS range")
    ordered = sorted(hours)
    filled = tuple((h, hours.get(h, 0)) for h in range(ordered[0], ordered[-1] + 1))
    if max(n for _, n in filled) == 0:
        raise UserError("schedule: nobody is staffed")
    return Schedule(first_day, days, filled)


def scenario_for(inputs: Inputs, schedule: Schedule, campaign: dict, pacer: str | None = None) -> Scenario:
    """The simulator's scenario for these inputs: measured shares, curves and durations, the campaign's rules."""
    if inputs.dials < 100 or inputs.talk is None:
        raise UserError(f"campaign {inputs.campaign!r} has {inputs.dials} finished dials in the chosen days; "
                        "a plan needs at least 100 (widen the history or give the inputs yourself)")
    if inputs.callable_leads <= 0:
        raise UserError(f"campaign {inputs.campaign!r} has no leads left to dial")
    s = dict(inputs.shares)
    ring = inputs.ring_s
    answer = Answer(pdd_s=ring.get("pdd_s", 2.0), human_mean_s=max(0.5, ring.get("mean_s", 8.0)),
                    human_shape=ring.get("shape", 2.0))
    if inputs.live_first is not None:
        # The simulator draws dead numbers per lead (world.PlanCustomers), decays the live share on each retry
        # itself and lets a person who answers after the ring timeout go unanswered; so it takes a first attempt's
        # live share among numbers in service, before that timeout: the history's mix over attempts, its dead
        # numbers and its timeouts would otherwise each be counted twice.
        dead = inputs.dead_first if inputs.dead_first is not None else s["failed"]
        live_alive = min(0.98, inputs.live_first / max(0.5, _answered_in_time(answer)))
        rest = s["machine"] + s["no_answer"] + s["busy"]
        live = live_alive * (1 - dead)
        scale = (1 - dead - live) / rest if rest > 0 else 0.0
        s.update(live=live, machine=s["machine"] * scale, no_answer=s["no_answer"] * scale, busy=s["busy"] * scale)
    failed = max(0.0, 1.0 - s["live"] - s["machine"] - s["no_answer"] - s["busy"])
    outcomes = Outcomes(live=s["live"], machine=s["machine"], no_answer=s["no_answer"], busy=s["busy"], sit=failed)
    curve = tuple((float(h), row.get("factor", round(row["live"] / inputs.shares["live"], 4)))
                  for h, row in inputs.by_hour.items()
                  if row["dials"] >= MIN_HOUR_DIALS and inputs.shares["live"] > 0)
    wrap = inputs.wrap or None
    agents = Agents(count=schedule.hours[0][1],
                    schedule=tuple(Shift(float(h - schedule.start_hour), n) for h, n in schedule.hours[1:]),
                    wrap=_mixture(wrap) if wrap else Agents().wrap)
    d = inputs.dispositions
    other = max(0.0, 1.0 - d.get("close", 0) - d.get("dnc", 0) - d.get("callback", 0))
    dispositions = tuple((code, w) for code, w in (("SALE", d.get("close", 0.0)), ("NI", other),
                                                   ("CALLBK", d.get("callback", 0.0)), ("DNC", d.get("dnc", 0.0)))
                         if w > 0) or (("NI", 1.0),)
    mode = campaign["pacing_mode"]
    name = pacer or PACERS_BY_MODE.get(mode)
    if name is None:
        raise UserError(f"a {mode} campaign is paced by its agents; plan it as progressive or predictive")
    settings = {"k": campaign["power_ratio"]} if name == "power" else {}
    start = datetime.combine(schedule.first_day, datetime.min.time()).replace(hour=schedule.start_hour)
    return Scenario(
        name=f"plan:{inputs.campaign}", run=Run(days=schedule.days, start=start, timezone=inputs.timezone,
                                                hours_per_day=schedule.end_hour - schedule.start_hour),
        outcomes=outcomes, answer=answer, talk=_mixture(inputs.talk), agents=agents,
        answering=Answering(curve=curve, retry_decay=inputs.retry_decay or 0.8),
        campaign=CampaignRules(pacing_mode=mode if mode in PACERS_BY_MODE else "predictive",
                               abandon_target=campaign["abandon_target"], max_attempts=campaign["max_attempts"],
                               retry_no_answer_s=campaign["retry_no_answer_s"],
                               retry_busy_s=campaign["retry_busy_s"], retry_machine_s=campaign["retry_machine_s"],
                               max_lines=campaign["max_lines"], machine_action=campaign["machine_action"]),
        list_size=inputs.callable_leads, dispositions=dispositions, pacer=name, pacer_settings=settings)


def _answered_in_time(a: Answer) -> float:
    """P(post-dial delay + gamma answer time < ring timeout): the regularised lower incomplete gamma (series)."""
    x = (a.ring_timeout_s - a.pdd_s) * a.human_shape / a.human_mean_s
    if x <= 0:
        return 0.0
    k = a.human_shape
    term = total = 1.0 / k
    for n in range(1, 500):
        term *= x / (k + n)
        total += term
        if term < 1e-12 * total:
            break
    return min(1.0, math.exp(k * math.log(x) - x - math.lgamma(k)) * total)


def _mixture(fit) -> Mixture:
    return Mixture(tuple(Lognormal(w, med, max(sig, 0.05)) for w, med, sig in fit.components))


class _PlanSimulation(PacedTurns):
    """The benchmark's simulation, also counting the leads still dialable when each day closes; its loop turns
    on news, at most every 0.25 s (``turns``), unless ``paced=False``.

    Given a ``Start``, the world holds the list as it stands (``world.PlanWorld``: attempts made, due times,
    numbers that failed), its dead numbers are where the list says (``world.PlanCustomers``), and the pacer's
    abandon ledger is seeded with the campaign's last 30 days, as the product's loop seeds it from the database.
    """

    def __init__(self, *args, start: Start | None = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.leads_left: list[int] = []
        self.settings: dict = {}  # the pacer's, for the result
        if start is not None:
            self.carrier.customers = PlanCustomers(self.sc, self.seed, start.queue, start.refail,
                                                   start.fail_later, start.attempt_factors)
            for lead in self.world.store.leads.values():
                if lead.attempts:  # the carrier counts attempts per number: a retry answers by the retry decay
                    self.carrier.attempts[lead.phone] = lead.attempts
            store, live, abandoned = self.world.store, start.history_live, start.history_abandoned
            own = store.history_placed

            def history_placed(campaign_id: int, now: datetime) -> tuple[list[float], list[float]]:
                mine_live, mine_abandoned = own(campaign_id, now)
                since = now.timestamp() - 30 * 86400
                return ([float(x) for x in live if x >= since] + mine_live,
                        [float(x) for x in abandoned if x >= since] + mine_abandoned)

            store.history_placed = history_placed

    def _close(self) -> None:
        super()._close()
        self.leads_left.append(sum(1 for lead in self.world.store.leads.values()
                                   if lead.status in CALLABLE_STATUSES or lead.status == "dialing"))


def _warm_pacer(scenario: Scenario, seed: int, start: Start | None, settings: dict, paced: bool = True):
    """The pacer as the campaign's running worker has it when the planned day opens: its answer and handle
    curves learnt and its abandon loop settled, not cold.

    A cold pacer dials progressively until it has seen enough calls, then from the baseline threshold while its
    loop learns: the back-test's first planned hour came out 16 % short of the truth's, whose pacer had run for
    days. So the pacer first dials ``WARMUP_S`` on the first staffed hour's floor and the list as it stands, with the
    same abandon budget, all a month earlier, where nothing it dials counts in the plan's 30-day budget (the
    ledger lets it go); the plan then carries on with that pacer, its call ids numbered on from the warm-up's
    (the pacer ignores ids it has seen end). Returns the pacer and the plan's first call id.
    """
    shift = WARMUP_BEFORE.total_seconds()
    a = scenario.agents
    staffed = next((s.count for s in a.schedule if s.count > 0), a.count) if a.count == 0 else a.count
    warm = replace(scenario, run=replace(scenario.run, days=1, hours_per_day=WARMUP_S / 3600,
                                         start=scenario.run.start - WARMUP_BEFORE),
                   agents=replace(a, count=staffed, schedule=()))  # the first staffed hour's floor
    if start is not None:
        start = replace(start, queue=replace(start.queue, due=start.queue.due - shift),
                        history_live=start.history_live - shift,
                        history_abandoned=start.history_abandoned - shift)
    made: list = []
    factory = named_pacer(scenario.pacer, settings)

    def keep(c):
        made.append(factory(c))
        return made[-1]

    t0, _ = day_windows(warm)
    world = MemoryWorld(warm, t0) if start is None else PlanWorld(warm, t0, start.queue)
    sim = _PlanSimulation(warm, seed, world, keep, start=start, paced=paced)
    sim.run()
    sim.loop.sync_agents(sim.q.now())  # the last log-outs came after the last turn: the pacer hears them now
    return made[0], world.store._next_call  # noqa: SLF001 - the store's id counter has no public setter


_WARMED: dict[int, tuple] = {}  # simulate's warm-up made before forking, by token: each child takes it once


def _settings(scenario: Scenario) -> dict:
    settings = dict(scenario.pacer_settings)
    settings.setdefault("target_abandon_rate", scenario.campaign.abandon_target)
    return settings


def plan_simulation(scenario: Scenario, seed: int, start: Start | None = None, warm_up: bool = True,
                    paced: bool = True, warm_seed: int | None = None, warmed: int | None = None) -> _PlanSimulation:
    """One seed's simulation, ready to run, its pacer warmed up first unless ``warm_up`` is False; ``paced=False``
    turns its loop as the benchmark simulator does (``turns``). The warm-up runs on ``warm_seed`` (default: the
    seed's own); ``warmed`` names one ``simulate`` made already, in this process's parent."""
    settings = _settings(scenario)
    factory, first_call = named_pacer(scenario.pacer, settings), 1
    if warm_up:
        made = _WARMED.pop(warmed, None) if warmed is not None else None  # once: a second seed here makes its own
        pacer, first_call = made if made is not None else _warm_pacer(
            scenario, seed if warm_seed is None else warm_seed, start, settings, paced)
        factory = lambda c: pacer  # noqa: E731 - the campaign's one pacer, already warm
    t0, _ = day_windows(scenario)
    world = MemoryWorld(scenario, t0) if start is None else PlanWorld(scenario, t0, start.queue)
    world.store._next_call = first_call  # noqa: SLF001
    sim = _PlanSimulation(scenario, seed, world, factory, start=start, paced=paced)
    sim.settings = settings
    return sim


def run_seed(scenario: Scenario, seed: int, start: Start | None = None, warm_up: bool = True,
             warm_seed: int | None = None, warmed: int | None = None) -> dict:
    """One seed of the plan: per-hour arrays and per-day leads left (plain data, so it crosses processes)."""
    cpu0 = time.process_time()
    sim = plan_simulation(scenario, seed, start, warm_up, warm_seed=warm_seed, warmed=warmed)
    sim.run()
    result = sim.result(scenario.pacer, sim.settings, 0.0)
    days = sim.days
    c, a = result.calls, result.agents
    hours = int(scenario.run.hours_per_day)
    bins = [(start_s + h * 3600, start_s + (h + 1) * 3600) for start_s, _ in days for h in range(hours)]
    edges = np.array([b[0] for b in bins] + [bins[-1][1]])

    def per_bin(times: np.ndarray, mask: np.ndarray) -> list[int]:
        t = times[mask & ~np.isnan(times)]
        return np.histogram(t, bins=edges)[0].astype(int).tolist()

    everything = np.ones(len(c), dtype=bool)
    live = np.isin(c.outcome, ("completed", "abandoned"))
    contact = ~np.isnan(c.connected)
    staffed, busy = _overlap(a, edges, ("ready", "talking", "wrap")), _overlap(a, edges, ("talking", "wrap"))
    # closes as their expectation: each call an agent took closes at the close share, which the history measures
    # the same way (closes ÷ calls agents took, machines put through included); the coin each contact's
    # disposition is would add its own noise to the plan's mean
    closes = np.histogram(c.placed[contact], bins=edges)[0] * _close_share(scenario)
    return {"dials": per_bin(c.placed, everything), "live": per_bin(c.placed, live),
            "abandoned": per_bin(c.placed, c.outcome == "abandoned"),
            "contacts": per_bin(c.placed, contact), "closes": closes.tolist(),
            "staffed_s": staffed, "busy_s": busy, "leads_left": sim.leads_left,
            "cpu_s": time.process_time() - cpu0}


def _close_share(scenario: Scenario) -> float:
    """The share of the calls agents take that they disposition as a close (the simulator's SALE weight)."""
    weights = dict(scenario.dispositions)
    return weights.get("SALE", 0.0) / max(sum(weights.values()), 1e-12)


def _overlap(a, edges: np.ndarray, states: tuple[str, ...]) -> list[float]:
    """Seconds agents spent in ``states`` inside each bin."""
    mask = np.isin(a.state, states)
    s, e = a.start[mask], a.end[mask]
    out = []
    for lo, hi in zip(edges[:-1], edges[1:], strict=True):
        out.append(float(np.clip(np.minimum(e, hi) - np.maximum(s, lo), 0, None).sum()))
    return out


def simulate(scenario: Scenario, seeds: int = DEFAULT_SEEDS, workers: int | None = None,
             start: Start | None = None, first_seed: int = 1) -> list[dict]:
    """``seeds`` runs of ``scenario`` (seeds ``first_seed`` on), in parallel processes when there is more than one
    CPU, all from one warm-up (on ``first_seed``): the campaign has one pacer in the morning, and the seeds'
    spread is the day's luck. Forked seeds take the warm-up this process made before forking (on two CPUs three
    seeds' warm-ups cost one and a half warm-ups of wall time, one costs one); a fork server's or a lone process's
    seeds each make it again, the same pacer.

    One process a seed (up to ``PROCS_PER_CPU`` a CPU), not one a CPU: the plan waits for its slowest seed, and
    three seeds on two CPUs in two processes run the third alone after the first two (twice a seed's time), where
    three processes sharing the two CPUs all end at once (one and a half)."""
    if not 1 <= seeds <= 64:
        raise UserError("seeds must be between 1 and 64")
    cpus = os.cpu_count() or 1
    procs = min(seeds, workers or (PROCS_PER_CPU * cpus if cpus > 1 else 1))
    seed_list = list(range(first_seed, first_seed + seeds))
    if procs <= 1:
        return [run_seed(scenario, s, start, warm_seed=first_seed) for s in seed_list]
    kernel.warm()  # the pacer's compiled kernels, once here: a forked seed starts with them, a fork server's
    # loads them from the cache this fills
    context = _start_method()
    warmed = None
    if context.get_start_method() == "fork":  # the children start with this process's memory: warm up once, here
        warmed = id(scenario)
        _WARMED[warmed] = _warm_pacer(scenario, first_seed, start, _settings(scenario))
    try:
        with ProcessPoolExecutor(max_workers=procs, mp_context=context) as pool:
            return list(pool.map(run_seed, [scenario] * seeds, seed_list, [start] * seeds, [True] * seeds,
                                 [first_seed] * seeds, [warmed] * seeds))
    finally:
        _WARMED.pop(warmed, None)


def _start_method() -> multiprocessing.context.BaseContext:
    """How the seeds' processes start: forked from this one when it runs no other thread (the command line: the
    simulator is imported already, a worker is ready at once), else from a fork server (the console calls this
    from a server thread, and forking a threaded process is unsafe; the server imports the simulator once, so each
    worker forks from it ready instead of importing it again). The fork server's start and import cost ~1.5-2 s
    of a plan's wall time, a tenth of the 15 s a 100-agent day may take."""
    if threading.active_count() == 1 and "fork" in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("fork")
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload([__name__])
    return context


def summarise(scenario: Scenario, runs: list[dict], history_30d: tuple[int, int] = (0, 0)) -> dict:
    """Per hour and per day: mean with the seeds' min and max; the 30-day abandon rate including history."""
    hours = int(scenario.run.hours_per_day)
    zone = ZoneInfo(scenario.run.timezone)
    keys = ("dials", "live", "abandoned", "contacts", "closes", "staffed_s", "busy_s")
    arr = {k: np.array([r[k] for r in runs], dtype=float) for k in keys}  # seeds x bins
    hourly = []
    for b in range(arr["dials"].shape[1]):
        day, h = divmod(b, hours)
        when = (scenario.run.start + timedelta(days=day, hours=h)).replace(tzinfo=zone)
        hourly.append({"day": when.date().isoformat(), "hour": when.strftime("%H:00"),
                       **_row({k: v[:, b] for k, v in arr.items()})})
    daily = []
    hist_live, hist_ab = history_30d
    for d in range(scenario.run.days):
        sl = slice(d * hours, (d + 1) * hours)
        row = _row({k: v[:, sl].sum(axis=1) for k, v in arr.items()})
        left = np.array([r["leads_left"][d] for r in runs], dtype=float)
        row["leads_left"] = _spread(left)
        live = hist_live + arr["live"][:, :(d + 1) * hours].sum(axis=1)
        ab = hist_ab + arr["abandoned"][:, :(d + 1) * hours].sum(axis=1)
        row["abandon_30d"] = _spread(np.where(live > 0, ab / np.maximum(live, 1), 0.0), 4)
        row["day"] = (scenario.run.start + timedelta(days=d)).date().isoformat()
        daily.append(row)
    return {"hourly": hourly, "daily": daily, "dry": _dry_day(scenario, runs, daily)}


def _row(cols: dict[str, np.ndarray]) -> dict:
    out = {k: _spread(cols[k]) for k in ("dials", "contacts", "closes")}
    staffed, busy, live = cols["staffed_s"], cols["busy_s"], cols["live"]
    out["agent_hours"] = _spread(staffed / 3600, 1)
    out["occupancy"] = _spread(np.where(staffed > 0, busy / np.maximum(staffed, 1), 0.0), 4)
    out["abandon"] = _spread(np.where(live > 0, cols["abandoned"] / np.maximum(live, 1), 0.0), 4)
    return out


def _spread(x: np.ndarray, digits: int = 1) -> dict:
    return {"mean": round(float(x.mean()), digits), "min": round(float(x.min()), digits),
            "max": round(float(x.max()), digits)}


def dry_threshold(list_size: int) -> float:
    """A list is dry when what is left is a straggling 1 % (leads waiting out a retry delay), or nothing."""
    return max(0.5, 0.01 * list_size)


def _dry_day(scenario: Scenario, runs: list[dict], daily: list[dict]) -> dict:
    """The day the list runs dry: seen inside the plan, or projected from the last day's pace of use."""
    start = scenario.run.start.date()
    total = scenario.list_size or 0
    for i, row in enumerate(daily):
        if row["leads_left"]["mean"] <= dry_threshold(total):
            return {"date": (start + timedelta(days=i)).isoformat(), "projected": False}
    used_last = (total if len(daily) == 1 else daily[-2]["leads_left"]["mean"]) - daily[-1]["leads_left"]["mean"]
    if used_last <= 0:
        return {"date": None, "projected": True}
    more = int(np.ceil((daily[-1]["leads_left"]["mean"] - dry_threshold(total)) / used_last))
    return {"date": (start + timedelta(days=len(daily) - 1 + more)).isoformat(), "projected": True}
