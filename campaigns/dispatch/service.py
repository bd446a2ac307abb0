"""Lead dispatch in SQL: claim callable leads atomically, record each call's life, move leads on.

``claim`` locks candidate leads with ``FOR UPDATE SKIP LOCKED`` (PostgreSQL; SQLite has one writer at a time),
asks the pre-dial gate about each, and writes the lead's ``dialing`` status and its ``queued`` call row in the
same transaction, before the next lead is chosen. The partial unique indexes ``uq_calls_live_lead`` and
``uq_calls_live_phone`` make the database refuse a second live call for a lead or a number, whatever a worker
believes; a lead that loses that race is skipped. The rules for what happens to a lead afterwards are the pure
functions of ``campaigns.dispatch.rules``, shared with the simulator's in-memory store. Which lead comes next and
what may hold one back (the campaign's lead order, new-lead interleave, re-call gap, daily caps) and the number
shown (the caller-ID pool) are ``campaigns.dispatch.strategy`` and ``campaigns.callerid.service``: the SQL store only.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Session

from campaigns.agents.service import release_after_call
from campaigns.callbacks.service import fired
from campaigns.campaign.models import Campaign
from campaigns.dispatch.models import Call, PacingStatus
from campaigns.dispatch.rules import (
    Candidate,
    Claim,
    RetryRules,
    after_outcome,
    after_place_failure,
    after_refusal,
    apply,
    stored_outcome,
)
from campaigns.dispatch.strategy import ClaimPlan, after_call, hold
from campaigns.leads.models import Lead, LeadPhone
from dnc.zones import candidate_states

WINDOW = timedelta(days=30)
DEADLOCK = "40P01"  # PostgreSQL: two workers inserting live calls for the same numbers in crossed order


def _lost_race(e: DBAPIError) -> bool:
    """Another worker holds a live call on one of these leads or numbers (a unique violation, or PostgreSQL
    breaking the wait cycle between two claims): this savepoint is undone and the leads are not ours."""
    return isinstance(e, IntegrityError) or getattr(e.orig, "sqlstate", None) == DEADLOCK
Gate = Callable[[Session, Candidate, datetime], object]


def not_reserved(now: datetime):
    """Not held for a preview agent (or the hold ran out)."""
    return or_(Lead.reserved_until.is_(None), Lead.reserved_until <= now)


def due_at():
    """When a lead became callable: its next attempt time, or its creation for a lead never scheduled."""
    return func.coalesce(Lead.next_attempt_at, Lead.created_at)


def claim(session: Session, campaign: Campaign, n: int, now: datetime, gate: Gate | None = None,
          provider: str = "sim") -> list[Claim]:
    """Claim up to ``n`` callable leads of ``campaign`` (priority, then longest due, then id), each with its call
    row. Leads the gate refuses are rescheduled or closed and never count as attempts."""
    claims: list[Claim] = []
    lost: set[int] = set()
    # the campaign's lead strategy (order, interleave, holds) and caller-ID pool, read once per claim
    plan = ClaimPlan(session, campaign, now, extra=[not_reserved(now)])
    while len(claims) < n and not plan.picker.exhausted:
        batch = plan.candidates(session, n - len(claims), lost)
        if not batch:
            break
        try:  # the whole batch at once (one INSERT); the gate's audit rows, leads and calls: all or nothing
            with session.begin_nested():
                claims += _claim_batch(session, campaign, batch, n - len(claims), now, gate, provider, plan)
        except DBAPIError as e:  # another worker has a live call on one of these numbers: go one by one
            if not _lost_race(e):
                raise
            for lead in batch:
                if len(claims) >= n:
                    break
                try:
                    with session.begin_nested():
                        claims += _claim_batch(session, campaign, [lead], 1, now, gate, provider, plan)
                except DBAPIError as e1:
                    if not _lost_race(e1):
                        raise
                    lost.add(lead.id)  # not ours this time
    plan.finish(session, [c.lead_id for c in claims])
    return claims


def _claim_batch(session: Session, campaign: Campaign, leads: list[Lead], n: int, now: datetime, gate: Gate | None,
                 provider: str, plan: ClaimPlan) -> list[Claim]:
    taken: list[tuple[Lead, Call]] = []
    holds = plan.holds(session, leads)
    for lead in leads:
        if len(taken) >= n or plan.picker.exhausted:
            break
        if lead.id in holds:  # a re-call gap or a daily cap: back at the time it ends, not an attempt
            hold(lead, holds[lead.id], now)
            continue
        if gate is not None:
            zones = tuple(z for z in (lead.timezones or "").split(",") if z)
            decision = gate(session, Candidate(lead.id, campaign.id, lead.phone, lead.state, lead.postal_code,
                                               zones), now)
            if not decision.allowed:
                apply(lead, after_refusal(decision.reasons, getattr(decision, "opens_at", None), now), now)
                continue
        if lead.status == "callback":
            fired(session, lead.id, now)  # its callback row is done: the call is placed now
        lead.status = "dialing"
        lead.attempts += 1
        lead.last_called_at = lead.updated_at = now
        shown = plan.picker.pick(lead.phone, candidate_states(lead.phone, lead.postal_code, lead.state))
        call = Call(campaign_id=campaign.id, lead_id=lead.id, list_id=lead.list_id, phone=lead.phone,
                    caller_id=shown, attempt=lead.attempts, provider=provider, status="queued", placed_at=now)
        taken.append((lead, call))
    # insert in number order: two workers claiming overlapping numbers then wait for each other in one
    # direction instead of deadlocking (the claim order itself is unchanged)
    session.add_all([call for _, call in sorted(taken, key=lambda lc: lc[0].phone)])
    session.flush()
    return [Claim(call.id, lead.id, lead.phone, lead.attempts, call.caller_id) for lead, call in taken]


def mark_placed(session: Session, call_id: int, provider: str, ref: str, placed_at: datetime | None = None) -> None:
    """The carrier took the call: its reference, and ``placed_at`` = the moment the request was sent (the claim
    stamped the time it was claimed; with concurrent placement a call may be sent up to a second later)."""
    values = {"provider": provider, "provider_sid": ref, "status": "dialing"}
    if placed_at is not None:
        values["placed_at"] = placed_at
    session.execute(update(Call).where(Call.id == call_id).values(**values)
                    .execution_options(synchronize_session=False))


def mark_unknown(session: Session, call_id: int, sent_at: datetime) -> None:
    """The create went out at ``sent_at`` and its answer never came: the carrier may have made the call. The row
    stays (its line taken, its lead "dialing": nobody dials the person again meanwhile), "unknown" rather than
    "queued" so it is never sent again, until the carrier's call log settles it (adopted, or ``place_failed``)."""
    session.execute(update(Call).where(Call.id == call_id, Call.provider_sid.is_(None), Call.ended_at.is_(None))
                    .values(status="unknown", placed_at=sent_at).execution_options(synchronize_session=False))


