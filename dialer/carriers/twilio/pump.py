"""The worker's side of the callback inbox: stored Twilio callbacks become ``CarrierEvent``s for the dial loop.

Delivery rules, so the loop sees each call's life once and in order whatever Twilio does:

- per call, an event ranked at or below one already delivered is stale (a late "ringing" after "completed");
- the answer is delivered the moment it is stored, never held back: with asynchronous AMD the customer goes to an
  agent at once (``unknown`` = a person until told otherwise) and the 2-second clock runs from the answer. The AMD
  verdict is its own event, delivered whenever it comes (the loop pulls a machine off the agent), or as the
  answer itself when it overtook the "in-progress" callback;
- answers go first: when callbacks queue up (20 calls/s bring about 70 a second), the answers and verdicts of a
  batch are delivered before its progress and end callbacks, so a backlog of "ringing" never costs a customer
  the 2 seconds; and a progress callback ("initiated", "ringing") whose call has a later callback in the same batch
  is stale at once (what it would write is overwritten by the next), so a backlog shrinks the work it causes;
- an "ended completed" (Twilio's word for answered-then-ended) whose answer has not been delivered brings the
  answer with it when the answer is in the inbox, else waits ``reorder_wait_s`` for it: a reordered stream ends in
  the same state as the stream in order;
- a callback for a SID the loop has not stored yet (the callback raced ``place`` returning) waits up to
  ``orphan_after_s`` before it is set aside as an orphan;
- when the loop fails on an event (a locked database, a lost connection) the callback stays in the inbox and is
  tried again on the next run; when it still fails ``give_up_after_s`` after the first failure it is set aside as
  an error, and the periodic reconciliation puts it back once the call is found still open.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy.orm import Session, sessionmaker

from campaigns.db import session_scope
from campaigns.inbox import service as inbox
from dialer.carriers.telephony import CarrierEvent
from dialer.observe import metrics

log = logging.getLogger(__name__)
PROVIDER = "twilio"
ANSWER_RANK = inbox.RANKS["answered"]


@dataclass
class PumpStats:
    handled: int = 0
    stale: int = 0
    orphan: int = 0
    error: int = 0
    waiting: int = 0
    retried: int = 0  # the loop failed; the callback stays in the inbox for the next run


class CallbackPump:
    """Moves stored callbacks to ``handle`` (``DialLoop.handle``); call ``run_once(now)`` from the worker loop."""

    def __init__(self, sessions: sessionmaker[Session], handle: Callable[[CarrierEvent], None], *,
                 orphan_after_s: float = 30.0, reorder_wait_s: float = 2.0, give_up_after_s: float = 60.0,
                 batch: int = 500, owned: Callable[[], set[int] | None] = lambda: None) -> None:
        self.sessions = sessions
        self.owned = owned  # the campaigns whose callbacks this worker delivers (None: all of them)
        self.handle = handle
        self.orphan_after = timedelta(seconds=orphan_after_s)
        self.reorder_wait = timedelta(seconds=reorder_wait_s)
        self.give_up_after = timedelta(seconds=give_up_after_s)
        self.batch = batch
        self.totals = PumpStats()
        self._failing_since: dict[int, datetime] = {}

    def run_once(self, now: datetime) -> PumpStats:
        """Deliver what is pending, oldest first. No transaction is held while the loop works (it writes with its
        own), so the batch is read in one short transaction and its results written in another; a worker that
        dies in between delivers those callbacks again, which the loop takes as the duplicates they are."""
        stats = PumpStats()
        with session_scope(self.sessions) as s:
            rows = inbox.pending(s, self.batch, self.owned())
            if not rows:
                return stats
            sids = {r.call_sid for r in rows}
            known = inbox.known_sids(s, sids)
            delivered = inbox.delivered_ranks(s, sids)
        batch = Batch(rows, known, delivered)
        for row in sorted(rows, key=_answers_first):
            for result in self._one(batch, row, now):
                setattr(stats, result, getattr(stats, result) + 1)
                if result != "waiting":
                    setattr(self.totals, result, getattr(self.totals, result) + 1)
                    metrics.callbacks_settled(result)
        if batch.results:
            with session_scope(self.sessions) as s:
                inbox.mark_many(s, batch.results, now)
        return stats

    def _one(self, batch: Batch, row: inbox.CarrierCallback, now: datetime) -> list[str]:
        """Deliver one stored callback (and, for an early "completed", the answer it overtook)."""
        if row.id in batch.results:  # delivered just now, ahead of an early "completed"
            return []
        if row.call_sid not in batch.known:
            if now - row.received_at < self.orphan_after:
                return ["waiting"]
            log.warning("callback %s for unknown call %s set aside", row.event_key, row.call_sid)
            return [batch.done(row, "orphan")]
        rank = batch.delivered.get(row.call_sid, 0)
        if row.event_key == inbox.AMD_KEY:
            if rank > ANSWER_RANK:  # the call is over: a late verdict changes nothing
                return [batch.done(row, "stale")]
        elif row.rank and (row.rank <= rank or (row.rank < ANSWER_RANK and batch.later(row))):
            return [batch.done(row, "stale")]
        results: list[str] = []
        if row.kind == "ended" and row.status == "completed" and rank < ANSWER_RANK:
            answer = batch.answer_of(row.call_sid)
            if answer is None:
                with session_scope(self.sessions) as s:  # beyond this batch (a long backlog)
                    answer = inbox.pending_answer(s, row.provider, row.call_sid, exclude=set(batch.results))
            if answer is None and now - row.received_at < self.reorder_wait:
                return ["waiting"]  # the answer may still be on its way
            if answer is not None:
                results.append(self._deliver(batch, answer, now))
                if results[-1] == "retried":
                    return results
        results.append(self._deliver(batch, row, now))
        return results

    def _deliver(self, batch: Batch, row: inbox.CarrierCallback, now: datetime) -> str:
        event = to_event(row)
        if row.kind == "answered" and batch.ends(row.call_sid):
            event.extra["ending"] = True  # the person already hung up: the loop must not connect the call
        try:
            self.handle(event)
        except Exception:
            since = self._failing_since.setdefault(row.id, now)
            if now - since < self.give_up_after:
                log.warning("dial loop failed on %s for %s; trying again", row.event_key, row.call_sid,
                            exc_info=True)
                return "retried"
            self._failing_since.pop(row.id, None)
            log.exception("dial loop failed on %s for %s since %s; set aside", row.event_key, row.call_sid, since)
            return batch.done(row, "error")
        self._failing_since.pop(row.id, None)
        metrics.callback_delivered(row.kind, (now - row.carrier_at).total_seconds())
        batch.delivered[row.call_sid] = max(batch.delivered.get(row.call_sid, 0), row.rank)
        return batch.done(row, "handled")


@dataclass
class Batch:
    """One run's callbacks, what is known about their calls, and what became of each."""

    rows: list[inbox.CarrierCallback]
    known: set[str]
    delivered: dict[str, int]
    results: dict[int, str] = field(default_factory=dict)

    def done(self, row: inbox.CarrierCallback, result: str) -> str:
        self.results[row.id] = result
        return result

    def __post_init__(self) -> None:
        self.top: dict[str, int] = {}  # per call, the highest rank among this batch's callbacks
        for r in self.rows:
            self.top[r.call_sid] = max(self.top.get(r.call_sid, 0), r.rank or 0)

    def later(self, row: inbox.CarrierCallback) -> bool:
        """A callback of a higher rank for the same call is in this batch."""
        return self.top.get(row.call_sid, 0) > (row.rank or 0)

    def ends(self, call_sid: str) -> bool:
        """The call's end is in this batch too (answer and end arriving together after a stall)."""
        return any(r.call_sid == call_sid and r.kind == "ended" for r in self.rows)

    def answer_of(self, call_sid: str) -> inbox.CarrierCallback | None:
        return next((r for r in self.rows if r.call_sid == call_sid and r.kind == "answered"
                     and r.id not in self.results), None)


def _answers_first(row: inbox.CarrierCallback) -> tuple[int, int]:
    """Answers and AMD verdicts of a batch ahead of its other callbacks, each group in arrival order."""
    return (0 if row.kind == "answered" else 1, row.id)


def to_event(row: inbox.CarrierCallback) -> CarrierEvent:
    answered_by = row.answered_by
    if row.kind == "answered" and answered_by is None:
        answered_by = "unknown"  # asynchronous AMD: a person until the verdict says otherwise
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
