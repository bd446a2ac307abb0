"""Hold, transfer and consult on a live call: the seat's side, in the database (the carrier's side is
``dialer.carriers.seat``).

The customer's call stays **one** ``calls`` row whatever the agents do with it, so reports count it once:

- *hold / resume*: the customer hears hold music; the agent stays on the call.
- *cold transfer*: the customer is sent to a number; the agent leaves the call and wraps it up (dispositions it).
- *warm transfer*: the customer is held while the agent consults another agent (who is taken off the floor for
  the consult) or a supervisor on a phone number; *complete* hands the customer over (to an agent: ``calls.agent_id``
  moves to them, they disposition the call, the first agent is ready again; to a number: the first agent wraps up),
  *cancel* ends the consult and the agent is back with the customer.

Every step is a ``call_actions`` row: the history of the call, and where it stands now (held? consulting whom?).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from campaigns.agents.models import Agent, AgentLine, AgentStateEvent, CallAction
from campaigns.agents.service import get_agent, record
from campaigns.campaign.models import Campaign
from campaigns.dispatch.models import Call
from campaigns.leads.phones import normalize
from dnc.errors import UserError

CONSULT_REASON = "consult"  # the reason on the consulted agent's "talking" event (reports can tell it apart)


@dataclass(frozen=True)
class OnCall:
    """The agent, their live customer call and what is going on with it."""

    agent: Agent
    call: Call
    held: bool
    consult: CallAction | None  # the consult in progress, if any


def _actions(session: Session, call_id: int) -> list[CallAction]:
    return list(session.scalars(select(CallAction).where(CallAction.call_id == call_id).order_by(CallAction.id)))


def is_held(actions: list[CallAction]) -> bool:
    last = next((a for a in reversed(actions) if a.kind in ("hold", "resume")), None)
    return last is not None and last.kind == "hold"


def open_consult(actions: list[CallAction]) -> CallAction | None:
    last = next((a for a in reversed(actions) if a.kind in ("consult", "complete", "cancel")), None)
    return last if last is not None and last.kind == "consult" else None


def on_call(session: Session, agent_ref: int | str, lock: bool = True) -> OnCall:
    """The agent's connected, live customer call; a plain refusal otherwise."""
    agent = get_agent(session, agent_ref, lock=lock)
    call = session.get(Call, agent.call_id, with_for_update=lock) if agent.call_id else None
    if agent.state != "talking" or call is None:
        raise UserError("you are not on a call")
    if call.agent_id != agent.id:
        raise UserError("this call is another agent's: you were asked to consult on it")
    if call.connected_at is None or call.ended_at is not None:
        raise UserError("the customer is not connected (the call is still ringing or already over)")
    actions = _actions(session, call.id)
    return OnCall(agent, call, is_held(actions), open_consult(actions))


def call_state(session: Session, call_id: int) -> tuple[bool, CallAction | None]:
    """(held, open consult) of a call, for the seat page."""
    actions = _actions(session, call_id)
    return is_held(actions), open_consult(actions)


def _act(session: Session, oc: OnCall, kind: str, now: datetime, **more) -> CallAction:
    row = CallAction(call_id=oc.call.id, agent_id=oc.agent.id, kind=kind, at=now, **more)
    session.add(row)
    session.flush()
    return row


def hold(session: Session, agent_ref: int | str, now: datetime) -> OnCall:
    oc = on_call(session, agent_ref)
    if oc.held:
        raise UserError("the customer is already on hold")
    _act(session, oc, "hold", now)
    return OnCall(oc.agent, oc.call, True, oc.consult)


def resume(session: Session, agent_ref: int | str, now: datetime) -> OnCall:
    oc = on_call(session, agent_ref)
    if not oc.held:
        raise UserError("the customer is not on hold")
    if oc.consult is not None:
        raise UserError("finish the consult first: complete the transfer or cancel it")
    _act(session, oc, "resume", now)
    return OnCall(oc.agent, oc.call, False, None)


def transfer_number(session: Session, campaign_id: int, raw: str) -> str:
    """A number to transfer to, in E.164; the refusal says what was wrong in words."""
    campaign = session.get(Campaign, campaign_id)
    try:
        return normalize(raw, campaign.region if campaign else "US")
    except UserError:
        raise UserError(f"{raw.strip() or 'an empty number'} is not a phone number we can call "
                        "(write it like +1 212 555 0123)") from None


def _leave(session: Session, agent: Agent, state: str, now: datetime) -> None:
    """The agent is off the customer's call without hanging it up (the customer went on elsewhere)."""
    agent.call_id = None
    record(session, agent, state, None, now)


