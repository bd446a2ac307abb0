"""After a restart (and periodically), ask Twilio about every call we believed in flight, so none stays "ringing"
forever and an answered customer is never left in silence.

Twilio's answer is written into the callback inbox under the same keys the webhooks use, so it merges with
callbacks that arrive late or were already stored, and the pump hands the dial loop one consistent story.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy.orm import Session, sessionmaker

from campaigns.db import session_scope
from campaigns.dispatch import release
from campaigns.dispatch.models import Call
from campaigns.inbox import service as inbox
from dialer.carriers.twilio import unknown
from dialer.carriers.twilio.adapter import CallSnapshot, TwilioCallError, TwilioTelephony

log = logging.getLogger(__name__)
PROVIDER = "twilio"
ENDED = {"completed": "completed", "busy": "busy", "no-answer": "no_answer", "failed": "failed",
         "canceled": "canceled"}
LIVE_KINDS = {"queued": None, "initiated": "initiated", "ringing": "ringing", "in-progress": "answered"}
# told when a create whose answer never came is adopted: (call id, campaign id, when the create was sent)
OnAdopted = Callable[[int, int, datetime], None]


@dataclass
class ReconcileReport:
    checked: int = 0
    ended: int = 0  # Twilio had already ended them: final status recorded
    still_live: int = 0  # ringing/queued at Twilio: their own callbacks will settle them
    abandoned: int = 0  # answered with nobody to connect them: redirected to the safe-harbor message
    adopted: int = 0  # placed at Twilio but the SID was never stored: found in the call log and linked
    unknown: int = 0  # Twilio never heard of them: recorded as failed (the attempt does not count)
    waiting: int = 0  # SID never stored, nothing in the call log yet: kept until a later lookup confirms it
    not_sent: int = 0  # claimed, never sent (its worker died first): released once nobody could send it any more
    unsent: list[int] = field(default_factory=list)  # the claims never sent that are kept for a later pass
    errors: list[str] = field(default_factory=list)


def reconcile(sessions: sessionmaker[Session], telephony: TwilioTelephony, now: datetime, *,
              older_than_s: float = 0.0, abandon_answered: bool = True,
              campaign_ids: set[int] | None = None, unknown_only: bool = False,
              lookups: unknown.EmptyLookups | None = None, on_adopted: OnAdopted | None = None,
              by_token_only: bool = False, call_ids: set[int] | None = None) -> ReconcileReport:
    """Settle in-flight Twilio calls placed more than ``older_than_s`` ago (0 at start-up and on a takeover: all
    of them), of ``campaign_ids`` only when given (the campaigns this worker owns or just took over); with
    ``unknown_only``, only the creates whose answer never came (``PlaceOutcomeUnknown``).

    A call whose SID was never stored is adopted from the call log (``unknown.own_call``; ``on_adopted`` is told,
    so the pacer counts it) or, once ``lookups`` saw the log empty twice, recorded as not placed: a worker passes
    the same ``lookups`` to every pass; without one, a single pass never releases such a call. With
    ``by_token_only``, such calls are adopted only from callbacks carrying their attempt's token (no call-log
    request: cheap enough for every pass), and the others left for a later pass. ``call_ids``: only these calls.

    A claim still ``queued`` without a SID (its worker died before reporting the create sent, or before sending
    it) is adopted the same way, but released as not sent (``send_refused``: the lead as before its claim) only once
    its create can no longer go out, after the gate decision's send margin (``unknown``); the report lists the ones
    kept (``unsent``) so the worker comes back to them.

    A call stored as connected but still "bridging" (the worker died between choosing the agent and the carrier
    joining them) counts as not connected: the person is alone on the line."""
    report, lookups = ReconcileReport(), lookups or unknown.EmptyLookups()
    with session_scope(sessions) as s:
        in_flight = inbox.in_flight_calls(s, PROVIDER, now - timedelta(seconds=older_than_s), campaign_ids,
                                          unknown_only)
        if call_ids is not None:
            in_flight = [c for c in in_flight if c.id in call_ids]
        by_token = _sids_by_token(s, telephony, [c for c in in_flight if c.sid is None])
    if by_token_only:
        in_flight = [c for c in in_flight if c.id in by_token]
    for call in in_flight:
        report.checked += 1
        try:
            _one(sessions, telephony, call, now, report, abandon_answered, lookups, on_adopted,
                 by_token.get(call.id))
        except TwilioCallError as e:
            report.errors.append(f"call {call.id}: {e}")
            log.warning("reconcile call %s: %s", call.id, e)
    return report


def _sids_by_token(s: Session, telephony: TwilioTelephony, calls: list[inbox.InFlight]) -> dict[int, str]:
    """The SIDs that callbacks carrying these unknown attempts' tokens named, when no other call row holds them."""
    tokens = {t: c.id for c in calls if (t := telephony.attempt_token(c.id, c.phone))}
    since = min((c.placed_at for c in calls), default=None)
    if since is None:
        return {}
    found = inbox.sids_by_attempt(s, PROVIDER, tokens, since - timedelta(seconds=unknown.MATCH_LATE_S))
    taken = unknown.owned_sids(s, PROVIDER, found.values())
    return {call_id: sid for call_id, sid in found.items() if sid not in taken}


