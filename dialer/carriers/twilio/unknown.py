"""Creates whose answer never came (``PlaceOutcomeUnknown``): which call of Twilio's call log is the one they made,
and when an empty call log may be believed.

Shared by the customer calls (``reconcile``) and the agents' phone legs (``agent_ring``), so neither dials twice:

- **Which call.** A customer call whose callbacks carry its attempt's token is adopted by that token
  (``dialer.carriers.twilio.attempt``; ``reconcile``). Otherwise the call log is searched by number, and lists every
  call to it: an earlier attempt, a consult leg, another system on the same account. The Call resource does not
  show the URLs we sent, so a call is this create's only when it is not already anybody else's (a SID stored on a
  call row, an agent's leg or line, or named by another attempt's token) and Twilio created it when the create
  was sent: its ``date_created`` (whole seconds,
  rounded down) within ``MATCH_EARLY_S`` before and ``MATCH_LATE_S`` after the send moment. One from the caller ID
  we sent is preferred, then the nearest.
- **When nothing is found.** Twilio's call log may lag the create it answered. One empty lookup proves nothing; the
  attempt is recorded as not placed only when a second lookup, at least ``confirm_s`` after the first
  (``DIALER_TWILIO_UNKNOWN_CONFIRM_S``, 10 s by default), is empty too. Until then the person (or the agent) is
  not dialed again.
- **A claim never sent.** A claim a worker died with before its create went out is still ``queued``: nothing
  says whether the create left. Whoever may have held it (a worker only stalled, not dead) can send it until the
  gate decision's send margin runs out (``campaigns.dispatch.release.send_deadline``), so the empty lookups
  count only from ``UNKNOWN_SETTLE_S`` after that moment; then the claim is released as not sent.
"""

from __future__ import annotations

import threading
from collections.abc import Hashable, Iterable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from campaigns.agents.models import AgentLeg, AgentLine
from campaigns.dispatch.models import Call
from dialer.carriers.twilio.adapter import CallSnapshot
from dialer.carriers.twilio.config import UNKNOWN_CONFIRM_S

# the first lookup this long after the send (the client gave up on the create already, 10 s by default; Twilio has
# usually logged a call it made by then), then every second until settled
UNKNOWN_SETTLE_S = 3.0
MATCH_EARLY_S = 1.0  # both moments are compared in whole seconds; Twilio's clock may be a little behind ours
MATCH_LATE_S = 5.0  # a create reaches Twilio well within this of its send (the client gives up after 10 s)


class EmptyLookups:
    """The first empty lookup of each unknown attempt, kept by the worker between its passes (thread-safe: the
    dialing turn and a takeover may settle at once). A restarted worker starts over, which only waits longer."""

    def __init__(self, confirm_s: float = UNKNOWN_CONFIRM_S) -> None:
        self.confirm_s = confirm_s
        self._first: dict[Hashable, datetime] = {}
        self._lock = threading.Lock()

    def confirmed(self, key: Hashable, now: datetime, since: datetime | None = None) -> bool:
        """This lookup was empty: True when an earlier one was too, at least ``confirm_s`` before. With ``since``,
        a lookup before it counts for nothing (the create might still be sent until then)."""
        if since is not None and now < since:
            return False
        with self._lock:
            first = self._first.get(key)
            if first is None:
                self._first[key] = now
                return False
            if (now - first).total_seconds() < self.confirm_s:
                return False
            del self._first[key]
            return True

    def found(self, key: Hashable) -> None:
        with self._lock:
            self._first.pop(key, None)


def owned_sids(s: Session, provider: str, sids: Iterable[str]) -> set[str]:
    """Which of ``sids`` are already ours: stored on a call row, an agent's leg or an agent's line."""
    sids = list(sids)
    if not sids:
        return set()
    return (set(s.scalars(select(Call.provider_sid).where(Call.provider == provider, Call.provider_sid.in_(sids))))
            | set(s.scalars(select(AgentLeg.call_sid).where(AgentLeg.call_sid.in_(sids))))
            | set(s.scalars(select(AgentLine.call_sid).where(AgentLine.call_sid.in_(sids)))))


def own_call(found: list[CallSnapshot], sent_at: datetime, caller_id: str | None,
             owned: set[str]) -> CallSnapshot | None:
    """The call of the log that this create made, or None (see the module's docstring)."""
    sent = sent_at.replace(microsecond=0)

    def gap(c: CallSnapshot) -> float:
        return (c.created - sent).total_seconds() if c.created is not None else float("inf")

    fit = [c for c in found if c.sid not in owned and -MATCH_EARLY_S <= gap(c) <= MATCH_LATE_S]
    # from the caller ID the row holds first; only preferred, since a create may have been sent with the account's
    # default one, and refusing our own call would release the lead while the person's phone rings
    return min(fit, key=lambda c: (bool(caller_id) and c.from_ not in (None, caller_id), abs(gap(c))), default=None)
