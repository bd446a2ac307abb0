"""Which of an agent's conference events may still be acted on.

Twilio posts conference events late, out of order and again. The same event twice is known by its conference and
sequence number (``agents._first_time``); this module refuses an event that is older than one already acted on for
the same line, which is recorded (result ``stale``) and changes nothing:

- within one conference, an event of a leg whose ``SequenceNumber`` is below the last one acted on for that leg
  there (a join delivered after the leave that followed it);
- for the agent's own leg, the room it is in now is the conference of the last join acted on. A leave from another
  room is about a stay that is over (the room the leg left for a consult, delivered after the leg came home to a
  new one): the line stays up. A join while the line is ``away`` (the leg visits a colleague's room), or of a room
  other than the current one while the line is ``up``, is a late one: a leg enters a new room of its own only
  through the join URL, which marks the line ``joining`` first.
- while the line is ``joining`` (the leg sent home through the join URL, which makes a new room), a join is of
  that new room only if it is the agent's own room (``agent-<id>``: not the colleague's room a consult visited), not
  the room of the last join acted on (the room the leg left), and did not happen before the line went joining by
  Twilio's ``Timestamp`` (``STAMP_MARGIN_S`` allowed for its whole seconds and the two clocks): the old room's join,
  held back until after the leg came home, would otherwise mark the line up in the room it left, and its leave,
  following, take the line down under the talking agent.

Events of the same conference are ordered by Twilio's sequence number; events of different conferences are not
comparable, which is why the line's current room, not a number, decides across them.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from campaigns.agents.models import AgentLine
from campaigns.inbox import service as inbox

AGENT_KEY = "_agent"  # stored in the event's payload: whose callback URL it came to (``?agent=``)
STAMP_MARGIN_S = 2.0  # Twilio stamps whole seconds, and its clock and ours may differ a little


def _applied(s: Session, provider: str, leg: str) -> list[inbox.CarrierCallback]:
    """The leg's conference events acted on, oldest first (few: a leg's own joins and leaves)."""
    return list(s.scalars(select(inbox.CarrierCallback).where(
        inbox.CarrierCallback.provider == provider, inbox.CarrierCallback.call_sid == leg,
        inbox.CarrierCallback.kind == inbox.CONFERENCE, inbox.CarrierCallback.result == "handled")
        .order_by(inbox.CarrierCallback.id)))


def _conference(row: inbox.CarrierCallback) -> str:
    return row.event_key.split(":")[1] if row.event_key.count(":") >= 2 else ""


def is_stale(s: Session, provider: str, agent_id: int, leg: str, conference: str, seq: int, event: str,
             room: str | None = None, at: datetime | None = None) -> bool:
    """Whether this event (just recorded as new) is older than one already acted on for the leg or its line.
    ``room``: the conference's friendly name; ``at``: Twilio's ``Timestamp`` of the event (None when absent)."""
    applied = [r for r in _applied(s, provider, leg) if r.event_key != f"conf:{conference}:{seq}"[:48]]
    if any(_conference(r) == conference and (r.sequence or 0) > seq for r in applied):
        return True
    line = s.get(AgentLine, agent_id, with_for_update=True)  # events of one line are judged one at a time
    if line is None or line.call_sid != leg:
        return False  # a customer, a visitor, a leg already replaced: the line's own rules ignore it
    joins = [r for r in applied if r.status == "participant-join" and (r.payload or {}).get(AGENT_KEY) == agent_id]
    current = _conference(joins[-1]) if joins else None
    if event == "participant-leave":
        return current is not None and current != conference
    if event == "participant-join":
        if line.status == "joining":
            return _before_home(line.since, agent_id, current, conference, room, at)
        return line.status == "away" or (line.status == "up" and current is not None and current != conference)
    return False


def _before_home(since: datetime, agent_id: int, current: str | None, conference: str, room: str | None,
                 at: datetime | None) -> bool:
    """A join delivered while the leg comes home that is not of the new room it is entering."""
    if room and room != f"agent-{agent_id}":
        return True  # a colleague's room (a consult's visit): the leg goes home to its own
    if current is not None and current == conference:
        return True  # the room the leg left: the join URL makes a new one
    return at is not None and at + timedelta(seconds=STAMP_MARGIN_S) < since


def mark_stale(s: Session, provider: str, leg: str, event_key: str) -> None:
    s.execute(update(inbox.CarrierCallback).where(
        inbox.CarrierCallback.provider == provider, inbox.CarrierCallback.call_sid == leg,
        inbox.CarrierCallback.event_key == event_key).values(result="stale")
        .execution_options(synchronize_session=False))
