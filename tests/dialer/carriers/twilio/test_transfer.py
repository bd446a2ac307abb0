"""The agent's call controls end to end: hold, cold transfer, warm transfer to an agent and to a number, and manual
dial, through the real twilio library against the fake server, with the real worker placing and bridging calls
and the signed webhooks served by ``web.create_app`` (the ``world`` of ``test_e2e``).

What each asserts is what the network saw (rooms, holds, legs in the fake) and what the database keeps: one call
row per customer, owned by whoever finished it.
"""

from __future__ import annotations

from sqlalchemy import func, select

from campaigns.agents import service as agent_svc
from campaigns.agents.models import CallAction
from campaigns.compliance.dnc_requests import record_request
from campaigns.db import session_scope
from campaigns.dispatch.models import Call
from dialer.carriers.seat import SeatCalls
from dialer.carriers.twilio.control import TwilioCallControl
from dialer.carriers.twilio.fake import CallScript
from dnc.errors import UserError
from tests.dialer.carriers.twilio import test_e2e
from tests.dialer.carriers.twilio.support import wait_for
from tests.dialer.carriers.twilio.test_e2e import World

world = test_e2e.world  # the fixture: worker, fake Twilio and webhooks on real sockets

CUSTOMER = "+12125554211"
SUPERVISOR = "+12125554299"
TARGET = "+12125554298"


def seat_calls(w: World) -> SeatCalls:
    control = TwilioCallControl(w.config)
    return SeatCalls(lambda call: control if call.provider == "twilio" else None)


def connected(w: World, phone: str) -> Call:
    return wait_for(lambda: (c := w.call_to(phone)) is not None and c.connected_at is not None and c, timeout=15,
                    what=f"{phone} connected to an agent")


def step(w: World, fn, *args, **kw) -> str:
    with w.sessions() as s:
        return fn(s, *args, w.clock.now(), **kw)


def actions(w: World, call_id: int) -> list[str]:
    with session_scope(w.sessions) as s:
        return list(s.scalars(select(CallAction.kind).where(CallAction.call_id == call_id).order_by(CallAction.id)))


def calls_to(w: World, phone: str) -> int:
    with session_scope(w.sessions) as s:
        return s.scalar(select(func.count()).select_from(Call).where(Call.phone == phone))


def test_hold_resume_then_cold_transfer_keeps_one_call_for_the_agent_to_disposition(world):
    w = world
    cid = w.campaign({CUSTOMER: CallScript(answer="human", ring_s=0.05, amd_s=0.2, talk_s=30)})
    ann = w.agent(cid, "ann", "+12125554277")
    w.start(cid)
    call = connected(w, CUSTOMER)
    leg = w.fake_call(CUSTOMER)
    room = f"agent-{ann}"
    wait_for(lambda: leg.conference == room, what="customer in the agent's room")
    sc = seat_calls(w)

    assert step(w, sc.hold, ann) == "The customer is on hold."
    assert w.fake.rooms.held(room, leg.sid)
    assert step(w, sc.hold, ann, on=False) == "The customer is back with you."
    assert not w.fake.rooms.held(room, leg.sid)

    assert "transferred to +12125554298" in step(w, sc.cold_transfer, ann, "(212) 555-4298")
    wait_for(lambda: leg.bridged_to == [TARGET], what="the customer's leg dialing the target")
    assert leg.conference is None and leg.status == "in-progress"
    agent = w.agent_row(ann)
    assert (agent.state, agent.call_id) == ("wrap", None)
    assert w.line(ann).status == "up"  # the agent's own leg never moved
    with session_scope(w.sessions) as s:
        agent_svc.disposition(s, call.id, "NI", w.clock.now(), agent_ref=ann)  # the call is still the agent's
    assert actions(w, call.id) == ["hold", "resume", "cold"]
    assert calls_to(w, CUSTOMER) == 1


def test_warm_transfer_to_an_agent_moves_the_customer_and_the_record_to_them(world):
    w = world
    cid = w.campaign({CUSTOMER: CallScript(answer="human", ring_s=0.05, amd_s=0.2, talk_s=6)})
    ann = w.agent(cid, "ann", "+12125554277")
    bob = w.agent(cid, "bob", "+12125554278")
    w.start(cid)
    call = connected(w, CUSTOMER)
    host, taker = call.agent_id, ({ann, bob} - {call.agent_id}).pop()
    wait_for(lambda: w.line(taker).status == "up" and w.agent_row(taker).state == "ready",
             timeout=20, what=f"the other agent ready on their line ({w.line(taker)}, {w.agent_row(taker).state})")
    leg, taker_leg = w.fake_call(CUSTOMER), w.line(taker).call_sid
    sc = seat_calls(w)

    step(w, sc.consult, host, to_agent=taker)
    wait_for(lambda: w.fake.calls[taker_leg].conference == f"agent-{host}", what="taker visiting the host's room")
    assert w.fake.rooms.held(f"agent-{host}", leg.sid)
    assert w.line(taker).status == "away"  # leaving their own room for the consult is not a dropped line
    assert (w.agent_row(taker).state, w.agent_row(taker).call_id) == ("talking", call.id)

    step(w, sc.complete, host)
    wait_for(lambda: leg.conference == f"agent-{taker}", what="customer in the taker's room")
    wait_for(lambda: w.fake.calls[taker_leg].conference == f"agent-{taker}", what="taker back in their own room")
    wait_for(lambda: w.line(taker).status == "up", what="the taker's line up again")
    assert w.agent_row(host).state == "ready" and w.agent_row(host).call_id is None
    with session_scope(w.sessions) as s:
        assert s.get(Call, call.id).agent_id == taker  # the record followed the customer

    # the customer hangs up: the taker wraps and dispositions; the call counts once, for the taker
    done = wait_for(lambda: w.ended(CUSTOMER), timeout=15, what="the customer's call over")
    assert done.agent_id == taker and done.outcome == "completed"
    wait_for(lambda: w.agent_row(taker).state == "wrap", what="taker in wrap")
    with session_scope(w.sessions) as s:
        agent_svc.disposition(s, call.id, "SALE", w.clock.now(), agent_ref=taker)
    assert calls_to(w, CUSTOMER) == 1
    assert actions(w, call.id) == ["hold", "consult", "complete", "resume"]
    from campaigns.reports.catalog import run_report

    with session_scope(w.sessions) as s:
        names = {ann: "ann", bob: "bob"}
        per_agent = {r["agent"]: r for r in run_report(s, "agents", "Spring", w.clock.now()).rows}
        summary = run_report(s, "summary", "Spring", w.clock.now()).rows[0]
    assert (summary["dials"], summary["contacts"], summary["closes"]) == (1, 1, 1)  # counted once
    assert per_agent[names[taker]]["contacts"] == 1 and per_agent[names[taker]]["closes"] == 1
    assert per_agent.get(names[host], {}).get("contacts", 0) == 0


