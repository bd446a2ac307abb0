"""The inbox of carrier callbacks: every webhook Twilio sends is stored once, then handed to the dial loop in order.

Twilio retries callbacks and may deliver them out of order, and the web process that receives them is not the
worker that runs the dial loop. Storing each callback under a unique key (call SID + event) makes duplicates
harmless; the worker's pump (``dialer.carriers.twilio.pump``) then delivers them with a per-call rank so a late
"ringing" after "completed" changes nothing, and replaying a whole call's stream leaves the same state.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from campaigns import wake
from campaigns.campaign.models import Campaign
from campaigns.dispatch import service as dispatch
from campaigns.dispatch.models import Call
from campaigns.inbox.models import CarrierCallback
from campaigns.leads.models import FINAL_LEAD_STATUSES, Lead

# Order of a call's life; an event ranked at or below one already delivered for the same call is stale.
RANKS = {"initiated": 1, "ringing": 2, "answered": 3, "ended": 4}
RESULTS = ("handled", "stale", "orphan", "error")
AMD_KEY = "amd"  # the asynchronous AMD verdict: an "answered" event of its own, delivered after the answer
CONFERENCE = "conference"  # an agent's conference event, acted on by the web process and stored settled


@dataclass(frozen=True)
class Callback:
    """One parsed webhook, ready to store."""

    provider: str
    call_sid: str
    event_key: str
    kind: str
    carrier_at: datetime
    status: str | None = None
    outcome: str | None = None
    answered_by: str | None = None
    digits: str | None = None
    sequence: int | None = None
    payload: dict | None = None
    attempt: str | None = None  # the attempt token the callback URL carried


def record(session: Session, cb: Callback, received_at: datetime, *, settled: bool = False) -> bool:
    """Store a callback once; False when the same (call, event) was already stored (a Twilio retry or replay).

    ``settled``: the web process acts on it itself (an agent's conference event), so it is stored as handled and
    never reaches the dial loop; it is kept only so the same event sent again is known."""
    exists = select(CarrierCallback.id).where(CarrierCallback.provider == cb.provider,
                                              CarrierCallback.call_sid == cb.call_sid,
                                              CarrierCallback.event_key == cb.event_key)
    if session.scalar(exists) is not None:
        return False
    row = CarrierCallback(provider=cb.provider, call_sid=cb.call_sid, event_key=cb.event_key, kind=cb.kind,
                          rank=RANKS.get(cb.kind, 0), status=cb.status, outcome=cb.outcome,
                          answered_by=cb.answered_by, digits=cb.digits, sequence=cb.sequence,
                          payload=cb.payload or {}, attempt=cb.attempt, carrier_at=cb.carrier_at,
                          received_at=received_at, processed_at=received_at if settled else None,
                          result="handled" if settled else None)
    try:
        with session.begin_nested():
            session.add(row)
    except IntegrityError:  # a concurrent duplicate won the race; the unique key keeps exactly one
        return False
    if not settled:
        wake.notify(session, "callback")  # the owning worker delivers it now, not at its next poll
    return True


def pending(session: Session, limit: int, campaign_ids: set[int] | None = None) -> list[CarrierCallback]:
    """Callbacks not yet delivered, oldest first. With ``campaign_ids`` (the campaigns a worker owns): only those
    of their calls, plus those whose call is not stored yet (they wait, then are set aside as orphans)."""
    q = select(CarrierCallback).where(CarrierCallback.processed_at.is_(None))
    if campaign_ids is not None:
        q = (q.outerjoin(Call, Call.provider_sid == CarrierCallback.call_sid)
             .where(or_(Call.id.is_(None), Call.campaign_id.in_(campaign_ids or {-1}))))
    return list(session.scalars(q.order_by(CarrierCallback.id).limit(limit)))


def mark_many(session: Session, results: dict[int, str], now: datetime) -> None:
    """Record what became of delivered callbacks (``{id: result}``), in one statement per result."""
    by_result: dict[str, list[int]] = {}
    for row_id, result in results.items():
        by_result.setdefault(result, []).append(row_id)
    for result, ids in by_result.items():
        session.execute(update(CarrierCallback).where(CarrierCallback.id.in_(ids))
                        .values(result=result, processed_at=now).execution_options(synchronize_session=False))


def delivered_ranks(session: Session, call_sids: set[str]) -> dict[str, int]:
    """The highest rank already delivered per call (a later event at or below it is stale)."""
    if not call_sids:
        return {}
    q = (select(CarrierCallback.call_sid, func.max(CarrierCallback.rank))
         .where(CarrierCallback.call_sid.in_(call_sids), CarrierCallback.result == "handled")
         .group_by(CarrierCallback.call_sid))
    return {sid: rank or 0 for sid, rank in session.execute(q)}


def pending_answer(session: Session, provider: str, call_sid: str,
                   exclude: set[int] = frozenset()) -> CarrierCallback | None:
    """The call's answer (status "in-progress" or the AMD verdict) still waiting in the inbox, oldest first."""
    q = select(CarrierCallback).where(
        CarrierCallback.provider == provider, CarrierCallback.call_sid == call_sid,
        CarrierCallback.kind == "answered", CarrierCallback.processed_at.is_(None))
    if exclude:
        q = q.where(CarrierCallback.id.not_in(exclude))
    return session.scalar(q.order_by(CarrierCallback.id).limit(1))


def counts(session: Session, provider: str) -> dict[str, int]:
    """Callbacks per result (``pending`` for not yet processed): the bench's "no lost callback" figure."""
    q = (select(func.coalesce(CarrierCallback.result, "pending"), func.count())
         .where(CarrierCallback.provider == provider, CarrierCallback.kind != CONFERENCE)
         .group_by(CarrierCallback.result))
    return {k: n for k, n in session.execute(q)}


# --- the call a callback is about --------------------------------------------------------------------------
def known_sids(session: Session, sids: set[str]) -> set[str]:
    if not sids:
        return set()
    return set(session.scalars(select(Call.provider_sid).where(Call.provider_sid.in_(sids))))


def call_by_sid(session: Session, sid: str) -> tuple[Call, Campaign] | None:
    row = session.execute(select(Call, Campaign).join(Campaign, Campaign.id == Call.campaign_id)
                          .where(Call.provider_sid == sid)).first()
    return (row[0], row[1]) if row else None


def record_abandon(call: Call) -> None:
    """The safe-harbor message played: the call counts as abandoned where the 30-day rate reads it (a call that
    reached an agent never is)."""
    if call.connected_at is None:
        call.outcome = "abandoned"


def close_lead_as_dnc(session: Session, call: Call, now: datetime) -> None:
    """A press of 9: the lead leaves the dialable pool at once (the internal DNC blocks its number everywhere)."""
    lead = session.get(Lead, call.lead_id) if call.lead_id is not None else None
    if lead is not None and lead.status not in FINAL_LEAD_STATUSES:
        lead.status, lead.last_outcome, lead.updated_at = "dnc", "dnc", now


# --- reconciliation -------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class InFlight:
    id: int
    sid: str | None
    phone: str
    placed_at: datetime
    connected: bool


def in_flight_calls(session: Session, provider: str, placed_before: datetime,
                    campaign_ids: set[int] | None = None, unknown_only: bool = False) -> list[InFlight]:
    """Calls of ``provider`` with no end recorded and no final callback waiting in the inbox to be delivered;
    ``unknown_only``: those whose create went out and was never answered (``dispatch.mark_unknown``)."""
    ended = select(CarrierCallback.call_sid).where(CarrierCallback.provider == provider,
                                                   CarrierCallback.kind == "ended",
                                                   CarrierCallback.processed_at.is_(None))
    q = (select(Call).where(Call.provider == provider, Call.ended_at.is_(None), Call.placed_at <= placed_before,
                            or_(Call.provider_sid.is_(None), Call.provider_sid.not_in(ended)))
         .order_by(Call.id))
    if campaign_ids is not None:
        q = q.where(Call.campaign_id.in_(campaign_ids or {-1}))
    if unknown_only:
        q = q.where(Call.status == "unknown", Call.provider_sid.is_(None))
    return [InFlight(c.id, c.provider_sid, c.phone, c.placed_at, c.connected_at is not None and c.status != "bridging")
            for c in session.scalars(q)]


def retry_failed(session: Session, provider: str, call_sid: str, event_key: str) -> bool:
    """Put a callback back in the inbox that the dial loop failed on, or that came before its call's SID was
    stored (an orphan): reconciliation found the call still open and knows its SID now."""
    row = session.scalar(select(CarrierCallback).where(
        CarrierCallback.provider == provider, CarrierCallback.call_sid == call_sid,
        CarrierCallback.event_key == event_key, CarrierCallback.result.in_(("error", "orphan"))))
    if row is None:
        return False
    row.processed_at, row.result = None, None
    return True


def abandon_waiting(session: Session, call_id: int, now: datetime) -> bool:
    """An answered customer found waiting with nobody connected (after a restart): the call is abandoned now,
    before the safe-harbor redirect, so a late "answered" can never put it through to an agent."""
    call = session.get(Call, call_id, with_for_update=True)
    if call is None or call.ended_at is not None:
        return False
    if call.connected_at is not None:
        if call.status != "bridging":
            return False  # with its agent
        # "connected" by a worker that died before the carrier joined them: nobody answered the person
        from campaigns.agents.service import free_agent

        free_agent(session, call.id, now)
        call.connected_at, call.agent_id = None, None
    if call.answered_at is None:
        call.answered_at, call.answered_by = now, call.answered_by or "unknown"
    call.status, call.outcome = "answered", "abandoned"
    return True


def adopt_sid(session: Session, call_id: int, sid: str) -> None:
    """The carrier's call log has the call whose SID we never stored: linked, so its callbacks find it."""
    call = session.get(Call, call_id)
    if call is not None and call.provider_sid is None:
        call.provider_sid = sid
        if call.status == "unknown":
            call.status = "dialing"


def sids_by_attempt(session: Session, provider: str, tokens: dict[str, int],
                    since: datetime) -> dict[int, str]:
    """The calls whose callbacks, received since ``since``, carry one of ``tokens`` (``{token: call id}``): for
    each call id, the SID Twilio gave the call that attempt made."""
    if not tokens:
        return {}
    q = (select(CarrierCallback.attempt, CarrierCallback.call_sid)
         .where(CarrierCallback.provider == provider, CarrierCallback.attempt.in_(list(tokens)),
                CarrierCallback.received_at >= since)
         .order_by(CarrierCallback.id))
    found: dict[int, str] = {}
    for token, sid in session.execute(q):
        found.setdefault(tokens[token], sid)
    return found


def attempts_of(session: Session, provider: str, sids: list[str]) -> dict[str, set[str]]:
    """The attempt tokens the callbacks of ``sids`` carried, per SID (a SID without any is absent)."""
    if not sids:
        return {}
    q = select(CarrierCallback.call_sid, CarrierCallback.attempt).where(
        CarrierCallback.provider == provider, CarrierCallback.call_sid.in_(sids),
        CarrierCallback.attempt.is_not(None))
    out: dict[str, set[str]] = {}
    for sid, token in session.execute(q):
        out.setdefault(sid, set()).add(token)
    return out


def stored_sids(session: Session, provider: str, sids: list[str]) -> set[str]:
    """Which of ``sids`` belong to calls we have (a call-log search for one number finds its earlier calls too)."""
    return set(session.scalars(select(Call.provider_sid).where(Call.provider == provider,
                                                               Call.provider_sid.in_(sids)))) if sids else set()


def fail_unplaced(session: Session, call_id: int, now: datetime) -> None:
    """The carrier never took this call: no dial happened, so its row goes and the lead goes back to the queue
    with the attempt not counted (as when ``place`` fails)."""
    dispatch.place_failed(session, call_id, now, retryable=True)
