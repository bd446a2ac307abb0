"""An agent's conference events arrive late and out of order, not only twice: an event older than one already acted
on for the same line is recorded and not acted on. A leave of the agent's leg from the room it was in before a
consult, delivered for the first time after the leg came home to a new room, must not take the line down (the
talking agent went to wrap and the customer was left alone); a join of the agent's leg delivered late while the leg
visits a colleague's room must not mark the line up (customers would be dropped into an empty room).

Through the signed webhooks (``/twilio/agent/conference``, ``/twilio/agent/join``) and the real dial loop."""

from __future__ import annotations

from sqlalchemy import select

from campaigns.agents import lines as agent_lines
from campaigns.agents.models import Agent
from campaigns.dispatch.models import Call
from campaigns.inbox import service as inbox
from dialer.carriers.twilio.pump import CallbackPump
from tests.dialer.carriers.twilio.support import ACCOUNT_SID
from tests.dialer.carriers.twilio.test_replay import SIDS, _signed, client, floor, run, stream  # noqa: F401

OLD_ROOM, NEW_ROOM = "CF" + "a" * 32, "CF" + "b" * 32


def _talking(floor, client, sessions, clock) -> tuple[int, str]:  # noqa: F811
    """The first customer answered and is with an agent; returns the agent and the agent's leg."""
    loop, _, _ = floor
    pump = CallbackPump(sessions, loop.handle)
    answered = next(item for item in stream(SIDS[0], clock, verdict="human") if item[1]["CallStatus"] == "in-progress")
    run(pump, client, loop, clock, [answered, ("amd", {"CallSid": SIDS[0], "AccountSid": ACCOUNT_SID,
                                                       "AnsweredBy": "human"})])
    with sessions() as s:
        agent_id = s.scalar(select(Call.agent_id).where(Call.provider_sid == SIDS[0]))
        return agent_id, agent_lines.get(s, agent_id).call_sid


def _event(client, agent_id: int, leg: str, room: str, event: str, seq: int) -> None:  # noqa: F811
    _signed(client, "/twilio/agent/conference",
            {"CallSid": leg, "AccountSid": ACCOUNT_SID, "ConferenceSid": room, "FriendlyName": f"agent-{agent_id}",
             "StatusCallbackEvent": f"participant-{event}", "SequenceNumber": str(seq)}, f"?agent={agent_id}")


def _stored(sessions, leg: str, room: str, seq: int) -> inbox.CarrierCallback | None:
    with sessions() as s:
        return s.scalar(select(inbox.CarrierCallback).where(inbox.CarrierCallback.call_sid == leg,
                                                            inbox.CarrierCallback.event_key == f"conf:{room}:{seq}"))


def test_a_late_leave_from_the_room_before_a_consult_leaves_the_line_home_up(floor, client, sessions, clock):  # noqa: F811
    agent_id, leg = _talking(floor, client, sessions, clock)
    _event(client, agent_id, leg, OLD_ROOM, "join", 1)  # the agent's leg in its room
    with sessions() as s:
        assert agent_lines.away(s, agent_id, clock.now()) == leg  # fetched to a colleague for a consult
        s.commit()
    # the leave of OLD_ROOM is delayed at Twilio; the leg comes home, its room is made again (a new conference)
    _signed(client, "/twilio/agent/join", {"CallSid": leg, "AccountSid": ACCOUNT_SID,
                                           "From": f"client:agent-{agent_id}"})
    _event(client, agent_id, leg, NEW_ROOM, "join", 1)
    with sessions() as s:
        assert agent_lines.get(s, agent_id).status == "up"
    _event(client, agent_id, leg, OLD_ROOM, "leave", 2)  # delivered for the first time, late
    with sessions() as s:
        assert agent_lines.get(s, agent_id).status == "up" and agent_lines.get(s, agent_id).call_sid == leg
        assert s.get(Agent, agent_id).state == "talking"  # not sent to wrap, the customer not left alone
    late = _stored(sessions, leg, OLD_ROOM, 2)
    assert late is not None and late.result == "stale"  # recorded, not acted on
    # the leg's real leave of the room it is in still takes the line down
    _event(client, agent_id, leg, NEW_ROOM, "leave", 2)
    with sessions() as s:
        assert agent_lines.get(s, agent_id).status == "down" and s.get(Agent, agent_id).state == "wrap"


