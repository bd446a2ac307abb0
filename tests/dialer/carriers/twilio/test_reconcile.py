"""Restart reconciliation: every call we believed in flight is settled from Twilio's own view of it."""

import time
from datetime import UTC, datetime

import pytest

from campaigns.dispatch.models import Call
from campaigns.inbox import service as inbox
from campaigns.leads.models import Lead
from dialer.carriers.telephony import DialRequest
from dialer.carriers.twilio.adapter import Backoff, TwilioTelephony
from dialer.carriers.twilio.config import load
from dialer.carriers.twilio.fake import CallScript
from dialer.carriers.twilio.pump import CallbackPump
from dialer.carriers.twilio.reconcile import reconcile
from dialer.clock import SystemClock
from tests.dialer.carriers.twilio.support import env, fake_twilio, make_app, seed_call, serve


@pytest.fixture
def world(sessions):
    """The webhook app on a real port and the fake Twilio driving it; events are held back until reconcile."""
    with fake_twilio(default_script=CallScript(ring_s=10, patience_s=10)) as fake:
        holder = {}
        app = make_app(sessions, SystemClock(), None, lambda *a, **k: None)
        with serve(app) as base:
            cfg = load(env(base, fake.api_base))
            app.extensions["twilio"].config = cfg
            holder.update(fake=fake, tel=TwilioTelephony(cfg, backoff=Backoff(base_s=0.001)), base=base)
            yield holder


def place(world, session, phone, script, store_sid=True):
    world["fake"].script(phone, script)
    now = datetime.now(UTC)
    sid = world["tel"].place(DialRequest(call_id=0, to=phone, caller_id="+12125550100", campaign_id=1))
    call = seed_call(session, now, sid=sid if store_sid else None, phone=phone)
    return call, sid


def wait(cond, timeout=5.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if cond():
            return
        time.sleep(0.02)
    raise AssertionError("condition not reached")


def test_restart_settles_every_in_flight_call(world, sessions, session):
    fake = world["fake"]
    busy, busy_sid = place(world, session, "+12125550101", CallScript(answer="busy", ring_s=0))
    ringing, ringing_sid = place(world, session, "+12125550102", CallScript(ring_s=30))
    waiting, waiting_sid = place(world, session, "+12125550103", CallScript(ring_s=0, patience_s=30, digits="1"))
    lost_sid, found_sid = place(world, session, "+12125550104", CallScript(ring_s=30), store_sid=False)
    never = seed_call(session, datetime.now(UTC), sid=None, phone="+12125550105")
    ghost = seed_call(session, datetime.now(UTC), sid="CA" + "9" * 32, phone="+12125550106")
    wait(lambda: fake.calls[busy_sid].status == "busy" and fake.calls[waiting_sid].status == "in-progress")
    with sessions() as s, s.begin():  # the worker died before the pump saw any callback
        s.query(inbox.CarrierCallback).delete()

    report = reconcile(sessions, world["tel"], datetime.now(UTC))
    assert (report.checked, report.ended, report.still_live, report.abandoned, report.adopted, report.unknown) == (
        6, 2, 2, 1, 1, 2)  # ended includes the ghost Twilio never knew (failed)
    assert not report.errors

    # the answered customer nobody was connected to hears the safe-harbor message, not silence
    wait(lambda: any("/twilio/safe-harbor" in d.url for d in fake.hooks.deliveries))
    wait(lambda: fake.calls[waiting_sid].status == "completed")
    with sessions() as s:
        assert s.get(Call, waiting.id).outcome == "abandoned"
        assert s.get(Call, lost_sid.id).provider_sid == found_sid  # adopted from Twilio's call log
        assert s.get(Call, never.id) is None  # never dialed: no call row, as when place() fails
        lead = s.get(Lead, never.lead_id)
        assert (lead.status, lead.attempts) == ("new", 0)  # back in the queue, attempt not counted
        assert s.get(Call, waiting.id).answered_at is not None

    # a second pass (or a periodic one) changes nothing: calls whose end waits in the inbox are not asked again
    again = reconcile(sessions, world["tel"], datetime.now(UTC))
    assert again.ended + again.adopted + again.abandoned == 0 and again.checked == 2  # the two still ringing

    got = []
    pump = CallbackPump(sessions, got.append)
    pump.run_once(datetime.now(UTC))
    ends = {e.provider_ref: e.outcome for e in got if e.kind == "ended"}
    assert ends[busy_sid] == "busy" and ends[ghost.provider_sid] == "failed"
    assert {e.provider_ref: e.kind for e in got if e.kind == "ringing"} == {ringing_sid: "ringing",
                                                                           found_sid: "ringing"}