def _one(sessions, telephony: TwilioTelephony, call: inbox.InFlight, now: datetime, report: ReconcileReport,
         abandon_answered: bool, lookups: unknown.EmptyLookups, on_adopted: OnAdopted | None,
         by_token: str | None = None) -> None:
    sid = call.sid or _adopt(sessions, telephony, call, now, report, lookups, on_adopted, by_token)
    if sid is None:
        return
    snap = telephony.fetch(sid)
    if snap is None:
        snap = CallSnapshot(sid, "failed", None, None)
        report.unknown += 1
    with session_scope(sessions) as s:
        _record(s, snap, now)
    if snap.status in ENDED:
        report.ended += 1
    elif snap.status == "in-progress" and abandon_answered and not call.connected:
        with session_scope(sessions) as s:
            waiting = inbox.abandon_waiting(s, call.id, now)
        if waiting:
            telephony.abandon(sid)
            report.abandoned += 1
        else:
            report.still_live += 1
    else:
        report.still_live += 1


def _adopt(sessions, telephony: TwilioTelephony, call: inbox.InFlight, now: datetime, report: ReconcileReport,
           lookups: unknown.EmptyLookups, on_adopted: OnAdopted | None, by_token: str | None) -> str | None:
    """The call this create made: the one its callbacks named with the attempt's token (``by_token``), else from
    the call log. Adopted (its SID stored, the pacer told), or None: not there yet (kept), or confirmed absent
    (recorded as not placed: the row goes, the lead is due again)."""
    found = ([CallSnapshot(by_token, "queued", None, None)] if by_token is not None
             else telephony.find_placed(call.phone, call.placed_at - timedelta(seconds=60)))
    with session_scope(sessions) as s:
        row = s.get(Call, call.id)
        if row is None:
            return None
        campaign_id, caller_id, claimed_only = row.campaign_id, row.caller_id, row.status == "queued"
        if by_token is not None:
            mine = found[0]
        else:  # a call whose callbacks carry another attempt's token is that attempt's, never this one's
            token = telephony.attempt_token(call.id, call.phone)
            others = {sid for sid, tokens in inbox.attempts_of(s, PROVIDER, [f.sid for f in found]).items()
                      if token not in tokens}
            mine = unknown.own_call(found, call.placed_at, caller_id,
                                    unknown.owned_sids(s, PROVIDER, [f.sid for f in found]) | others)
        if mine is None:
            send_by = release.send_deadline(call.placed_at) if claimed_only else None
            if send_by is not None:  # never reported sent: it could still go out until its decision's margin ends
                if lookups.confirmed(("call", call.id), now, send_by + timedelta(seconds=unknown.UNKNOWN_SETTLE_S)):
                    release.send_refused(s, call.id, now, send_by)
                    report.not_sent += 1
                else:
                    report.waiting += 1
                    report.unsent.append(call.id)
            elif lookups.confirmed(("call", call.id), now):
                inbox.fail_unplaced(s, call.id, now)
                report.unknown += 1
            else:
                report.waiting += 1
            return None
        inbox.adopt_sid(s, call.id, mine.sid)
    lookups.found(("call", call.id))
    report.adopted += 1
    if on_adopted is not None:  # before anything lets go of the loop: the pacer hears it before its answer
        on_adopted(call.id, campaign_id, call.placed_at)
    return mine.sid


def _record(s: Session, snap: CallSnapshot, now: datetime) -> None:
    """Store what Twilio said as the callback it would have sent (same key: duplicates merge)."""
    if snap.status in ENDED:
        kind, outcome = "ended", ENDED[snap.status]
    else:
        kind, outcome = LIVE_KINDS.get(snap.status), None
    if kind is None:
        return
    payload = {"CallSid": snap.sid, "CallStatus": snap.status, "Source": "reconcile"}
    if snap.duration_s is not None:
        payload["CallDuration"] = str(snap.duration_s)
    key = f"status:{snap.status}"
    fresh = inbox.record(s, inbox.Callback(provider=PROVIDER, call_sid=snap.sid, event_key=key, kind=kind,
                                           carrier_at=now, status=snap.status, outcome=outcome,
                                           answered_by=snap.answered_by, payload=payload), now)
    if not fresh:  # Twilio's own callback is stored: if the loop failed on it, it gets another try
        inbox.retry_failed(s, PROVIDER, snap.sid, key)
