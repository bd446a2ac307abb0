"""An agent's phone rung by a create whose answer never came (``PlaceOutcomeUnknown``): the phone may be ringing.

Taking it for "not rung" left the line down, so the agent going ready again rang the phone a second time while the
first call rang. Instead the line waits as ``dialing`` without a leg (since the moment the create was sent), which
``to_nail_up`` never rings again, and the call log settles it as for customer calls (``unknown``): the leg found is
the line's (its join and status callbacks then apply; one already over takes the line down), or, after two empty
lookups, the line is down as after a refused ring. A leg that answers first is taken by its join as usual.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from campaigns.agents import lines as agent_lines
from campaigns.agents.models import Agent, AgentLine
from campaigns.db import session_scope
from dialer.carriers.twilio import unknown
from dialer.carriers.twilio.adapter import TwilioCallError, TwilioTelephony

log = logging.getLogger(__name__)
PROVIDER = "twilio"
LEG_ENDED = ("completed", "busy", "no-answer", "failed", "canceled")


@dataclass
class RingReport:
    adopted: int = 0  # the leg found in the call log: the line's now
    not_placed: int = 0  # the call log confirmed no call: the line is down
    waiting: int = 0  # nothing in the call log yet


def rung_unknown(s: Session, agent_id: int, sent_at: datetime) -> None:
    """The ring's create went out at ``sent_at`` and its answer never came: the line waits for the call log."""
    line = s.get(AgentLine, agent_id, with_for_update=True)
    if line is not None and line.status == "down":
        line.status, line.call_sid, line.since = "dialing", None, sent_at
        s.flush()


def _unsettled(s: Session, sent_before: datetime, campaign_ids: set[int] | None) -> list[tuple[int, str, datetime]]:
    q = (select(AgentLine.agent_id, AgentLine.phone, AgentLine.since).join(Agent, Agent.id == AgentLine.agent_id)
         .where(AgentLine.status == "dialing", AgentLine.call_sid.is_(None), AgentLine.phone.is_not(None),
                AgentLine.since <= sent_before).order_by(AgentLine.agent_id))
    if campaign_ids is not None:
        q = q.where(Agent.campaign_id.in_(campaign_ids or {-1}))
    return [(a, p, t) for a, p, t in s.execute(q)]


def settle(sessions: sessionmaker[Session], telephony: TwilioTelephony, now: datetime, lookups: unknown.EmptyLookups,
           campaign_ids: set[int] | None) -> RingReport:
    """Every ring sent more than ``UNKNOWN_SETTLE_S`` ago whose outcome is unknown, looked up in the call log."""
    report = RingReport()
    with session_scope(sessions) as s:
        rings = _unsettled(s, now - timedelta(seconds=unknown.UNKNOWN_SETTLE_S), campaign_ids)
    for agent_id, phone, sent_at in rings:
        try:
            found = telephony.find_placed(phone, sent_at - timedelta(seconds=60))
        except TwilioCallError as e:
            log.warning("looking up agent %s's ring: %s", agent_id, e)
            continue
        key = ("agent", agent_id, sent_at)
        with session_scope(sessions) as s:
            line = s.get(AgentLine, agent_id, with_for_update=True)
            if line is None or line.status != "dialing" or line.call_sid is not None:
                lookups.found(key)  # settled otherwise meanwhile (the leg answered and joined)
                continue
            mine = unknown.own_call(found, sent_at, None, unknown.owned_sids(s, PROVIDER, [f.sid for f in found]))
            if mine is None:
                if lookups.confirmed(key, now):
                    line.status, line.since = "down", now
                    report.not_placed += 1
                else:
                    report.waiting += 1
                continue
            lookups.found(key)
            line.call_sid = mine.sid
            s.flush()
            if mine.status in LEG_ENDED:  # rang out or hung up before we knew it: its callback found no line
                agent_lines.leg_left(s, agent_id, mine.sid, now, ended=True)
            report.adopted += 1
    return report