def place_failed(session: Session, call_id: int, now: datetime, retryable: bool = True) -> None:
    """The carrier never took the call: no dial happened, so its row goes and the lead's attempt is given back."""
    call = session.get(Call, call_id)
    if call is None or call.ended_at is not None:
        return
    lead = session.get(Lead, call.lead_id, with_for_update=True) if call.lead_id is not None else None
    release_after_call(session, call, now)  # a preview agent waiting on it is free again
    session.execute(delete(Call).where(Call.id == call_id))
    if lead is not None and lead.status == "dialing":
        apply(lead, after_place_failure(lead.attempts, lead.last_outcome, retryable, now), now)
    session.flush()


def end(session: Session, call_id: int, reason: str, at: datetime) -> Call | None:
    """The call is over: record how, move the lead on (unless an agent's disposition will), put its agent in wrap
    (or back to ready: a preview agent whose call nobody answered)."""
    call = session.get(Call, call_id, with_for_update=True)
    if call is None or call.ended_at is not None:
        return None
    if reason == "abandoned" and call.status == "bridging":  # the carrier never joined them: nobody answered
        from campaigns.agents.service import free_agent

        free_agent(session, call.id, at)
        call.connected_at, call.agent_id = None, None
    call.ended_at, call.outcome, call.status = at, stored_outcome(reason), "ended"
    lead = session.get(Lead, call.lead_id, with_for_update=True) if call.lead_id is not None else None
    if lead is not None and lead.status == "dialing":
        campaign = session.get(Campaign, call.campaign_id)
        change = after_outcome(RetryRules.of(campaign), lead.attempts, reason, lead.last_outcome, at,
                               call.connected_at is not None)
        if change is not None:  # the campaign's strategy: the next phone, retries that rotate the hour
            apply(lead, after_call(session, lead, reason, change, campaign, at), at)
    release_after_call(session, call, at)
    session.flush()
    return call


def live_lines(session: Session, campaign_id: int) -> int:
    return session.scalar(select(func.count()).select_from(Call).where(Call.campaign_id == campaign_id,
                                                                       Call.ended_at.is_(None))) or 0


