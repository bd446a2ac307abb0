"""A backlog of callbacks (20 calls/s bring about 70 a second): the answers of a batch reach the loop before its
progress callbacks, and a progress callback whose call already has a later one in the batch costs the loop
nothing. Before, a backlog of "ringing" held answers back past the 2 seconds and every answered customer of a
busy minute was abandoned on arrival."""

from __future__ import annotations

from datetime import timedelta

from campaigns.db import session_scope
from campaigns.inbox import service as inbox
from dialer.carriers.twilio.pump import CallbackPump
from tests.dialer.carriers.twilio.support import seed_call

A, B = "CA" + "a" * 32, "CA" + "b" * 32


def test_answers_first_and_superseded_progress_never_reaches_the_loop(sessions, session, clock):
    now = clock.now()
    seed_call(session, now, sid=A, phone="+12125550111")
    seed_call(session, now, sid=B, phone="+12125550112")
    session.commit()
    stored = [(B, "status:initiated", "initiated", "initiated"), (A, "status:initiated", "initiated", "initiated"),
              (A, "status:ringing", "ringing", "ringing"), (B, "status:ringing", "ringing", "ringing"),
              (A, "status:in-progress", "answered", "in-progress")]
    with session_scope(sessions) as s:
        for i, (sid, key, kind, status) in enumerate(stored):
            inbox.record(s, inbox.Callback(provider="twilio", call_sid=sid, event_key=key, kind=kind, status=status,
                                           carrier_at=now + timedelta(seconds=i)), now)
    got = []
    pump = CallbackPump(sessions, got.append)
    stats = pump.run_once(now + timedelta(seconds=5))
    assert [(e.provider_ref, e.kind) for e in got] == [(A, "answered"), (B, "ringing")]
    assert (stats.handled, stats.stale) == (2, 3)  # A's progress and B's "initiated": overwritten by what follows
    with session_scope(sessions) as s:
        assert inbox.counts(s, "twilio") == {"handled": 2, "stale": 3}