def test_warm_transfer_to_a_supervisors_number_then_a_cancelled_consult(world):
    w = world
    cid = w.campaign({CUSTOMER: CallScript(answer="human", ring_s=0.05, amd_s=0.2, talk_s=30)})
    w.fake.script(SUPERVISOR, CallScript(answer="human", ring_s=0.05, talk_s=60))
    ann = w.agent(cid, "ann", "+12125554277")
    w.start(cid)
    call = connected(w, CUSTOMER)
    leg = w.fake_call(CUSTOMER)
    wait_for(lambda: leg.conference == f"agent-{ann}")
    sc = seat_calls(w)

    # a consult that is cancelled: the supervisor's leg is hung up, the customer is off hold
    step(w, sc.consult, ann, to_number=SUPERVISOR)
    sup1 = wait_for(lambda: w.fake_call(SUPERVISOR), what="supervisor dialed")
    wait_for(lambda: sup1.conference == f"agent-{ann}", what="supervisor in the agent's room")
    assert w.fake.rooms.held(f"agent-{ann}", leg.sid)
    step(w, sc.cancel, ann)
    wait_for(lambda: sup1.status == "completed", what="supervisor's leg hung up")
    assert not w.fake.rooms.held(f"agent-{ann}", leg.sid) and leg.conference == f"agent-{ann}"

    # then one that is completed: customer and supervisor in a room of their own, the agent wraps up
    step(w, sc.consult, ann, to_number="212-555-4299")
    sup2 = wait_for(lambda: (c := w.fake_call(SUPERVISOR)) is not sup1 and c, what="supervisor dialed again")
    wait_for(lambda: sup2.conference == f"agent-{ann}")
    assert "Transferred to +12125554299" in step(w, sc.complete, ann)
    room = f"transfer-{call.id}"
    wait_for(lambda: leg.conference == room and sup2.conference == room, what="customer with the supervisor")
    assert w.agent_row(ann).state == "wrap" and w.line(ann).status == "up"
    with session_scope(w.sessions) as s:
        assert s.get(Call, call.id).agent_id == ann
        assert s.scalar(select(CallAction.leg_sid).where(CallAction.kind == "consult")
                        .order_by(CallAction.id.desc()).limit(1)) == sup2.sid
    assert calls_to(w, CUSTOMER) == 1


def test_manual_dial_goes_through_the_gate_then_the_worker_bridges_it_to_the_agent(world):
    from campaigns.agents.manual import manual_dial

    w = world
    cid = w.campaign({})  # nothing to dial by itself
    typed, refused = "+12125554231", "+12125554232"
    w.fake.script(typed, CallScript(answer="human", ring_s=0.05, amd_s=0.2, talk_s=2))
    ann = w.agent(cid, "ann", "+12125554277")
    w.start(cid)
    wait_for(lambda: w.line(ann).status == "up" and w.agent_row(ann).state == "ready", what="ann ready")

    with session_scope(w.sessions) as s:
        record_request(s, refused, channel="agent", received_at=w.clock.now(), added_by="test", reason="asked")
    with session_scope(w.sessions) as s:
        out = manual_dial(s, ann, "(212) 555-4232", w.clock.now())
    assert out.call is None and out.refused == ("internal_dnc",) and "internal DNC list" in out.why[0]
    assert w.fake_call(refused) is None and w.agent_row(ann).state == "ready"

    with session_scope(w.sessions) as s:
        out = manual_dial(s, ann, "212 555 4231", w.clock.now())
        assert out.call is not None
    done = wait_for(lambda: w.ended(typed), timeout=15, what="manual call over")
    leg = w.fake_call(typed)
    assert leg.conference == f"agent-{ann}" and leg.status == "completed"  # bridged into the agent's room
    assert done.agent_id == ann and done.connected_at is not None
    with session_scope(w.sessions) as s:
        assert s.scalar(select(CallAction.kind).where(CallAction.call_id == done.id)) == "manual"
        try:
            manual_dial(s, ann, "12", w.clock.now())
        except UserError as e:
            assert "not a phone number we can call" in str(e)
        else:
            raise AssertionError("a two-digit number was dialed")