def live_calls(session: Session, campaign_id: int) -> list[Call]:
    return list(session.scalars(select(Call).where(Call.campaign_id == campaign_id, Call.ended_at.is_(None))
                                .order_by(Call.id)))


def waiting_calls(session: Session, campaign_id: int | None = None,
                  campaign_ids: set[int] | None = None) -> list[Call]:
    """Answered by a person (or not yet known), not connected, not abandoned, not over: oldest answer first; of one
    campaign, or of ``campaign_ids`` (those a worker owns)."""
    q = select(Call).where(Call.ended_at.is_(None), Call.answered_at.is_not(None), Call.connected_at.is_(None),
                           Call.outcome.is_(None), Call.answered_by.in_(("human", "unknown")),
                           Call.agent_id.is_(None))  # a preview call is its agent's already
    if campaign_id is not None:
        q = q.where(Call.campaign_id == campaign_id)
    if campaign_ids is not None:
        q = q.where(Call.campaign_id.in_(campaign_ids or {-1}))
    return list(session.scalars(q.order_by(Call.answered_at, Call.id)))


def preview_calls(session: Session) -> list[Call]:
    """Calls a preview agent chose to dial that the worker has not placed yet."""
    return list(session.scalars(select(Call).where(Call.status == "queued", Call.provider_sid.is_(None),
                                                   Call.agent_id.is_not(None), Call.ended_at.is_(None))
                                .order_by(Call.id)))


def connect_reserved(session: Session, call_id: int, at: datetime) -> bool:
    """A preview call answered: its agent has been on it since the dial."""
    call = session.get(Call, call_id, with_for_update=True)
    if call is None or call.ended_at is not None or call.connected_at is not None or call.agent_id is None:
        return False
    call.connected_at, call.status = at, "bridging"  # "connected" once the carrier joined them (``bridged``)
    return True


def call_times(session: Session, lead_id: int | None = None) -> Callable[[str, datetime, datetime], list[datetime]]:
    """``dnc.caps.CallTimes`` over the calls table: when each call to a number was placed in ``(since, until]``,
    whatever its campaign, worker or source (dial loop, preview, imported history) and outcome.

    With ``lead_id``, the calls to the called person: the state caps count calls "to the same called person" (Fla.
    Stat. 501.616(6)), so the lead's own calls and every call to any of its numbers count too; a lead that moved on
    to its next number after unanswered attempts is still the same person."""
    def read(e164: str, since: datetime, until: datetime) -> list[datetime]:
        who = Call.phone == e164
        if lead_id is not None:
            who = or_(who, Call.lead_id == lead_id,
                      Call.phone.in_(select(LeadPhone.phone).where(LeadPhone.lead_id == lead_id)))
        return list(session.scalars(select(Call.placed_at).where(who, Call.placed_at > since,
                                                                 Call.placed_at <= until)))
    return read


def dnc_gate(session: Session, candidate: Candidate, now: datetime):
    """The pre-dial gate (``dnc.gate.gate``) for a claimed lead, in the claim's transaction: its audit record and
    its number lock commit or roll back with the claim it justified. The zones are worked out afresh from the
    number and ZIP code (the lead's stored ones may predate a correction of the zone data); the state caps count
    every call to the called person in the calls table (this number and the lead's others)."""
    from dnc.gate import gate

    return gate(session, candidate.phone, campaign=candidate.campaign_id, at=now, state=candidate.state,
                postal_code=candidate.postal_code, lead_ref=f"lead:{candidate.lead_id}",
                call_times=call_times(session, candidate.lead_id), dialing=candidate.dialing)


def pending_hangups(session: Session) -> list[Call]:
    return list(session.scalars(select(Call).where(Call.hangup_requested_at.is_not(None), Call.ended_at.is_(None),
                                                   Call.status != "ending").order_by(Call.id)))


def save_pacing_status(session: Session, campaign_id: int, status: dict, now: datetime) -> None:
    """Publish the pacer's decision as one upsert: two workers dialing a campaign may both publish its first one,
    and a read-then-insert lets the second fail on the primary key."""
    upsert = sqlite_insert if session.get_bind().dialect.name == "sqlite" else pg_insert  # the two we run on
    stmt = upsert(PacingStatus).values(campaign_id=campaign_id, at=now, status=status)
    session.execute(stmt.on_conflict_do_update(index_elements=[PacingStatus.campaign_id],
                                               set_={"at": stmt.excluded.at, "status": stmt.excluded.status}))


def pacing_status(session: Session, campaign_id: int) -> PacingStatus | None:
    """The dial loop's last published decision for a campaign (what the console shows as "why")."""
    return session.get(PacingStatus, campaign_id)