def cold_transfer(session: Session, agent_ref: int | str, raw_number: str, now: datetime) -> tuple[OnCall, str]:
    """Send the customer to a number; the agent goes to wrap to disposition the call (the call stays theirs)."""
    oc = on_call(session, agent_ref)
    if oc.consult is not None:
        raise UserError("finish the consult first: complete the transfer or cancel it")
    number = transfer_number(session, oc.call.campaign_id, raw_number)
    if number == oc.call.phone:
        raise UserError("that is the customer's own number")
    _act(session, oc, "cold", now, to_number=number)
    _leave(session, oc.agent, "wrap", now)
    return oc, number


def consult_agents(session: Session, agent_ref: int | str) -> list[tuple[int, str]]:
    """Who can be consulted: agents of the same campaign who are ready (and, with a line record, whose line is up)."""
    me = get_agent(session, agent_ref)
    q = (select(Agent.id, Agent.name).outerjoin(AgentLine, AgentLine.agent_id == Agent.id)
         .where(Agent.campaign_id == me.campaign_id, Agent.state == "ready", Agent.id != me.id,
                (AgentLine.status.is_(None)) | (AgentLine.status.in_(("up", "away"))))  # away: being fetched
         .order_by(Agent.name))
    return [(i, n) for i, n in session.execute(q)]


def start_consult(session: Session, agent_ref: int | str, now: datetime, *, to_agent: int | None = None,
                  to_number: str | None = None) -> OnCall:
    """Hold the customer and open a consult with a ready agent (taken off the floor at once, atomically) or a
    number. Returns the call with its new consult."""
    if (to_agent is None) == (to_number is None):
        raise UserError("choose an agent or give a supervisor's number")
    oc = on_call(session, agent_ref)
    if oc.consult is not None:
        raise UserError("a consult is already open: complete the transfer or cancel it")
    if not oc.held:
        _act(session, oc, "hold", now)
    if to_agent is not None:
        if to_agent not in dict(consult_agents(session, oc.agent.id)):
            raise UserError("that agent is not free to take a consult right now (ready, on this campaign)")
        taken = session.execute(update(Agent).where(Agent.id == to_agent, Agent.state == "ready")
                                .values(state="talking", state_reason=CONSULT_REASON, state_since=now,
                                        call_id=oc.call.id).execution_options(synchronize_session=False))
        if taken.rowcount != 1:
            raise UserError("that agent just took another call; choose someone else")
        campaign_id = session.scalar(select(Agent.campaign_id).where(Agent.id == to_agent))
        session.add(AgentStateEvent(agent_id=to_agent, campaign_id=campaign_id, state="talking",
                                    reason=CONSULT_REASON, at=now))
        row = _act(session, oc, "consult", now, to_agent_id=to_agent)
    else:
        number = transfer_number(session, oc.call.campaign_id, to_number)
        row = _act(session, oc, "consult", now, to_number=number)
    return OnCall(oc.agent, oc.call, True, row)


def consult_leg(session: Session, action: CallAction, sid: str) -> None:
    """The carrier's leg of a consulted number (to move it along with the customer on completion)."""
    action.leg_sid = sid
    session.flush()


def complete(session: Session, agent_ref: int | str, now: datetime) -> tuple[OnCall, CallAction]:
    """Hand the customer over: to the consulted agent (the call becomes theirs; this agent is ready again) or to
    the consulted number (this agent wraps the call up)."""
    oc = on_call(session, agent_ref)
    if oc.consult is None:
        raise UserError("there is no consult to complete")
    consult = oc.consult
    _act(session, oc, "complete", now, to_agent_id=consult.to_agent_id, to_number=consult.to_number)
    _act(session, oc, "resume", now)
    if consult.to_agent_id is not None:
        taker = session.get(Agent, consult.to_agent_id, with_for_update=True)
        if taker is None or taker.call_id != oc.call.id:
            raise UserError("the consulted agent has left the consult; cancel it")
        oc.call.agent_id = taker.id  # the record follows the customer: one call, now the taker's
        _leave(session, oc.agent, "ready", now)
    else:
        _leave(session, oc.agent, "wrap", now)
    return oc, consult


def cancel(session: Session, agent_ref: int | str, now: datetime) -> tuple[OnCall, CallAction]:
    """End the consult: a consulted agent is ready again; the customer is back with this agent."""
    oc = on_call(session, agent_ref)
    if oc.consult is None:
        raise UserError("there is no consult to cancel")
    consult = oc.consult
    _act(session, oc, "cancel", now, to_agent_id=consult.to_agent_id, to_number=consult.to_number)
    _act(session, oc, "resume", now)
    if consult.to_agent_id is not None:
        other = session.get(Agent, consult.to_agent_id, with_for_update=True)
        if other is not None and other.call_id == oc.call.id:
            _leave(session, other, "ready", now)
    return oc, consult


def consulting_on(session: Session, agent_id: int) -> Call | None:
    """For a consulted agent: the call they were asked to consult on (someone else's, still theirs to take)."""
    agent = session.get(Agent, agent_id)
    if agent is None or agent.call_id is None:
        return None
    call = session.get(Call, agent.call_id)
    return call if call is not None and call.agent_id != agent_id else None
