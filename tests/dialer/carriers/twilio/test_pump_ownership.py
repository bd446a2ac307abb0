"""With several workers, each stored callback is delivered by the worker that owns its call's campaign, and only
by it; a callback whose call is not stored yet waits for whoever turns out to own it."""

from __future__ import annotations

from campaigns.db import session_scope
from campaigns.inbox import service as inbox
from dialer.carriers.twilio.pump import CallbackPump
from tests.dialer.carriers.twilio.support import seed_call


def test_each_worker_delivers_only_its_own_campaigns_callbacks(sessions, session, clock):
    from campaigns.campaign.service import create_campaign
    from campaigns.dispatch.models import Call

    now = clock.now()
    a = seed_call(session, now, sid="CA" + "a" * 32, phone="+12125550111")
    other = create_campaign(session, "Autumn", "+12125550100", now)
    session.add(Call(campaign_id=other.id, phone="+12125550112", provider="twilio", provider_sid="CA" + "b" * 32,
                     status="ringing", placed_at=now))
    session.commit()
    with session_scope(sessions) as s:
        for sid in ("CA" + "a" * 32, "CA" + "b" * 32, "CA" + "c" * 32):  # the last one: not stored yet
            inbox.record(s, inbox.Callback(provider="twilio", call_sid=sid, event_key="status:ringing",
                                           kind="ringing", carrier_at=now, status="ringing"), now)
    got_a, got_b = [], []
    pump_a = CallbackPump(sessions, got_a.append, owned=lambda: {a.campaign_id})
    pump_b = CallbackPump(sessions, got_b.append, owned=lambda: {other.id})
    pump_b.run_once(now)
    pump_a.run_once(now)
    assert [e.provider_ref for e in got_a] == ["CA" + "a" * 32]
    assert [e.provider_ref for e in got_b] == ["CA" + "b" * 32]
    assert pump_a.totals.handled == pump_b.totals.handled == 1
    with session_scope(sessions) as s:
        assert inbox.counts(s, "twilio") == {"handled": 2, "pending": 1}  # the unknown call's callback waits
    nobody = CallbackPump(sessions, got_a.append, owned=set)  # a worker that owns nothing delivers nothing
    nobody.run_once(now)
    assert nobody.totals.handled == 0
