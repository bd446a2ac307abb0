"""The worker's side of campaign ownership: the loop dials only what it owns, says what it took and gave back,
and SQLite refuses a second dialing worker with one line."""

from __future__ import annotations

import logging
import threading
from datetime import timedelta

import pytest
from sqlalchemy.exc import DBAPIError

from campaigns.campaign.service import create_campaign
from campaigns.leases import ownership as shares
from dialer.loop import DialLoop
from dialer.loop.ownership import CampaignOwnership
from dialer.loop.sql import SqlStore
from dnc.errors import UserError
from tests.conftest import START
from tests.dialer.loop.conftest import FixedPacer, ScriptedCarrier


def test_two_stores_dial_disjoint_campaigns(sessions, session, clock):
    for i in range(4):
        create_campaign(session, f"C{i}", "+12125550100", clock.now()).status = "active"
    session.commit()
    a = SqlStore(sessions, holder="host:1")
    b = SqlStore(sessions, holder="host:2")
    first = {c.id for c in a.active_campaigns(clock.now())}
    assert len(first) == 4 and not b.active_campaigns(clock.now())
    clock.advance(3)  # past the renewal: a gives back its surplus, b takes it
    mine_a = {c.id for c in a.active_campaigns(clock.now())}
    clock.advance(0.1)
    b.ownership.refresh(clock.now(), force=True)
    mine_b = {c.id for c in b.active_campaigns(clock.now())}
    assert len(mine_a) == len(mine_b) == 2 and not mine_a & mine_b


def test_taking_and_giving_back_is_logged(sessions, session, clock, caplog):
    create_campaign(session, "Spring", "+12125550100", clock.now()).status = "active"
    session.commit()
    own = CampaignOwnership(sessions, "host:1")
    with caplog.at_level(logging.INFO, logger="dialer.workers"):
        own.refresh(clock.now())
        own.stop(clock.now())
    text = caplog.text
    assert "took Spring" in text and "it had no owner" in text and "gave back 1 campaigns" in text


@pytest.mark.parametrize("noticed", [True, False], ids=["lost-noticed", "lapse-unnoticed"])
def test_a_campaign_taken_back_gets_a_pacer_seeded_anew(sessions, session, clock, noticed):
    """While another worker held the campaign it settled the calls this loop had placed, and those ends never
    reached this loop: a pacer kept from the first tenure counted them ringing for ever and placed nothing. Whether
    or not this worker saw the lease go (it may have stalled through the other's whole tenure), taking it back is
    a new tenure."""
    create_campaign(session, "Spring", "+12125550100", clock.now()).status = "active"
    session.commit()
    built: list[int] = []

    def pacer(view):
        built.append(view.id)
        return FixedPacer()

    loop = DialLoop(SqlStore(sessions, holder="host:1"), ScriptedCarrier(), pacer_factory=pacer)
    loop.tick(clock.now())
    clock.advance(1)
    loop.tick(clock.now())
    assert len(built) == 1  # one pacer while the lease is held
    clock.advance(9)  # host:1 stalls past its lease; host:2 takes the campaign, then stops
    other = CampaignOwnership(sessions, "host:2")
    assert other.refresh(clock.now()) == set(built)
    if noticed:
        loop.tick(clock.now())
        assert not loop.store.ownership.owned
        clock.advance(2.5)
    other.stop(clock.now())
    loop.tick(clock.now())
    assert built == [built[0]] * 2  # taken back: a new pacer, seeded from what the database says now
    clock.advance(2.5)
    loop.tick(clock.now())
    assert len(built) == 2


def test_sqlite_refuses_a_second_dialing_worker(sessions, session, clock, db_url):
    if not db_url.startswith("sqlite"):
        pytest.skip("PostgreSQL runs any number of workers")
    first = CampaignOwnership(sessions, "host:1")
    first.claim_sqlite(clock)

    def first_lives_on(seconds: float) -> None:  # the newcomer watches; the first worker keeps renewing
        clock.advance(seconds)
        first.refresh(clock.now())

    with pytest.raises(UserError, match="another dialing worker .host:1.* SQLite .* use PostgreSQL"):
        CampaignOwnership(sessions, "host:2").claim_sqlite(clock, sleep=first_lives_on)
    assert clock.now() - START <= timedelta(seconds=first.renew.total_seconds() + 1)  # refused once it renewed


