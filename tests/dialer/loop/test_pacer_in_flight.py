"""The pacer's calls in flight follow the database: a call another path ended or released (a takeover's
reconciliation, a claim released as never sent, a call adopted and settled from the carrier's log) is ended in the
pacer too. Counted ringing for ever, such calls held a progressive campaign at zero dials: a worker restarted after
a kill dialed nothing more for minutes with four agents ready and leads due (the kill test, now and then)."""

from __future__ import annotations

from datetime import timedelta

from campaigns.campaign.service import create_campaign
from campaigns.dispatch.models import Call
from dialer.loop import DialLoop
from dialer.loop.sql import SqlStore
from dialer.pacing import make_pacer
from tests.dialer.loop.conftest import ScriptedCarrier


def test_a_call_ended_behind_the_loops_back_leaves_the_pacer(sessions, session, clock):
    c = create_campaign(session, "Spring", "+12125550100", clock.now())
    c.status = "active"
    session.flush()
    ended, released = (Call(campaign_id=c.id, phone=f"+1212555011{i}", provider="twilio", provider_sid=f"CA{i}",
                            status="dialing", placed_at=clock.now()) for i in (2, 3))
    session.add_all([ended, released])
    session.commit()
    ended_id, released_id = ended.id, released.id
    pacer = make_pacer("progressive")
    loop = DialLoop(SqlStore(sessions, holder="host:1"), ScriptedCarrier(), pacer_factory=lambda view: pacer)
    loop.tick(clock.now())
    assert pacer.ringing == 2  # seeded: the calls in flight when the pacer was made
    with sessions() as s:  # one ends, the other is released, neither through the loop
        s.get(Call, ended_id).ended_at, s.get(Call, ended_id).outcome = clock.now(), "no_answer"
        s.delete(s.get(Call, released_id))
        s.commit()
    loop.tick(clock.now() + timedelta(seconds=1))
    loop.tick(clock.now() + timedelta(seconds=30))
    assert pacer.ringing == 0
