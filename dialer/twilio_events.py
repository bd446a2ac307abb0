"""The worker's side of the callback inbox: stored Twilio callbacks become ``CarrierEvent``s for the dial loop.

Delivery rules, so the loop sees each call's life once and in order whatever Twilio does:

- per call, an event ranked at or below one already delivered is stale (a late "ringing" after "completed");
- "answered" is delivered once, carrying the AMD verdict: the asynchronous AMD callback delivers it, or the
  status callback does after ``amd_wait_s`` without a verdict (then ``unknown``, which the loop treats as human);
- a callback for a SID the loop has not stored yet (the callback raced ``place`` returning) waits up to
  ``orphan_after_s`` before it is set aside as an orphan.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session, sessionmaker

from campaigns import carrier_inbox as inbox
from campaigns.db import session_scope
from dialer.telephony import CarrierEvent

log = logging.getLogger(__name__)
PROVIDER = "twilio"


@dataclass
class PumpStats:
    handled: int = 0
    stale: int = 0
    orphan: int = 0
    error: int = 0
    waiting: int = 0


class CallbackPump:
    """Moves stored callbacks to ``handle`` (``DialLoop.handle``); call ``run_once(now)`` from the worker loop."""

    def __init__(self, sessions: sessionmaker[Session], handle: Callable[[CarrierEvent], None], *,
                 amd_wait_s: float = 3.0, orphan_after_s: float = 30.0, batch: int = 500) -> None:
        self.sessions = sessions
        self.handle = handle
        self.amd_wait = timedelta(seconds=amd_wait_s)
        self.orphan_after = timedelta(seconds=orphan_after_s)
        self.batch = batch
        self.totals = PumpStats()

    def run_once(self, now: datetime) -> PumpStats:
        stats = PumpStats()
        with session_scope(self.sessions) as s:
            rows = inbox.pending(s, self.batch)
            ids = [r.id for r in rows]
            known = inbox.known_sids(s, {r.call_sid for r in rows})
        for row_id in ids:
            result = self._one(row_id, known, now)
            setattr(stats, result, getattr(stats, result) + 1)
            if result != "waiting":
                setattr(self.totals, result, getattr(self.totals, result) + 1)
        return stats

    def _one(self, row_id: int, known: set[str], now: datetime) -> str:
        with session_scope(self.sessions) as s:
            row = s.get(inbox.CarrierCallback, row_id)
            if row is None or row.processed_at is not None:
                return "waiting"
            if row.call_sid not in known:
                if now - row.received_at < self.orphan_after:
                    return "waiting"
                inbox.mark(row, "orphan", now)
                log.warning("callback %s for unknown call %s set aside", row.event_key, row.call_sid)
                return "orphan"
            if row.rank and row.rank <= inbox.delivered_rank(s, row.provider, row.call_sid):
                inbox.mark(row, "stale", now)
                return "stale"
            answered_by = row.answered_by
            if row.kind == "answered" and row.event_key != "amd" and row.waits_for_amd:
                answered_by = inbox.amd_verdict(s, row.provider, row.call_sid)
                if answered_by is None:
                    if now - row.received_at < self.amd_wait:
                        return "waiting"
                    answered_by = "unknown"
            event = to_event(row, answered_by)
            try:
                self.handle(event)
            except Exception:
                log.exception("dial loop failed on %s for %s", row.event_key, row.call_sid)
                inbox.mark(row, "error", now)
                return "error"
            inbox.mark(row, "handled", now)
            return "handled"


def to_event(row: inbox.CarrierCallback, answered_by: str | None) -> CarrierEvent:
    return CarrierEvent(kind=row.kind, provider_ref=row.call_sid, at=row.carrier_at,
                        answered_by=normalize_answered_by(answered_by), outcome=row.outcome, digits=row.digits,
                        sequence=row.sequence, extra={"status": row.status, **_extra(row.payload)})


def normalize_answered_by(raw: str | None) -> str | None:
    """Twilio's AMD verdicts folded to the loop's three: fax and every machine_* are machines."""
    if raw is None:
        return None
    if raw == "human":
        return "human"
    if raw.startswith("machine") or raw == "fax":
        return "machine"
    return "unknown"


def _extra(payload: dict) -> dict:
    out = {}
    if payload.get("CallDuration") not in (None, ""):
        out["duration_s"] = int(payload["CallDuration"])
    if payload.get("AnsweredBy"):
        out["answered_by_raw"] = payload["AnsweredBy"]
    return out