def test_sqlite_waits_out_the_heartbeat_of_a_worker_killed_a_moment_ago(sessions, session, clock, db_url, caplog):
    """A supervisor restarts a killed worker at once: the new one must start, not refuse, on the dead one's fresh
    heartbeat (it used to exit, and nobody hung up the agents' lines or settled the calls left in flight)."""
    if not db_url.startswith("sqlite"):
        pytest.skip("PostgreSQL runs any number of workers")
    CampaignOwnership(sessions, "host:1").claim_sqlite(clock)  # then killed: it never beats again
    clock.advance(1)
    with caplog.at_level(logging.INFO, logger="dialer.workers"):
        CampaignOwnership(sessions, "host:2").claim_sqlite(clock, sleep=clock.advance)
    assert "heartbeat of host:1 to run out" in caplog.text
    assert timedelta(seconds=7) <= clock.now() - START <= timedelta(seconds=9.5)  # one lease (8 s), not more
    session.expire_all()
    assert [w.name for w in shares.live_workers(session, clock.now())] == ["host:2"]  # the one dialing worker now


def test_a_taken_campaign_is_dialed_only_once_its_runtime_settled_it(sessions, session, clock):
    """The runtime settles the calls a dead worker left live, then the loop seeds the pacer: seeded first, the
    pacer counted the settled calls ringing for ever (the survivor of a kill never dialed the campaign again)."""
    create_campaign(session, "Spring", "+12125550100", clock.now()).status = "active"
    session.commit()
    own = CampaignOwnership(sessions, "host:1", adopts=True)
    store = SqlStore(sessions, ownership=own)
    assert store.active_campaigns(clock.now()) == [] and len(own.owned) == 1  # owned, not yet adopted
    taken, _ = own.take_news()
    assert set(taken) == own.owned
    assert [c.id for c in store.active_campaigns(clock.now())] == list(own.owned)
    own.freeze()
    clock.advance(3600)  # frozen (a draining simulator): no renewal, no takeover, whatever the clock says
    assert own.refresh(clock.now(), force=True) == set(taken) and not own.taken


def test_a_worker_routes_only_its_own_campaigns_answered_customers(sessions, session, clock):
    """Every worker's routing pass read every campaign's waiting customers and connected or abandoned another
    worker's; that worker's carrier holds the call (the simulated one knows no other process's calls at all)."""
    from campaigns.dispatch.models import Call

    for i in range(2):
        create_campaign(session, f"C{i}", "+12125550100", clock.now()).status = "active"
    session.commit()
    a, b = SqlStore(sessions, holder="host:1"), SqlStore(sessions, holder="host:2")
    a.active_campaigns(clock.now())
    b.active_campaigns(clock.now())  # alive, owning nothing yet
    clock.advance(3)
    a.active_campaigns(clock.now())  # gives its surplus back
    clock.advance(0.1)
    b.ownership.refresh(clock.now(), force=True)
    mine_a, mine_b = a.ownership.dialable(), b.ownership.dialable()
    assert len(mine_a) == len(mine_b) == 1
    for cid in mine_a | mine_b:
        session.add(Call(campaign_id=cid, phone=f"+1212555{cid:04d}", status="answered", placed_at=clock.now(),
                         answered_at=clock.now(), answered_by="human"))
    session.commit()
    assert {c.campaign_id for c in a.waiting_calls()} == mine_a
    assert {c.campaign_id for c in b.waiting_calls()} == mine_b



