"""Agent services: what the console calls (log in, ready, pause with a reason, log out, end a call, disposition)
and what the dial loop calls (put an agent on a call, into wrap, free it after a machine).

Every state change writes ``agents.state``/``state_since`` and one ``agent_state_events`` row in the same
transaction: the reports compute occupancy and wait from that history. Rules of the state machine are in
``campaigns.agents.states``; changes that race with the dial loop (an agent taken for a call while pausing) are
conditional updates on the agent row, so two workers can never put one agent on two calls.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from campaigns import openids, wake
from campaigns.agents.models import Agent, AgentStateEvent
from campaigns.agents.states import check_move, check_reason
from campaigns.campaign.models import Campaign, Disposition
from campaigns.dispatch.models import Call
from campaigns.dispatch.rules import DispositionFlags, RetryRules, after_disposition, apply
from campaigns.leads.models import Lead
from dnc.errors import UserError

TAKEN_OFF = "floor"  # the state reason of a seat a manager took off the live floor


# --- agents ------------------------------------------------------------------------------------------------------
def create_agent(session: Session, name: str, now: datetime, campaign: Campaign | None = None,
                 simulated: bool = False) -> Agent:
    name = name.strip()
    if not name:
        raise UserError("agent name is empty")
    if session.scalar(select(Agent.id).where(Agent.name == name)) is not None:
        raise UserError(f"an agent named {name!r} already exists")
    agent = Agent(name=name, campaign_id=campaign.id if campaign else None, state="offline", state_since=now,
                  simulated=simulated)
    session.add(agent)
    session.flush()
    return agent


def get_agent(session: Session, ref: int | str, lock: bool = False) -> Agent:
    """An agent by id or name (``UserError`` naming the agent when there is none)."""
    q = select(Agent).where(Agent.id == ref) if isinstance(ref, int) else select(Agent).where(Agent.name == ref)
    agent = session.scalar(q.with_for_update() if lock else q)
    if agent is None:
        raise UserError(f"no agent {ref!r}")
    return agent


def assign(session: Session, agent: Agent, campaign: Campaign | None) -> None:
    """Move an agent to another campaign; only while logged out, so no call or pacer is left half-counted."""
    if agent.state != "offline":
        raise UserError(f"agent {agent.name} is {agent.state}: log out before changing campaign")
    agent.campaign_id = campaign.id if campaign else None


def record(session: Session, agent: Agent, state: str, reason: str | None, at: datetime) -> None:
    """Write the new state and its history row, never dated before the state it replaces: the console and each
    worker write with their own clocks (a worker with the time its turn began), and a change dated before the one
    it overtakes would be dropped as stale by the pacer, which would count the agent in the old state for ever."""
    if agent.state_since is not None and at < agent.state_since:
        at = agent.state_since
    agent.state, agent.state_reason, agent.state_since = state, reason, at
    if state not in ("talking", "wrap"):  # off the call: "after this call" is done, or overtaken by a choice
        agent.after_call = agent.after_call_reason = None
    session.add(AgentStateEvent(agent_id=agent.id, campaign_id=agent.campaign_id, state=state, reason=reason, at=at))
    session.flush()
    if state == "ready":
        wake.notify(session, "agent")  # the campaign's worker routes a waiting answer to them now


def set_state(session: Session, agent_ref: int | str, state: str, now: datetime, reason: str | None = None) -> bool:
    """The console's state changes (ready, paused with a reason, offline, wrap = end the call). Returns False
    when nothing changed. Leaving a call (wrap or offline while talking) asks the dial loop to hang it up. Going
    ready, or joining paused, needs the seat on the campaign's team (``campaigns.agents.teams``); going offline
    may say why (``reason``: a code such as ``floor`` when a manager took the seat off the floor)."""
    agent = get_agent(session, agent_ref, lock=True)
    if state == "paused":
        reason = check_reason(reason)
        if agent.state == "paused" and agent.state_reason == reason:
            return False
    elif state == "offline" and reason is not None:
        reason = check_reason(reason)  # why the seat left: taken off the floor, off the campaign's team
    else:
        reason = None
    if state == "ready" and agent.campaign_id is None:
        raise UserError(f"agent {agent.name} is not assigned to a campaign")
    if state == "ready" or (state == "paused" and agent.state == "offline"):
        from campaigns.agents.teams import check_may_take_calls

        check_may_take_calls(session, agent, agent.campaign_id)  # the campaign's team, whatever a page offered
    if not check_move(agent.state, state):
        return False
    if agent.state == "talking" and agent.call_id is not None:
        # only the call's own agent hangs the customer up (an agent asked to consult on a call just leaves it)
        session.execute(update(Call).where(Call.id == agent.call_id, Call.ended_at.is_(None),
                                           Call.agent_id == agent.id, Call.hangup_requested_at.is_(None))
                        .values(hangup_requested_at=now).execution_options(synchronize_session=False))
        agent.call_id = None
    record(session, agent, state, reason, now)
    return True


def go_ready(session: Session, agent_ref: int | str, now: datetime) -> bool:
    return set_state(session, agent_ref, "ready", now)


def pause(session: Session, agent_ref: int | str, reason: str, now: datetime) -> bool:
    return set_state(session, agent_ref, "paused", now, reason)


def go_offline(session: Session, agent_ref: int | str, now: datetime, reason: str | None = None) -> bool:
    return set_state(session, agent_ref, "offline", now, reason)


def end_call(session: Session, agent_ref: int | str, now: datetime) -> Call:
    """The agent hangs up: the agent goes to wrap at once; the worker's next turn tells the carrier."""
    agent = get_agent(session, agent_ref, lock=True)
    if agent.state != "talking" or agent.call_id is None:
        raise UserError(f"agent {agent.name} is {agent.state}, not on a call")
    call = session.get(Call, agent.call_id)
    set_state(session, agent.id, "wrap", now)
    return call


