"""Restart reconciliation: every call we believed in flight is settled from Twilio's own view of it."""

import time
from datetime import UTC, datetime

import pytest

from campaigns.agents.models import Agent
from campaigns.campaign.models import Campaign
from campaigns.dispatch.models import Call
from campaigns.inbox import service as inbox
from campaigns.leads.models import Lead
from dialer.carriers.telephony import DialRequest
from dialer.carriers.twilio.adapter import Backoff, TwilioTelephony
from dialer.carriers.twilio.config import load
from dialer.carriers.twilio.fake import CallScript
from dialer.carriers.twilio.pump import CallbackPump
from dialer.carriers.twilio.reconcile import reconcile
from dialer.carriers.twilio.unknown import EmptyLookups
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
    call = seed_call(session, now, sid=None, phone=phone)  # the row first: the create names it (its token)
    sid = world["tel"].place(DialRequest(call_id=call.id, to=phone, caller_id="+12125550100", campaign_id=1))
    if store_sid:
        call.provider_sid = sid
        session.commit()
    return call, sid


def wait(cond, timeout=5.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if cond():
            return
        time.sleep(0.02)
    raise AssertionError("condition not reached")


def delivered(fake, sid: str, status: str) -> bool:
    """Twilio's callback of ``sid`` reaching ``status`` was answered by the webhook, so it is in the inbox."""
    return any(d.params.get("CallSid") == sid and d.params.get("CallStatus") == status and d.status is not None
               and d.status < 300 for d in list(fake.hooks.deliveries))


def test_restart_settles_every_in_flight_call(world, sessions, session):
    fake = world["fake"]
    busy, busy_sid = place(world, session, "+12125550101", CallScript(answer="busy", ring_s=0))
    ringing, ringing_sid = place(world, session, "+12125550102", CallScript(ring_s=30))
    waiting, waiting_sid = place(world, session, "+12125550103", CallScript(ring_s=0, patience_s=30, digits="1"))
    lost_sid, found_sid = place(world, session, "+12125550104", CallScript(ring_s=30), store_sid=False)
    never = seed_call(session, datetime.now(UTC), sid=None, phone="+12125550105")
    ghost = seed_call(session, datetime.now(UTC), sid="CA" + "9" * 32, phone="+12125550106")
    wait(lambda: delivered(fake, busy_sid, "busy") and delivered(fake, waiting_sid, "in-progress"))
    with sessions() as s, s.begin():  # the worker died before the pump saw any callback
        s.query(inbox.CarrierCallback).delete()

    lookups = EmptyLookups(confirm_s=0.0)  # a worker keeps one across its passes
    report = reconcile(sessions, world["tel"], datetime.now(UTC), lookups=lookups)
    assert (report.checked, report.ended, report.still_live, report.abandoned, report.adopted, report.unknown) == (
        6, 2, 2, 1, 1, 1)  # ended includes the ghost Twilio never knew (failed)
    assert report.waiting == 1 and not report.errors  # never dialed: one empty lookup is not believed (log lag)

    # the answered customer nobody was connected to hears the safe-harbor message, not silence
    wait(lambda: any("/twilio/safe-harbor" in d.url for d in fake.hooks.deliveries))
    wait(lambda: delivered(fake, waiting_sid, "completed"))  # its end now waits in the inbox
    with sessions() as s:
        assert s.get(Call, waiting.id).outcome == "abandoned"
        assert s.get(Call, lost_sid.id).provider_sid == found_sid  # adopted from Twilio's call log
        assert s.get(Call, never.id) is not None
        assert s.get(Call, waiting.id).answered_at is not None

    # a second pass (or a periodic one) changes nothing: calls whose end waits in the inbox are not asked again;
    # the call never dialed is confirmed absent by this second lookup
    again = reconcile(sessions, world["tel"], datetime.now(UTC), lookups=lookups)
    assert again.ended + again.adopted + again.abandoned == 0 and again.checked == 3  # the two still ringing
    assert again.unknown == 1
    with sessions() as s:
        assert s.get(Call, never.id) is None  # never dialed: no call row, as when place() fails
        lead = s.get(Lead, never.lead_id)
        assert (lead.status, lead.attempts) == ("new", 0)  # back in the queue, attempt not counted

    got = []
    pump = CallbackPump(sessions, got.append)
    pump.run_once(datetime.now(UTC))
    ends = {e.provider_ref: e.outcome for e in got if e.kind == "ended"}
    assert ends[busy_sid] == "busy" and ends[ghost.provider_sid] == "failed"
    assert {e.provider_ref: e.kind for e in got if e.kind == "ringing"} == {ringing_sid: "ringing",
                                                                           found_sid: "ringing"}



def _agent_with_line(world, sessions, name: str, phone: str) -> int:
    """An agent whose phone the dialer rang: its leg sits in its own conference, the line up."""
    from campaigns.agents import lines as agent_lines
    from campaigns.agents import service as agent_svc

    world["fake"].script(phone, CallScript(answer="human", ring_s=0, talk_s=3600))
    with sessions() as s, s.begin():
        campaign = s.query(Campaign).filter_by(name="Spring").one()
        agent = agent_svc.create_agent(s, name, datetime.now(UTC), campaign=campaign)
        agent_lines.set_phone(s, agent.id, phone, datetime.now(UTC))
        agent_svc.go_ready(s, agent.id, datetime.now(UTC))
        agent_id = agent.id
    world["tel"].call_agent(agent_id, phone, "+12125550100")
    wait(lambda: _line(sessions, agent_id) == "up", timeout=30)
    return agent_id


def _line(sessions, agent_id):
    from campaigns.agents import lines as agent_lines

    with sessions() as s:
        got = agent_lines.get(s, agent_id)
        return got.status if got else None


def _connected_by_a_worker_that_then_died(sessions, call_id: int, agent_id: int) -> None:
    """What the worker wrote before Twilio heard of it: the answer, then the agent chosen ("bridging")."""
    from campaigns.agents import service as agent_svc

    with sessions() as s, s.begin():
        call = s.get(Call, call_id)
        call.answered_at, call.answered_by, call.status = datetime.now(UTC), "human", "answered"
        assert agent_svc.connect(s, call_id, agent_id, datetime.now(UTC))
        s.query(inbox.CarrierCallback).delete()  # nor did it deliver any callback


def _agent_state(sessions, agent_id):
    with sessions() as s:
        return s.get(Agent, agent_id).state


def test_a_worker_dying_between_choosing_the_agent_and_moving_the_leg(world, sessions, session):
    """Stored as connected ("bridging"), never moved into the agent's room: the person is alone on the line. The
    restart's reconciliation abandons the call with the safe-harbor message and frees the agent, who heard no one."""
    fake = world["fake"]
    call, sid = place(world, session, "+12125550107", CallScript(ring_s=0, patience_s=120))
    ann = _agent_with_line(world, sessions, "ann", "+12125553000")
    wait(lambda: fake.calls[sid].status == "in-progress")
    _connected_by_a_worker_that_then_died(sessions, call.id, ann)

    report = reconcile(sessions, world["tel"], datetime.now(UTC))
    assert report.abandoned >= 1 and not report.errors
    wait(lambda: any("/twilio/safe-harbor" in d.url and d.params.get("CallSid") == sid
                     for d in fake.hooks.deliveries))
    assert f"agent-{ann}" not in fake.calls[sid].rooms_joined
    with sessions() as s:
        got = s.get(Call, call.id)
        assert (got.outcome, got.connected_at, got.agent_id) == ("abandoned", None, None)
    assert _agent_state(sessions, ann) == "ready"


def test_a_worker_dying_between_moving_the_leg_and_recording_it(world, sessions, session):
    """The leg was moved into the agent's room, the worker died before writing so: the room's join event records
    it, and the restart leaves the conversation alone (it used to pull the person out to the safe-harbor message
    and count an abandon)."""
    fake = world["fake"]
    call, sid = place(world, session, "+12125550108", CallScript(ring_s=0, patience_s=120, talk_s=120))
    ann = _agent_with_line(world, sessions, "ann", "+12125553000")
    wait(lambda: fake.calls[sid].status == "in-progress")
    _connected_by_a_worker_that_then_died(sessions, call.id, ann)
    world["tel"].connect(sid, ann)  # the last thing the worker did
    wait(lambda: any("/twilio/agent/conference" in d.url and d.params.get("CallSid") == sid
                     and d.params.get("StatusCallbackEvent") == "participant-join" for d in fake.hooks.deliveries))

    report = reconcile(sessions, world["tel"], datetime.now(UTC))
    assert report.abandoned == 0 and not report.errors
    assert not any("/twilio/safe-harbor" in d.url and d.params.get("CallSid") == sid for d in fake.hooks.deliveries)
    assert fake.calls[sid].status == "in-progress" and fake.calls[sid].conference == f"agent-{ann}"
    with sessions() as s:
        got = s.get(Call, call.id)
        assert (got.status, got.outcome, got.agent_id) == ("connected", None, ann)
    assert _agent_state(sessions, ann) == "talking"


def test_a_create_whose_sid_was_never_stored_adopts_its_own_call_not_a_later_one_to_the_number(world, sessions,
                                                                                              session):
    """The call log lists calls newest first: another call to the same number made after ours (not ours: another
    system on the account, a consult leg) came first and was adopted. The create adopts the call Twilio created
    when it was sent (``date_created``)."""
    phone = "+12125550109"
    ours, our_sid = place(world, session, phone, CallScript(ring_s=30), store_sid=False)
    time.sleep(2.1)  # Twilio stamps a call's creation in whole seconds
    world["tel"].place(DialRequest(call_id=0, to=phone, caller_id="+12125550100", campaign_id=1))
    report = reconcile(sessions, world["tel"], datetime.now(UTC))
    assert report.adopted == 1 and not report.errors
    with sessions() as s:
        assert s.get(Call, ours.id).provider_sid == our_sid


def test_a_call_to_the_number_before_the_create_was_sent_is_not_adopted(world, sessions, session):
    """Another call to the number made shortly before (not ours) is not this create's: nothing is adopted, and one
    empty lookup does not release the claim either (the call log may lag)."""
    phone = "+12125550110"
    world["fake"].script(phone, CallScript(ring_s=30))
    world["tel"].place(DialRequest(call_id=0, to=phone, caller_id="+12125550100", campaign_id=1))
    time.sleep(2.1)
    lost = seed_call(session, datetime.now(UTC), sid=None, phone=phone)
    report = reconcile(sessions, world["tel"], datetime.now(UTC))
    assert (report.adopted, report.unknown) == (0, 0) and not report.errors
    with sessions() as s:
        assert s.get(Call, lost.id).provider_sid is None  # kept, not adopted, until a later lookup confirms
