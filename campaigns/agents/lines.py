"""Agents' nailed-up lines: the leg that keeps each agent in their own conference while they work.

An agent joins their conference ``agent-<id>`` once, from the browser (Voice JS SDK) or on a phone the dialer
calls, and stays there through calls, wrap and pauses; answered customers are dropped in. Being "ready" in the
console is not enough to take a call: the line must be up, or the customer would be put into an empty room. So
the line's state lives here, fed by Twilio's webhooks (the join TwiML, the conference's participant events, the
agent leg's status), and the dial loop only connects agents whose line is up. "Ready" keeps meaning "can answer
now": an agent who goes ready without a line is paused with reason ``line-down`` (a phone agent's phone is rung
first) and made ready again the moment the line comes up; a line that drops takes its agent out of the pool at
once (a talking agent goes to wrap and the customer is hung up), so pacing never counts a seat that cannot answer.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

import phonenumbers
from sqlalchemy import select
from sqlalchemy.orm import Session

from campaigns.agents import service as agent_svc
from campaigns.agents.models import Agent, AgentLeg, AgentLine
from campaigns.campaign.models import Campaign
from dnc.errors import UserError

LINE_STATUSES = ("down", "dialing", "joining", "up", "away")  # away: visiting a colleague's room to consult
LINE_DOWN_REASON = "line-down"  # the pause reason of a ready agent whose line dropped (reports group by it)


@dataclass(frozen=True)
class LineView:
    agent_id: int
    phone: str | None
    call_sid: str | None
    status: str
    since: datetime


def all_lines(session: Session) -> list[tuple[str, str, LineView]]:
    """Every agent with a line record: (agent name, agent state, line)."""
    q = select(Agent.name, Agent.state, AgentLine).join(AgentLine, AgentLine.agent_id == Agent.id).order_by(Agent.name)
    return [(name, state, _view(line)) for name, state, line in session.execute(q)]


def _view(line: AgentLine) -> LineView:
    return LineView(line.agent_id, line.phone, line.call_sid, line.status, line.since)


def _line(session: Session, agent_id: int, now: datetime, lock: bool = True) -> AgentLine:
    line = session.get(AgentLine, agent_id, with_for_update=lock)
    if line is None:
        line = AgentLine(agent_id=agent_id, phone=None, call_sid=None, status="down", since=now)
        session.add(line)
        session.flush()
    return line


def get(session: Session, agent_id: int) -> LineView | None:
    line = session.get(AgentLine, agent_id)
    return _view(line) if line is not None else None


def set_phone(session: Session, agent_ref: int | str, phone: str | None, now: datetime) -> LineView:
    """Where the agent answers: an E.164 phone the dialer calls when they go ready, or None for the browser."""
    agent = agent_svc.get_agent(session, agent_ref)
    if phone is not None:
        phone = _e164(phone, agent.name)
    line = _line(session, agent.id, now)
    line.phone = phone
    session.flush()
    return _view(line)


def _e164(raw: str, who: str) -> str:
    try:
        num = phonenumbers.parse(raw.strip(), "US")
        ok = phonenumbers.is_valid_number(num)
    except phonenumbers.NumberParseException:
        ok = False
    if not ok:
        raise UserError(f"agent {who}: {raw!r} is not a valid phone number (write it as +12125550123)")
    return phonenumbers.format_number(num, phonenumbers.PhoneNumberFormat.E164)


# --- what Twilio reports about an agent's leg ---------------------------------------------------------------------
def leg_started(session: Session, agent_id: int, call_sid: str, now: datetime) -> LineView | None:
    """The leg fetched the join TwiML: it is entering the conference (a newer leg replaces an older one).

    A join is taken once per leg. The leg the line is waiting for (the phone leg the worker dialed, a leg coming
    home from a consult) goes to ``joining``; a leg never seen before is a new one (a browser connecting) and
    replaces the line's; a join of the line's own leg while it is joining or up changes nothing; any other leg seen
    before is a stale join (a signed request replayed after its leg was gone) and changes nothing. Returns None for
    a stale join."""
    line = _line(session, agent_id, now)
    seen = session.get(AgentLeg, call_sid) is not None
    if call_sid == line.call_sid:
        if line.status in ("dialing", "away"):
            if not seen:  # the phone leg the worker dialed: its first join
                session.add(AgentLeg(call_sid=call_sid, agent_id=agent_id, started_at=now))
            line.status, line.since = "joining", now
            session.flush()
        return _view(line)
    if seen:
        return None
    session.add(AgentLeg(call_sid=call_sid, agent_id=agent_id, started_at=now))
    line.call_sid, line.status, line.since = call_sid, "joining", now
    session.flush()
    return _view(line)


def leg_joined(session: Session, agent_id: int, call_sid: str, now: datetime) -> bool:
    """The conference says the agent's own leg is in: the line is up, and an agent who was held back only for
    want of a line (paused ``line-down``) is ready at once. False for any other participant (a customer dropped
    into the agent's room) or a leg that was already replaced."""
    line = session.get(AgentLine, agent_id, with_for_update=True)
    if line is None or line.call_sid != call_sid:
        return False
    if line.status != "up":
        line.status, line.since = "up", now
        session.flush()
        agent = session.get(Agent, agent_id)
        if agent is not None and agent.state == "paused" and agent.state_reason == LINE_DOWN_REASON:
            agent_svc.set_state(session, agent_id, "ready", now)
    return True


def leg_left(session: Session, agent_id: int, call_sid: str, now: datetime, ended: bool = False) -> str | None:
    """The agent's leg left the conference or ended: the line is down and the agent leaves the pool at once.
    Returns what happened to the agent (``wrap``, ``paused``) or None (another participant, or nothing to do)."""
    line = session.get(AgentLine, agent_id, with_for_update=True)
    if line is None or line.call_sid != call_sid or line.status == "down" or (line.status == "away" and not ended):
        return None  # away: the leg left its room for a consult in a colleague's (``away``); ended: it hung up
    line.status, line.since = "down", now
    line.call_sid = None
    session.flush()
    agent = session.get(Agent, agent_id)
    if agent is None:
        return None
    if agent.state == "talking":  # the customer is alone in the room: hang up, the agent goes to wrap
        agent_svc.set_state(session, agent_id, "wrap", now)
        return "wrap"
    if agent.state == "ready":
        agent_svc.set_state(session, agent_id, "paused", now, LINE_DOWN_REASON)
        return "paused"
    return None


def away(session: Session, agent_id: int, now: datetime) -> str | None:
    """The agent's leg is about to visit a colleague's room for a consult: leaving its own room is not a dropped
    line. Returns the leg's SID (None when the agent has no leg up)."""
    line = session.get(AgentLine, agent_id, with_for_update=True)
    if line is None or line.status != "up" or line.call_sid is None:
        return None
    line.status, line.since = "away", now
    session.flush()
    return line.call_sid


def back(session: Session, agent_id: int, now: datetime) -> None:
    """The consult never started: the line marked away is up again where it was."""
    line = session.get(AgentLine, agent_id, with_for_update=True)
    if line is not None and line.status == "away":
        line.status, line.since = "up", now
        session.flush()


# --- what the worker does -----------------------------------------------------------------------------------------
def is_up(session: Session, agent_id: int) -> bool:
    line = session.get(AgentLine, agent_id)
    return line is not None and line.status == "up"


def longest_idle_with_line(session: Session, campaign_id: int) -> int | None:
    """The ready agent of the campaign who has waited longest and whose line is up (ties: lowest id)."""
    return session.scalar(select(Agent.id).join(AgentLine, AgentLine.agent_id == Agent.id)
                          .where(Agent.campaign_id == campaign_id, Agent.state == "ready", AgentLine.status == "up")
                          .order_by(Agent.state_since, Agent.id).limit(1))


@dataclass(frozen=True)
class NailUp:
    agent_id: int
    phone: str
    caller_id: str


def to_nail_up(session: Session, campaign_ids: set[int] | None) -> list[NailUp]:
    """Ready agents who answer on a phone and have no leg yet: the dialer calls them into their conference."""
    q = (select(Agent.id, AgentLine.phone, Campaign.caller_id).join(AgentLine, AgentLine.agent_id == Agent.id)
         .join(Campaign, Campaign.id == Agent.campaign_id)
         .where(Agent.state == "ready", AgentLine.phone.is_not(None), AgentLine.status == "down")
         .order_by(Agent.id))
    if campaign_ids is not None:
        q = q.where(Agent.campaign_id.in_(campaign_ids))
    return [NailUp(a, p, c) for a, p, c in session.execute(q)]


def dialing(session: Session, agent_id: int, call_sid: str, now: datetime) -> None:
    """The worker rang the agent's phone: the line waits for this leg's join (``leg_started`` records the leg; only
    the webhooks write ``agent_legs``, so the worker never races them for a leg's row)."""
    line = _line(session, agent_id, now)
    if line.status == "down":
        line.call_sid, line.status, line.since = call_sid, "dialing", now
        session.flush()


def to_release(session: Session) -> list[LineView]:
    """Lines still up (or coming up) for agents who logged out: the dialer hangs their legs up."""
    q = (select(AgentLine).join(Agent, Agent.id == AgentLine.agent_id)
         .where(Agent.state == "offline", AgentLine.status != "down", AgentLine.call_sid.is_not(None))
         .order_by(AgentLine.agent_id))
    return [_view(x) for x in session.scalars(q)]


def released(session: Session, agent_id: int, now: datetime) -> None:
    line = session.get(AgentLine, agent_id, with_for_update=True)
    if line is not None:
        line.status, line.call_sid, line.since = "down", None, now


def pause_unlined(session: Session, campaign_ids: set[int] | None, now: datetime,
                  rung: Collection[int] | None = None) -> list[int]:
    """Ready agents whose line is not up are paused (``line-down``) at once, so the pacer never dials for a seat
    that cannot answer; ``leg_joined`` makes them ready again the moment their line comes up. Returns their ids.

    ``rung``: the agents this turn read as to be rung (``to_nail_up``). A phone agent whose line is still down and
    who is not among them went ready after that read: left ready, the next turn rings them (paused, nobody would)."""
    q = (select(Agent.id).outerjoin(AgentLine, AgentLine.agent_id == Agent.id)
         .where(Agent.state == "ready",  # away: fetched for a consult this instant (``away``), not a lost line
                (AgentLine.status.is_(None)) | (AgentLine.status.not_in(("up", "away"))))
         .order_by(Agent.id))
    if campaign_ids is not None:
        q = q.where(Agent.campaign_id.in_(campaign_ids))
    paused = []
    for agent_id in session.scalars(q).all():
        line = session.get(AgentLine, agent_id, with_for_update=True, populate_existing=True)
        if line is not None and line.status in ("up", "away"):
            continue  # came up since the query read it: pausing now would leave the agent out with a good line
        if rung is not None and agent_id not in rung and line is not None and line.status == "down" \
                and line.phone is not None:
            continue
        if agent_svc.set_state(session, agent_id, "paused", now, LINE_DOWN_REASON):
            paused.append(agent_id)
    return paused
