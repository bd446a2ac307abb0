"""The FL/OK/MD caps (3 calls per 24 hours) count every call to the number the product knows of, read the period
on the called party's clock, and hold when two workers race for the third call."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta
from importlib import resources

from sqlalchemy import func, insert, select, text

from campaigns.agents.models import Agent
from campaigns.campaign.models import Campaign
from campaigns.campaign.service import create_campaign
from campaigns.db import make_engine, session_factory, session_scope
from campaigns.dispatch import service as dispatch
from campaigns.dispatch.models import Call
from campaigns.dispatch.rules import Candidate
from campaigns.leads.models import Lead, LeadList
from dnc import consent
from dnc.gate import evaluate
from tests.dnc.audit_helpers import load_empty_rnd

MIAMI = "+13052345678"


def _campaign(s, name: str, now: datetime) -> int:
    c = create_campaign(s, name, "+12125554100", now)
    c.status = "active"
    lst = LeadList(campaign_id=c.id, name=name, sha256=name.ljust(64, "0"), uploaded_at=now)
    s.add(lst)
    s.flush()
    s.execute(insert(Lead), [{"campaign_id": c.id, "list_id": lst.id, "phone": MIAMI, "state": "FL", "custom": {},
                              "created_at": now, "updated_at": now}])
    return c.id


def _call(s, campaign: int, at: datetime, **kw) -> None:
    s.add(Call(campaign_id=campaign, phone=MIAMI, placed_at=at, ended_at=at + timedelta(seconds=30),
               status="ended", outcome=kw.pop("outcome", "no_answer"), **kw))


def _consented(s, now: datetime) -> None:
    consent.add(s, MIAMI, kind="pewc", granted_at=now - timedelta(days=60), evidence_ref="signed form 12",
                added_by="sales", recorded_at=now - timedelta(days=60))


def _gate(s, campaign: int, at: datetime):
    return dispatch.dnc_gate(s, Candidate(1, campaign, MIAMI, "FL", None, ()), at)


def test_every_call_to_the_number_counts(session, registry, clock):
    registry()
    now = clock.now()
    a, b = _campaign(session, "A", now), _campaign(session, "B", now)
    _consented(session, now)
    agent = Agent(name="pat", campaign_id=b, state="offline")
    session.add(agent)
    session.flush()
    _call(session, a, now - timedelta(hours=30))  # outside the 24 hours
    _call(session, a, now - timedelta(hours=20), imported=True, provider="import")  # history from another dialer
    _call(session, b, now - timedelta(hours=10), agent_id=agent.id, outcome="completed")  # an agent's preview dial
    session.flush()
    assert _gate(session, b, now).allowed  # two calls in 24 h: one more is legal
    _call(session, a, now - timedelta(hours=1), outcome="busy")  # another worker's call for another campaign
    session.flush()
    d = _gate(session, b, now)
    assert d.codes == ("state_cap",) and d.temporary
    assert "every campaign and source" in d.reasons[0].text
    assert d.opens_at == now - timedelta(hours=20) + timedelta(hours=24)  # when the imported call leaves the window


def test_the_cap_period_is_read_on_the_called_partys_clock(session, any_day_registry, tmp_path, setenv):
    sat = datetime(2030, 11, 2, 13, 30, tzinfo=UTC)  # Saturday 09:30 EDT; the clocks fall back that night
    sunday = datetime(2030, 11, 3, 14, 15, tzinfo=UTC)  # Sunday 09:15 EST: 24 h 45 min later, 23 h 45 min on the clock
    a = _campaign(session, "A", sat)
    _consented(session, sat)
    load_empty_rnd(session, tmp_path, sat)  # the consent checked against the RND data of the day
    for h in (0, 5, 8):
        _call(session, a, sat + timedelta(hours=h))
    session.flush()

    def decide():
        return evaluate(session, MIAMI, campaign=a, at=sunday, state="FL", call_times=dispatch.call_times(session),
                        registry=any_day_registry.on(sunday.date()))

    d = decide()
    assert d.codes == ("state_cap",) and d.opens_at == datetime(2030, 11, 3, 14, 30, tzinfo=UTC)  # Sunday 09:30 EST
    rules = tmp_path / "rules.toml"  # counsel reads "24 hours" as elapsed time: the first call is out of the period
    rules.write_text(resources.files("dnc").joinpath("data/rules.toml").read_text(encoding="utf-8")
                     .replace('clock = "local"', 'clock = "elapsed"'))
    setenv(DIALER_DNC_RULES=str(rules))
    assert decide().allowed


def _waiting_for_the_lock(engine) -> bool:
    if engine.dialect.name != "postgresql":
        return False  # SQLite: the second writer waits in BEGIN IMMEDIATE, invisible from here
    with engine.connect() as conn:
        return bool(conn.execute(text("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"))
                    .scalar())


def test_two_workers_racing_for_the_third_call_place_one(db_url, registry, session, clock, setenv):
    registry()
    now = clock.now()
    a, b = _campaign(session, "A", now), _campaign(session, "B", now)
    _consented(session, now)
    _call(session, a, now - timedelta(hours=3))
    _call(session, b, now - timedelta(hours=2))
    session.commit()
    setenv(DIALER_SQLITE_LOCKING="immediate")  # the product's SQLite locking, for both workers
    engines = [make_engine(db_url), make_engine(db_url)]
    second: dict = {}
    started, done = threading.Event(), threading.Event()

    def worker_two() -> None:
        try:
            with session_scope(session_factory(engines[1])) as s:
                started.set()
                second["claims"] = dispatch.claim(s, s.get(Campaign, b), 1, now, dispatch.dnc_gate)
        except BaseException as e:  # noqa: BLE001 (reported by the assertion below)
            second["error"] = e
        finally:
            done.set()

    try:
        with session_scope(session_factory(engines[0])) as s:
            first = dispatch.claim(s, s.get(Campaign, a), 1, now, dispatch.dnc_gate)
            assert len(first) == 1  # the third call of the 24 hours: legal
            dispatch.end(s, first[0].call_id, "no_answer", now + timedelta(seconds=20))
            thread = threading.Thread(target=worker_two)
            thread.start()
            started.wait(10)
            pg = engines[0].dialect.name == "postgresql"
            deadline, waited = time.monotonic() + (20 if pg else 1), False
            while time.monotonic() < deadline and not done.is_set() and not waited:
                waited = _waiting_for_the_lock(engines[0])
                time.sleep(0.05)
            # on PostgreSQL the race must really happen: the second worker waits for the number's lock while the
            # first holds its uncommitted third call (on SQLite it waits in BEGIN IMMEDIATE, unseen: one writer)
            assert waited or not pg, "the second worker never waited for the first: the race did not happen"
        thread.join(30)
        assert "error" not in second, second.get("error")
        assert second["claims"] == []  # the second worker counted the first one's call and held back
        with session_scope(session_factory(engines[0])) as s:
            assert s.scalar(select(func.count()).select_from(Call).where(Call.phone == MIAMI)) == 3
            lead_b = s.scalar(select(Lead).where(Lead.campaign_id == b))
            # the cap clears at 07:00 in Miami next day; Florida's window then opens at 08:00 Central (Pensacola)
            assert lead_b.status == "new" and lead_b.next_attempt_at == datetime(2030, 1, 9, 14, 0, tzinfo=UTC)
    finally:
        for e in engines:
            e.dispose()