def test_the_heartbeat_thread_holds_the_presence_lock_and_renews_even_when_it_cannot(sessions, session, clock,
                                                                                    monkeypatch):
    """On PostgreSQL the thread holds the worker's presence lock and writes its key; a failure to take the lock
    (connections used up, say) must not stop the lease renewals, or the campaigns would lapse."""
    from campaigns.leases import presence
    from campaigns.leases.models import DialWorker
    from dialer.loop.ownership import Heartbeat

    create_campaign(session, "Spring", "+12125550100", clock.now()).status = "active"
    session.commit()
    on_pg = sessions.kw["bind"].dialect.name == "postgresql"
    own = CampaignOwnership(sessions, "host:1")
    beat = Heartbeat(own, clock, every_s=0.05)
    beat._keep_presence()
    own.refresh(clock.now(), force=True)
    with sessions() as s:
        assert s.get(DialWorker, "host:1").presence == (presence.key_of("host:1") if on_pg else None)
    beat._drop_presence()
    assert own.presence is None

    def refused(connection, key):
        raise DBAPIError("SELECT pg_try_advisory_lock", {}, Exception("too many clients"))

    monkeypatch.setattr(presence, "hold", refused)
    renewed = threading.Event()
    monkeypatch.setattr(own, "refresh", lambda now, force=False: renewed.set())
    beat.start()
    try:
        assert renewed.wait(10)  # the lease renewal ran although the lock could not be taken
    finally:
        beat.stop()
        beat.join(5)
    assert own.presence is None


def test_a_draining_worker_is_left_out_of_the_others_fair_share(sessions, session, clock):
    """A worker stopping (SIGTERM) keeps the campaign its agents are on and takes nothing more: the others counted
    it in the share all the same, so campaigns started meanwhile stayed without an owner for the whole drain (up to
    ``DIALER_WORKER_DRAIN_S``) although a live worker had room for them. It says it drains on its own row, and the
    others share the campaigns it does not hold among themselves."""
    from campaigns.leases.models import DialWorker

    first = create_campaign(session, "C0", "+12125550100", clock.now())
    first.status = "active"
    session.commit()
    a = CampaignOwnership(sessions, "host:1")
    assert a.refresh(clock.now()) == {first.id}
    a.drain()  # SIGTERM: its agent's call on C0 goes on
    clock.advance(2.5)
    a.refresh(clock.now())
    for i in range(1, 4):  # started meanwhile
        create_campaign(session, f"C{i}", "+12125550100", clock.now()).status = "active"
    session.commit()
    b = CampaignOwnership(sessions, "host:2")
    for _ in range(3):
        clock.advance(2.5)
        a.refresh(clock.now())
        b.refresh(clock.now())
    with sessions() as s:
        held = shares.owners(s, clock.now())
    assert a.owned == {first.id}
    assert len(b.owned) == 3 and len(held) == 4  # every campaign has an owner
    assert b.last is not None and b.last.workers == 1 and b.last.share == 3
    with sessions() as s:
        assert s.get(DialWorker, "host:1").draining and not s.get(DialWorker, "host:2").draining


def test_a_taken_campaigns_claim_never_sent_is_not_counted_placed_by_the_new_pacer(sessions, session, clock):
    """A claim its dead worker never sent (``queued``, no reference) is released by the next owner once nobody can
    send it (``dialer.carriers.twilio.reconcile``), and its pacer is never told: seeded as placed, it rang in the
    pacer for ever and the restarted worker of the kill test dialed nothing more in progressive."""
    from campaigns.dispatch.models import Call
    from dialer.pacing import CallPlaced

    c = create_campaign(session, "Spring", "+12125550100", clock.now())
    c.status = "active"
    session.flush()
    session.add_all([Call(campaign_id=c.id, phone="+12125550111", provider="twilio", status="queued",
                          placed_at=clock.now()),
                     Call(campaign_id=c.id, phone="+12125550112", provider="twilio", provider_sid="CA1",
                          status="ringing", placed_at=clock.now())])
    session.commit()
    pacer = FixedPacer()
    loop = DialLoop(SqlStore(sessions, holder="host:2"), ScriptedCarrier(), pacer_factory=lambda view: pacer)
    loop.tick(clock.now())
    with sessions() as s:
        placed = {s.get(Call, int(e.call_id)).phone for e in pacer.kinds(CallPlaced)}
    assert placed == {"+12125550112"}  # the call Twilio has, not the claim nobody may have sent