def test_a_late_join_while_the_leg_visits_a_colleague_leaves_the_line_away(floor, client, sessions, clock):  # noqa: F811
    agent_id, leg = _talking(floor, client, sessions, clock)
    with sessions() as s:
        agent_lines.away(s, agent_id, clock.now())
        s.commit()
    _event(client, agent_id, leg, OLD_ROOM, "leave", 2)  # leaving its room for the consult: not a dropped line
    _event(client, agent_id, leg, OLD_ROOM, "join", 1)  # its join of that room, delivered for the first time now
    with sessions() as s:
        assert agent_lines.get(s, agent_id).status == "away"
    assert _stored(sessions, leg, OLD_ROOM, 1).result == "stale"
    _event(client, agent_id, leg, "CF" + "c" * 32, "join", 1)  # a join of another of its rooms, never fetched
    with sessions() as s:
        assert agent_lines.get(s, agent_id).status == "away"
    # home through the join URL, then the new room's join: up
    _signed(client, "/twilio/agent/join", {"CallSid": leg, "AccountSid": ACCOUNT_SID,
                                           "From": f"client:agent-{agent_id}"})
    _event(client, agent_id, leg, NEW_ROOM, "join", 1)
    with sessions() as s:
        assert agent_lines.get(s, agent_id).status == "up"
    assert _stored(sessions, leg, NEW_ROOM, 1).result == "handled"


def _stamped(client, agent_id: int, leg: str, room: str, event: str, seq: int, at, name: str = "") -> None:  # noqa: F811
    """A conference event with Twilio's ``Timestamp`` (whole seconds) and the room's friendly name."""
    from email.utils import format_datetime

    _signed(client, "/twilio/agent/conference",
            {"CallSid": leg, "AccountSid": ACCOUNT_SID, "ConferenceSid": room,
             "FriendlyName": name or f"agent-{agent_id}", "StatusCallbackEvent": f"participant-{event}",
             "SequenceNumber": str(seq), "Timestamp": format_datetime(at.replace(microsecond=0), usegmt=True)},
            f"?agent={agent_id}")


def test_a_late_join_of_the_room_before_a_consult_delivered_while_the_leg_comes_home_changes_nothing(
        floor, client, sessions, clock):  # noqa: F811
    agent_id, leg = _talking(floor, client, sessions, clock)
    joined_old = clock.now()  # the leg entered its room then; Twilio's join event is held back
    clock.advance(30)
    with sessions() as s:
        assert agent_lines.away(s, agent_id, clock.now()) == leg  # fetched to a colleague for a consult
        s.commit()
    clock.advance(20)
    _signed(client, "/twilio/agent/join", {"CallSid": leg, "AccountSid": ACCOUNT_SID,
                                           "From": f"client:agent-{agent_id}"})  # home: the line is joining
    # the join of the old room arrives first, long after it happened, then the join of the leg's new room
    _stamped(client, agent_id, leg, OLD_ROOM, "join", 1, joined_old)
    with sessions() as s:
        assert agent_lines.get(s, agent_id).status == "joining"  # not up in a room the leg has left
    assert _stored(sessions, leg, OLD_ROOM, 1).result == "stale"
    colleague = "CF" + "d" * 32  # the colleague's room it visited: its join, late too
    _stamped(client, agent_id, leg, colleague, "join", 4, clock.now(), name=f"agent-{agent_id + 1}")
    with sessions() as s:
        assert agent_lines.get(s, agent_id).status == "joining"
    clock.advance(1)
    _stamped(client, agent_id, leg, NEW_ROOM, "join", 1, clock.now())
    with sessions() as s:
        assert agent_lines.get(s, agent_id).status == "up"
    # the old room's leave, last: the line stays up in the new room, the agent with the customer
    _stamped(client, agent_id, leg, OLD_ROOM, "leave", 2, clock.now())
    with sessions() as s:
        line = agent_lines.get(s, agent_id)
        assert (line.status, line.call_sid) == ("up", leg) and s.get(Agent, agent_id).state == "talking"
    # the leg's real leave of the room it is in still takes the line down
    _stamped(client, agent_id, leg, NEW_ROOM, "leave", 2, clock.now())
    with sessions() as s:
        assert agent_lines.get(s, agent_id).status == "down"