def current_call(session: Session, agent_ref: int | str) -> Call | None:
    """The call the agent is on, else the last one connected to it (the one wrap-up is about)."""
    agent = get_agent(session, agent_ref)
    if agent.call_id is not None:
        return session.get(Call, agent.call_id)
    return session.scalar(select(Call).where(Call.agent_id == agent.id, Call.connected_at.is_not(None))
                          .order_by(Call.connected_at.desc(), Call.id.desc()).limit(1))


def _add_to_dnc(session: Session, e164: str, **kw) -> object:
    from campaigns.compliance.dnc_requests import record_request

    return record_request(session, e164, **kw)


def disposition(session: Session, call_id: int, code: str, now: datetime, *, notes: str = "",
                callback_at: datetime | None = None, agent_ref: int | str | None = None,
                add_to_dnc: Callable[..., object] = _add_to_dnc, personal: bool | None = None) -> Call:
    """Record the agent's disposition on a connected call and move the lead on (final, retry or callback).

    A DNC disposition puts the number on the company's internal do-not-call list at once and cancels its open
    callbacks (``campaigns.compliance.dnc_requests``). A callback goes through the callback engine
    (``campaigns.callbacks.service``): due at the first legal instant at or after the time agreed, personal to the
    agent unless ``personal`` is False (default: the campaign's ``callbacks_personal`` setting).
    """
    call = session.get(Call, call_id, with_for_update=True)
    if call is None:
        raise UserError(f"no call {call_id}")
    if call.connected_at is None:
        raise UserError(f"call {call_id} never reached an agent: nothing to disposition")
    if call.disposition_code is not None:
        raise UserError(f"call {call_id} already has disposition {call.disposition_code}")
    agent = None
    if agent_ref is not None:
        agent = get_agent(session, agent_ref)
        if call.agent_id != agent.id:
            raise UserError(f"call {call_id} was not connected to agent {agent.name}")
    row = session.scalar(select(Disposition).where(Disposition.campaign_id == call.campaign_id,
                                                   Disposition.code == code))
    if row is None:
        known = session.scalars(select(Disposition.code).where(Disposition.campaign_id == call.campaign_id)
                                .order_by(Disposition.sort)).all()
        raise UserError(f"disposition {code!r} is not one of {', '.join(known)}")
    flags = DispositionFlags.of(row)
    lead = session.get(Lead, call.lead_id, with_for_update=True) if call.lead_id is not None else None
    if lead is not None and lead.status == "dialing":
        campaign = session.get(Campaign, call.campaign_id)
        apply(lead, after_disposition(RetryRules.of(campaign), lead.attempts, flags, callback_at, now), now)
        if flags.is_callback and not flags.is_dnc:
            from campaigns.callbacks import service as callbacks
            from campaigns.campaign.dial_settings import settings_of

            mine = settings_of(session, campaign.id).callbacks_personal if personal is None else personal
            cb = callbacks.schedule(session, lead, callback_at, now, note=notes,
                                    agent_id=call.agent_id if mine else None)
            callback_at = cb.due_at  # what will really happen: the first legal instant
    call.disposition_code, call.dispositioned_at, call.notes = code, now, notes or call.notes
    if flags.is_callback:
        call.callback_at = callback_at
    if flags.is_dnc:
        who = agent.name if agent is not None else f"agent #{call.agent_id}"
        add_to_dnc(session, call.phone, scope="company", campaign=None, channel="agent", received_at=now,
                   added_by=who, source_ref=f"call:{call.id}", reason=f"disposition {code} on call {call.id}")
    session.flush()
    return call


