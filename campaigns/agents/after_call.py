"""Pause or log out after this call: said while on a call or in its wrap-up, done when the seat leaves wrap-up.

A predictive pacer dials for the agents it expects to come free. An agent who will take a break or go home once the
call in hand is done is not coming free: counted as if they were, the calls dialed for them are answered with nobody
there, and each such abandon spends the campaign's 3 % budget. Said in advance (the seat's "After this call"
buttons), the dial loop counts the agent out at once (``DialLoop._sync_after_call``), as a contact centre's
"not ready after the call" does. The seat then goes where it was told when the wrap-up ends: by the disposition
form (whose "then" it preselects), by the campaign's wrap-up limit, or at once if detection takes the call away.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from campaigns import wake
from campaigns.agents.models import Agent
from campaigns.agents.service import get_agent, set_state
from campaigns.agents.states import check_reason, reason_words
from dnc.errors import UserError

AFTER_CALL = ("paused", "offline")
ON_A_CALL = ("talking", "wrap")


def set_after_call(session: Session, agent_ref: int | str, then: str | None, now: datetime,
                   reason: str | None = None) -> bool:
    """Say where the seat goes after the call in hand (``paused`` with a reason code, or ``offline``), or take it
    back (``then`` None). A seat not on a call goes there at once. Returns False when nothing changed."""
    agent = get_agent(session, agent_ref, lock=True)
    if then is None:
        if agent.after_call is None:
            return False
        agent.after_call = agent.after_call_reason = None
        session.flush()
        return True
    if then not in AFTER_CALL:
        raise UserError(f"after the call: {then!r} is not one of {', '.join(AFTER_CALL)}")
    reason = check_reason(reason) if then == "paused" else None
    if agent.state not in ON_A_CALL:
        return set_state(session, agent.id, then, now, reason)
    if (agent.after_call, agent.after_call_reason) == (then, reason):
        return False
    agent.after_call, agent.after_call_reason = then, reason
    session.flush()
    wake.notify(session, "agent")  # the campaign's worker counts the seat out on its next turn, not a poll later
    return True


def after_call_words(agent: Agent) -> str | None:
    """What the seat said it does after this call, in words (None: nothing said)."""
    if agent.after_call == "offline":
        return "log out"
    if agent.after_call == "paused":
        return f"pause ({reason_words(agent.after_call_reason)})"
    return None
