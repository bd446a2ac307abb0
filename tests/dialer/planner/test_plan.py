"""The planner on a campaign whose truth is known: a simulated history written as the product stores it."""

import json
from datetime import date

import pytest

from dialer.planner.backtest import CAMPAIGN, run_truth, truth_scenario, write_history
from dialer.planner.inputs import measure
from dialer.planner.service import apply_overrides, read_basis, what_if
from dialer.planner.whatif import parse_schedule
from dnc.errors import UserError


@pytest.fixture(scope="module")
def truth():
    sc = truth_scenario(agents=6, hours=2, days=3, list_size=2000)
    return sc, *run_truth(sc, seed=3)


@pytest.fixture
def history(truth, sessions):
    """Two 2-hour days of a 6-agent campaign, stored; returns the scenario and the morning after."""
    sc, result, sim = truth
    now = write_history(sessions, sc, result, sim, fit_days=2)
    return sc, now, result, sim


def test_measured_inputs_recover_the_truth_within_sampling_error(history, session):
    sc, now, result, sim = history
    i = measure(session, CAMPAIGN, now, days=3)
    fitted = result.calls.placed < sim.days[2][0]
    assert i.dials == int(fitted.sum())
    assert i.shares["live"] == pytest.approx(0.25, abs=0.04)
    assert i.shares["machine"] + i.shares["no_answer"] + i.shares["busy"] == pytest.approx(0.60, abs=0.05)
    assert i.talk is not None and i.talk.mean_s == pytest.approx(sc.talk.mean_s, rel=0.2)
    assert i.dispositions["close"] == pytest.approx(0.10, abs=0.05)
    assert i.callable_leads == sum(1 for v in sim.mornings[2].values() if v[0] in ("new", "retry", "callback"))
    assert sum(i.callable_by_attempts.values()) == i.callable_leads and max(i.callable_by_attempts) >= 1
    assert set(i.by_hour) == {9, 10}  # the campaign dials 9:00-11:00 Chicago time
    assert i.ring_s["samples"] > 50


def test_a_plan_adds_up_hour_by_hour_and_shows_the_seeds_spread(history, session):
    sc, now, *_ = history
    basis = read_basis(session, CAMPAIGN, now, days=3)
    schedule = parse_schedule("9-10:6,10-11:4", date(2030, 3, 6), days=1)
    out = what_if(basis, schedule, seeds=2)
    plan = out["plans"][0]
    assert [h["hour"] for h in plan["hourly"]] == ["09:00", "10:00"]
    day = plan["daily"][0]
    assert day["dials"]["mean"] == pytest.approx(sum(h["dials"]["mean"] for h in plan["hourly"]), abs=0.2)
    assert day["dials"]["min"] <= day["dials"]["mean"] <= day["dials"]["max"]
    assert plan["hourly"][0]["agent_hours"]["mean"] > plan["hourly"][1]["agent_hours"]["mean"]  # 6 then 4 agents
    assert 0 < day["occupancy"]["mean"] <= 1 and day["abandon_30d"]["mean"] <= 0.05
    assert day["leads_left"]["mean"] < basis.inputs.callable_leads
    # closes are the expectation of the contacts made: each person reached closes at the measured share
    assert day["closes"]["mean"] == pytest.approx(day["contacts"]["mean"] * basis.inputs.dispositions["close"],
                                                  abs=0.2)


def test_overrides_and_schedules_name_their_mistakes(history, session):
    sc, now, *_ = history
    basis = read_basis(session, CAMPAIGN, now, days=3)
    with pytest.raises(UserError, match="cannot override 'lve'"):
        apply_overrides(basis.inputs, {"lve": 0.3})
    with pytest.raises(UserError, match="more than 100 %"):
        apply_overrides(basis.inputs, {"live": 0.9})
    for bad, msg in (("9-17", "FROM-TO:AGENTS"), ("17-9:4", "FROM comes before TO"), ("9-12:3,11-13:2", "twice"),
                     ("9-12:0", "nobody")):
        with pytest.raises(UserError, match=msg):
            parse_schedule(bad, date(2030, 1, 1))


def test_the_command_line_plans_from_the_stored_history(history, dialer):
    sc, now, *_ = history
    r = dialer("plan", "inputs", CAMPAIGN, "--days", "3", "--as-of", now.isoformat(), "--json")
    assert r.code == 0, r.err
    assert json.loads(r.out)["dials"] > 100
    r = dialer("plan", "inputs", CAMPAIGN, "--days", "3", "--as-of", now.isoformat())
    assert r.code == 0 and "hour factor" in r.out and "dead numbers: 1" in r.out, r.err  # ~15 % of first attempts
    r = dialer("plan", "whatif", CAMPAIGN, "--schedule", "9-11:6", "--start", "2030-03-06", "--as-of",
               now.isoformat(), "--history-days", "3", "--seeds", "1", "--pacer", "predictive", "--pacer",
               "progressive", "--json")
    assert r.code == 0, r.err
    plans = json.loads(r.out)["plans"]
    assert [p["pacer"] for p in plans] == ["predictive", "progressive"]
    assert plans[0]["daily"][0]["dials"]["mean"] > plans[1]["daily"][0]["dials"]["mean"]  # it dials ahead
    r = dialer("plan", "whatif", "Nope", "--schedule", "9-11:6", "--json")
    assert r.code == 2 and "no campaign named 'Nope'" in r.err
    r = dialer("plan", "whatif", CAMPAIGN, "--schedule", "9-11", "--as-of", now.isoformat())
    assert r.code == 2 and "FROM-TO:AGENTS" in r.err and "Traceback" not in r.err


