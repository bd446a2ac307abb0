"""``dialer run --carrier sim``: the simulator against a real campaign in (fake) wall-clock time, and the CLI."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, insert, select

from campaigns.agents.models import Agent
from campaigns.campaign.models import Campaign
from campaigns.campaign.service import create_campaign
from campaigns.db import session_scope
from campaigns.dispatch.models import Call
from campaigns.leads.models import Lead, LeadList
from dialer.loop.gating import dnc_gate
from dialer.sim import load_scenario
from dialer.sim.live import LiveSimulation

BASE = Path(__file__).resolve().parents[3] / "dialer" / "sim" / "scenarios" / "base.toml"


def campaign_with_leads(sessions, now, n=300, status="active") -> int:
    with session_scope(sessions) as s:
        c = create_campaign(s, "Spring", "+12125550100", now)
        c.status, c.pacing_mode = status, "progressive"
        lst = LeadList(campaign_id=c.id, name="l", sha256="0" * 64, uploaded_at=now)
        s.add(lst)
        s.flush()
        s.execute(insert(Lead), [{"campaign_id": c.id, "list_id": lst.id, "phone": f"+1212555{i:04d}", "custom": {},
                                  "created_at": now, "updated_at": now} for i in range(n)])
        return c.id


class FakeTime:
    """A wall clock that moves only when the worker sleeps: the test never waits."""

    def __init__(self) -> None:
        self.now = 0.0

    def monotonic(self) -> float:
        return self.now

    def sleep(self, s: float) -> None:
        self.now += max(s, 0.01)


def make_agents(sessions, campaign_id, now, n=4) -> list[int]:
    from campaigns.agents.service import create_agent

    with session_scope(sessions) as s:
        c = s.get(Campaign, campaign_id)
        return [create_agent(s, f"sim-{i}", now, campaign=c, simulated=True).id for i in range(n)]


@pytest.mark.slow
def test_serving_in_accelerated_time_then_draining(sessions, clock):
    now = clock.now()
    cid = campaign_with_leads(sessions, now)
    make_agents(sessions, cid, now)
    fake = FakeTime()
    sim = LiveSimulation(load_scenario(BASE), 5, sessions, now)
    sim.serve(20.0, lambda: False, until=1800, sleep=fake.sleep, monotonic=fake.monotonic)
    assert sim.stopped_at == 1800 and 80 < fake.now < 100  # 1800 virtual seconds at 20x
    with session_scope(sessions) as s:
        placed = s.scalar(select(func.count()).select_from(Call))
        assert placed > 30 and sim.loop.stats.placed == placed
        assert s.scalar(select(func.count()).select_from(Call).where(Call.ended_at.is_(None))) == 0
        assert set(s.scalars(select(Agent.state))) == {"offline"}
        last = s.scalar(select(func.max(Call.placed_at)))
        assert now < last <= now + timedelta(seconds=1800)  # times in the database run at 20x


@pytest.mark.slow
def test_a_killed_run_is_settled_at_the_next_start(sessions, clock):
    now = clock.now()
    cid = campaign_with_leads(sessions, now)
    make_agents(sessions, cid, now)
    fake = FakeTime()
    sim = LiveSimulation(load_scenario(BASE), 5, sessions, now, holder="host:1")
    sim.start()
    sim.q.run_realtime(50.0, until=600, sleep=fake.sleep, monotonic=fake.monotonic)  # then "killed": no drain
    with session_scope(sessions) as s:
        assert s.scalar(select(func.count()).select_from(Call).where(Call.ended_at.is_(None))) > 0
    later = now + timedelta(hours=1)
    again = LiveSimulation(load_scenario(BASE), 6, sessions, later, holder="host:2")  # after the dead one's lease
    again.serve(50.0, lambda: True, sleep=fake.sleep, monotonic=fake.monotonic)
    with session_scope(sessions) as s:
        assert s.scalar(select(func.count()).select_from(Call).where(Call.ended_at.is_(None))) == 0
        assert s.scalar(select(func.count()).select_from(Lead).where(Lead.status == "dialing")) <= \
            s.scalar(select(func.count()).select_from(Call).where(Call.connected_at.is_not(None),
                                                                 Call.disposition_code.is_(None)))
        assert set(s.scalars(select(Agent.state))) == {"offline"}


def test_the_real_gate_holds_back_numbers_without_a_fresh_registry(sessions, clock):
    now = clock.now()
    cid = campaign_with_leads(sessions, now, n=20)
    make_agents(sessions, cid, now, n=2)
    fake = FakeTime()
    sim = LiveSimulation(load_scenario(BASE), 5, sessions, now, gate=dnc_gate)
    sim.serve(20.0, lambda: False, until=120, sleep=fake.sleep, monotonic=fake.monotonic)
    with session_scope(sessions) as s:
        assert s.scalar(select(func.count()).select_from(Call)) == 0
        leads = s.scalars(select(Lead)).all()
        refused = [x for x in leads if x.next_attempt_at is not None]
        assert refused and all(x.status == "new" and x.attempts == 0 for x in leads)  # rescheduled, not counted
        assert all(x.next_attempt_at >= now + timedelta(minutes=15) for x in refused)


def test_cli_simulate(dialer, tmp_path):
    path = tmp_path / "s.toml"
    path.write_text('name = "tiny"\n[run]\nhours_per_day = 0.25\n[agents]\ncount = 3\n')
    r = dialer("simulate", "--scenario", path, "--pacer", "power", "--setting", "k=1.5", "--seed", "4", "--json")
    assert r.code == 0, r.err
    out = json.loads(r.out)
    assert (out["scenario"], out["pacer"], out["seed"]) == ("tiny", "power", 4)
    assert out["pacer_settings"] == {"k": 1.5, "target_abandon_rate": 0.03}
    assert out["dials"] > 20 and 0 < out["occupancy"] < 1 and out["dials"] == sum(out["outcomes"].values())
    r = dialer("simulate", "--scenario", path, "--pacer", "power")
    assert r.code == 0 and "occupancy" in r.out and "outcomes:" in r.out
    path.write_text("[agents]\ncount = 'many'\n")
    r = dialer("simulate", "--scenario", path)
    assert r.code == 2 and r.err.strip() == f"error: {path}: [agents] count: must be a whole number, got 'many'"
    r = dialer("simulate", "--scenario", BASE, "--pacer", "warp")
    assert r.code == 2 and "unknown pacer 'warp'" in r.err


def test_cli_run(dialer, sessions, clock):
    assert dialer("db", "upgrade").code == 0
    cid = campaign_with_leads(sessions, clock.now(), status="paused")
    r = dialer("run", "--campaign", "Spring")
    assert r.code == 2 and "start it with `dialer campaigns start Spring`" in r.err
    assert dialer("campaigns", "start", "Spring").code == 0
    r = dialer("run", "--campaign", "Spring", "--agents", "3", "--for", "0", "--json")
    assert r.code == 0, r.err
    out = json.loads(r.out)
    assert (out["campaigns"], out["agents"], out["placed"]) == (["Spring"], 3, 0)
    with session_scope(sessions) as s:
        names = s.scalars(select(Agent.name).where(Agent.campaign_id == cid, Agent.simulated.is_(True))).all()
        assert sorted(names) == [f"sim-{cid}-001", f"sim-{cid}-002", f"sim-{cid}-003"]
    r = dialer("run", "--carrier", "twilio", "--speed", "3")
    assert r.code == 2 and "--speed applies to the simulated carrier only" in r.err


def test_cli_run_runs_the_worker_jobs(dialer, sessions):
    """The simulated worker runs the periodic jobs too (missed callbacks, abandon guard, ...), at once on start."""
    from datetime import UTC, datetime

    from campaigns.callbacks.models import Callback
    from campaigns.leases import service as leases

    assert dialer("db", "upgrade").code == 0
    wall = datetime.now(UTC)
    cid = campaign_with_leads(sessions, wall - timedelta(days=1), n=5)
    with session_scope(sessions) as s:
        lead = s.scalars(select(Lead).where(Lead.campaign_id == cid)).first()
        due = wall - timedelta(hours=3)  # past the campaign's one-hour grace: the job must mark it missed
        s.add(Callback(campaign_id=cid, lead_id=lead.id, agent_id=None, requested_at=due, due_at=due,
                       status="pending", note="", created_at=due - timedelta(hours=1)))
    r = dialer("run", "--campaign", "Spring", "--agents", "1", "--for", "1", "--json")
    assert r.code == 0, r.err
    with session_scope(sessions) as s:
        assert s.scalar(select(Callback.status)) == "missed"
        ran = {x.name: x for x in leases.all_leases(s)}
        assert {"callbacks-due", "abandon-guard", "leads-recycle", "callerid-health"} <= set(ran)
        assert ran["callbacks-due"].last_error is None and ran["callbacks-due"].last_result == {"missed": 1}


def test_every_active_campaign_is_dialed_and_one_started_later_is_picked_up(sessions, clock, caplog):
    """No ``--campaign``: the simulated worker staffs and dials each campaign it owns, including one a manager
    creates, fills and starts while it runs; the log says why it dials each one or not."""
    import logging

    now = clock.now()
    first = campaign_with_leads(sessions, now, n=200)
    with session_scope(sessions) as s:
        c = create_campaign(s, "Autumn", "+12125550100", now)
        c.pacing_mode = "progressive"
        lst = LeadList(campaign_id=c.id, name="l", sha256="1" * 64, uploaded_at=now)
        s.add(lst)
        s.flush()
        s.execute(insert(Lead), [{"campaign_id": c.id, "list_id": lst.id, "phone": f"+1646555{i:04d}",
                                  "custom": {}, "created_at": now, "updated_at": now} for i in range(200)])
        second = c.id
    fake = FakeTime()
    sim = LiveSimulation(load_scenario(BASE), 5, sessions, now, agents=3)
    with caplog.at_level(logging.INFO):
        sim.start()
        sim.q.run_realtime(20.0, until=300, sleep=fake.sleep, monotonic=fake.monotonic)
        assert set(sim.floors) == {first}
        with session_scope(sessions) as s:
            s.get(Campaign, second).status = "active"  # the manager starts it (numbers the simulator never made)
        sim.q.run_realtime(20.0, until=600, sleep=fake.sleep, monotonic=fake.monotonic)
        sim.drain()
    assert set(sim.floors) == {first, second}
    with session_scope(sessions) as s:
        placed = dict(s.execute(select(Call.campaign_id, func.count()).group_by(Call.campaign_id)).all())
        assert placed.get(first, 0) > 10 and placed.get(second, 0) > 10
        assert s.scalar(select(func.count()).select_from(Call).where(Call.ended_at.is_(None))) == 0
    assert "took Autumn" in caplog.text and "3 simulated agents logging in" in caplog.text


def test_two_workers_creating_one_campaigns_seats_at_once_both_get_them(sessions, clock, db_url):
    """A campaign changes hands while its simulated agents are being created (the old owner's heartbeat gave it
    back mid-adoption): the new owner creating the same seats waits on the old one's uncommitted rows, meets the
    unique index when they commit, and reads them instead of crashing (the 1,000-agent bench run died on this)."""
    import threading
    import time

    from sqlalchemy import text

    from campaigns.agents.service import create_agent
    from dialer.sim.live import ensure_agents

    if not db_url.startswith("postgresql"):
        pytest.skip("one dialing worker on SQLite: nobody creates seats beside it")
    now = clock.now()
    cid = campaign_with_leads(sessions, now, n=1)
    first = sessions()  # the old owner, mid-adoption: its seats written, not committed yet
    c = first.get(Campaign, cid)
    mine = [create_agent(first, f"sim-{cid}-{k:03d}", now, campaign=c, simulated=True).id for k in (1, 2, 3)]
    got: dict = {}
    second = threading.Thread(target=lambda: got.update(ids=ensure_agents(sessions, cid, 3, 3, now)), daemon=True)
    second.start()
    deadline = time.monotonic() + 120
    with session_scope(sessions) as s:  # the new owner's insert waits on the old owner's row
        while not s.scalar(text("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                                "AND wait_event_type = 'Lock'")) and time.monotonic() < deadline:
            time.sleep(0.05)
            s.rollback()
    first.commit()
    first.close()
    second.join(120)
    assert got.get("ids") == mine


@pytest.mark.slow
def test_a_stopping_worker_keeps_its_agents_until_the_calls_it_placed_are_answered_or_over(sessions, clock):
    """``dialer run --carrier sim`` stopped mid-shift (Ctrl-C, SIGTERM): it dials nothing new, but the people who
    answer the calls already ringing must still find an agent. The simulated agents went home at once, so every
    live answer among those calls was abandoned: a fresh power campaign on the 1,000-agent bench stopped after
    5 minutes with all of its 10 abandons there (3.8 % of its live answers, 0 while it ran)."""
    now = clock.now()
    cid = campaign_with_leads(sessions, now, n=2000)
    with session_scope(sessions) as s:
        c = s.get(Campaign, cid)
        c.pacing_mode, c.power_ratio = "power", 3.0
    make_agents(sessions, cid, now, n=6)
    fake = FakeTime()
    sim = LiveSimulation(load_scenario(BASE), 5, sessions, now)

    def people_about_to_answer() -> bool:  # stopped when two calls still ringing will be answered by a person
        ringing = [c for c in sim.carrier.calls.values() if not c.answered and c.fate.kind == "live"]
        return sim.q.t >= 60 and len(ringing) >= 2

    sim.serve(50.0, people_about_to_answer, until=900, sleep=fake.sleep, monotonic=fake.monotonic)
    assert sim.stopped_at < 900
    stop = now + timedelta(seconds=sim.stopped_at)
    with session_scope(sessions) as s:
        late = s.scalars(select(Call).where(Call.answered_at > stop, Call.answered_by != "machine")).all()
        assert len(late) >= 2
        assert [c.outcome for c in late] == ["completed"] * len(late)
        assert s.scalar(select(func.count()).select_from(Call).where(Call.ended_at.is_(None))) == 0
        assert set(s.scalars(select(Agent.state))) == {"offline"}