# --- what the dial loop does to agents ------------------------------------------------------------------------------
def longest_idle(session: Session, campaign_id: int, call_id: int | None = None,
                 skip: frozenset[int] = frozenset()) -> int | None:
    """The ready agent of the campaign who has waited longest (ties: lowest id), none of ``skip`` (agents whose
    shift is over); for the call of a personal callback, its agent when ready
    (``campaigns.callbacks.service.callback_agent``)."""
    if call_id is not None:
        from campaigns.callbacks.service import callback_agent

        mine = callback_agent(session, call_id)
        if mine is not None:
            return mine
    q = select(Agent.id).where(Agent.campaign_id == campaign_id, Agent.state == "ready")
    if skip:
        q = q.where(Agent.id.not_in(skip))
    return session.scalar(q.order_by(Agent.state_since, Agent.id).limit(1))


def connect(session: Session, call_id: int, agent_id: int, at: datetime) -> bool:
    """Put a ready agent on an answered call, atomically: False when the agent is no longer ready (another
    worker took them, they paused) or the call was connected or ended meanwhile."""
    call = session.get(Call, call_id, with_for_update=True)
    if call is None or call.ended_at is not None or call.connected_at is not None:
        return False
    taken = session.execute(update(Agent).where(Agent.id == agent_id, Agent.state == "ready")
                            .values(state="talking", state_reason=None, state_since=at, call_id=call_id)
                            .execution_options(synchronize_session=False))
    if taken.rowcount != 1:
        return False
    campaign_id = session.scalar(select(Agent.campaign_id).where(Agent.id == agent_id))
    session.add(AgentStateEvent(agent_id=agent_id, campaign_id=campaign_id, state="talking", at=at))
    # "bridging" until the carrier has joined the two (``bridged``): a worker that dies in between leaves a call
    # that looks connected but where nobody answered the person; reconciliation finds it by this status
    call.connected_at, call.agent_id, call.status = at, agent_id, "bridging"
    session.flush()
    return True


def bridged(session: Session, call_id: int) -> None:
    """The carrier joined the call to its agent: the person is talking to someone."""
    session.execute(update(Call).where(Call.id == call_id, Call.status == "bridging").values(status="connected")
                    .execution_options(synchronize_session=False))