def test_the_answer_model_separates_dead_numbers_retries_and_hours(history, session):
    """The truth: 15 % dead numbers (failing on every try; the product gives up after two failures in a row),
    25 % of dials live (so 0.25 / 0.85 of the numbers in service, less the 2 % who answer after the ring timeout),
    each retry answering 0.8 times as often, and no hour effect before noon."""
    sc, now, *_ = history
    i = measure(session, CAMPAIGN, now, days=3)
    assert i.dead_first == pytest.approx(0.15, abs=0.03)
    assert i.refail == 1.0 and i.fail_later == 0.0
    assert i.live_first == pytest.approx(0.25 / 0.85 * 0.979, abs=0.03)
    assert i.retry_decay == pytest.approx(0.8, abs=0.15)  # ~250 dials of numbers in service on a retry: ±0.08
    for hour, row in i.by_hour.items():
        assert row["factor"] == pytest.approx(1.0, abs=0.15), hour  # the raw shares differ by the attempt mix


def test_a_plan_starts_from_the_list_as_it_stands(history, session):
    """Attempts made, failed numbers, due times and the 30-day ledger all reach the simulated world."""
    from dialer.planner.whatif import _PlanSimulation, scenario_for
    from dialer.planner.world import PlanWorld
    from dialer.sim.runner import day_windows
    from dialer.sim.world import index_of

    sc, now, result, sim = history
    basis = read_basis(session, CAMPAIGN, now, days=3)
    start = basis.start_for()
    morning = sim.mornings[2]
    assert len(start.queue) == basis.inputs.callable_leads
    assert int(start.queue.failed_last.sum()) == sum(1 for v in morning.values()
                                                     if v[0] in ("new", "retry", "callback") and v[3] == "failed")
    scenario = scenario_for(basis.inputs, parse_schedule("9-11:6", date(2030, 3, 6)), basis.campaign)
    t0, _ = day_windows(scenario)
    plan = _PlanSimulation(scenario, 1, PlanWorld(scenario, t0, start.queue),
                           lambda c: None, start=start)  # the pacer is never asked here
    leads = sorted(plan.world.store.leads.values(), key=lambda x: x.id)
    assert [lead.attempts for lead in leads] == start.queue.attempts.tolist()
    assert all(plan.carrier.attempts.get(lead.phone, 0) == lead.attempts for lead in leads)
    customers = plan.carrier.customers
    for lead in leads:
        i = index_of(lead.phone)
        if lead.last_outcome == "failed":
            assert customers.dead(i)  # failed once, fails again (as it did in the truth)
        elif lead.attempts:
            assert not customers.dead(i)  # it rang or answered before: in service
    live, abandoned = plan.world.store.history_placed(1, now)
    assert len(live) == basis.history_30d[0] and len(abandoned) == basis.history_30d[1] > 0


def test_the_plan_pacer_starts_the_day_warm_and_its_budget_is_the_campaigns(history, session):
    """The pacer of a running campaign knows its curves in the morning: the plan's pacer dials a warm-up first
    (a month earlier, so none of it counts in the 30-day budget the plan starts from)."""
    from dialer.planner.whatif import plan_simulation, scenario_for

    sc, now, *_ = history
    basis = read_basis(session, CAMPAIGN, now, days=3)
    scenario = scenario_for(basis.inputs, parse_schedule("9-10:6", date(2030, 3, 6)), basis.campaign)
    runs = {}
    for warm in (False, True):
        sim = runs[warm] = plan_simulation(scenario, 1, basis.start_for(), warm_up=warm)
        sim.run()
    modes = {warm: [info["pacer"]["mode"] for _, info in sim.explanations] for warm, sim in runs.items()}
    assert sum("cold start" in m for m in modes[False]) >= 5  # minutes of progressive dialing
    assert not any("cold start" in m for m in modes[True]) and "predictive" in modes[True][:6]
    t, info = runs[True].explanations[0]
    calls = runs[True].world.store.call_log.columns()
    own = int((calls["placed"] < t + runs[True].q.t0.timestamp()).sum())
    assert basis.history_30d[0] <= info["pacer"]["live_answers_30d"] <= basis.history_30d[0] + own
    assert calls["id"].min() > 1  # numbered on from the warm-up's calls


def test_a_plan_whose_first_hour_is_unstaffed_warms_up_on_the_first_staffed_one(history, session):
    from dialer.planner.whatif import _warm_pacer, scenario_for

    sc, now, *_ = history
    basis = read_basis(session, CAMPAIGN, now, days=3)
    scenario = scenario_for(basis.inputs, parse_schedule("9-10:0,10-11:6", date(2030, 3, 6)), basis.campaign)
    _, first_call = _warm_pacer(scenario, 1, basis.start_for(), {"target_abandon_rate": 0.03})
    assert first_call > 50  # the warm-up's six agents dialed