def joined_agent(session: Session, call_sid: str, agent_id: int) -> bool:
    """The carrier says the person's leg entered the room of the agent it was connected to: bridged, whoever
    records it first. The worker that moved the leg may have died before writing ``bridged``; a restart that took
    the call for "connected but never joined" would pull the person out of a live conversation to the safe-harbor
    message and count an abandon. False when no call of that agent was waiting for it."""
    done = session.execute(update(Call).where(Call.provider_sid == call_sid, Call.agent_id == agent_id,
                                              Call.status == "bridging", Call.ended_at.is_(None))
                           .values(status="connected").execution_options(synchronize_session=False))
    return done.rowcount == 1


def unconnect(session: Session, call_id: int, agent_id: int, at: datetime) -> None:
    """Undo ``connect`` when the carrier could not bridge the call: the agent is ready again, the call waits. A call
    that ended meanwhile (the failure was heard late) is left as its end left it, agent included."""
    call = session.get(Call, call_id)
    if call is not None and call.ended_at is not None:
        return
    agent = session.get(Agent, agent_id, with_for_update=True)
    if agent is not None and agent.call_id == call_id:
        agent.call_id = None
        record(session, agent, "ready", None, at)
    if call is not None and call.agent_id == agent_id:
        call.connected_at, call.agent_id, call.status = None, None, "answered"


def _release(session: Session, call: Call, state: str, at: datetime) -> int | None:
    others = select(Agent).where(Agent.call_id == call.id)
    if call.agent_id is not None:
        others = others.where(Agent.id != call.agent_id)
    for consulted in session.scalars(others).all():
        consulted.call_id = None  # asked to consult on a call that ended: free again (``campaigns.agents.transfer``)
        record(session, consulted, *_free(consulted), at)
    if call.agent_id is None:
        return None
    agent = session.get(Agent, call.agent_id, with_for_update=True)
    if agent is None or agent.call_id != call.id:
        return None  # the agent already left this call (logged out, or on the next one)
    check_move(agent.state, state, "loop")
    agent.call_id = None
    record(session, agent, *(_free(agent) if state == "ready" else (state, None)), at)
    return agent.id


def _free(agent: Agent) -> tuple[str, str | None]:
    """Where a seat freed without a wrap-up goes: ready, unless it said it pauses or logs out after the call."""
    return (agent.after_call, agent.after_call_reason) if agent.after_call else ("ready", None)


def free_agent(session: Session, call_id: int, at: datetime) -> int | None:
    """Detection said machine after the connect: the agent is ready again at once (no wrap for a machine)."""
    call = session.get(Call, call_id)
    return None if call is None else _release(session, call, "ready", at)


def release_after_call(session: Session, call: Call, at: datetime) -> int | None:
    """The call ended: its agent, if still on it, goes to wrap; a preview agent whose call was never answered
    (nothing to wrap up) is ready again."""
    return _release(session, call, "wrap" if call.connected_at is not None else "ready", at)


def events_since(session: Session, cursor: int, limit: int = 10_000) -> list:
    """History rows after ``cursor`` as (id, agent_id, campaign_id, state, reason, at) tuples, oldest first."""
    e = AgentStateEvent
    return list(session.execute(select(e.id, e.agent_id, e.campaign_id, e.state, e.reason, e.at)
                                .where(e.id > cursor).order_by(e.id).limit(limit)))


def events_within(session: Session, ranges: list[list]) -> list:
    """History rows whose ids are in the ranges (``campaigns.openids``), like ``events_since``."""
    e = AgentStateEvent
    return [r for part in openids.batches(ranges)
            for r in session.execute(select(e.id, e.agent_id, e.campaign_id, e.state, e.reason, e.at)
                                     .where(openids.within(e.id, part)).order_by(e.id))]
