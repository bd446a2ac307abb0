"""Reconciliation kept current, so the auditor's reports read a few rows instead of judging millions of calls.

Every placed call is judged once by ``dnc.reconcile.Judge`` (as of its own instant), in order of call id; the calls
that broke a rule are stored (``call_verdicts``) and the calls judged are counted per UTC day (``verdict_days``).
A report first ``refresh``es (the calls placed since the last one: usually a handful), then reads those tables.
The state keeps the highest call id judged and the ids below it not seen yet (``campaigns.openids``: on PostgreSQL
a call can commit after a call with a higher id was judged); a call that appears in one of those is judged when it
does. A call is judged once placed, not when claimed: the claim's row exists before the carrier takes the call, and
the send may move ``placed_at`` (``campaigns.dispatch.service.mark_placed``) or, refused, delete the row. A claimed
row the judging steps over stays open, whatever the transactions, until it is placed (judged then, at the moment it
was sent) or gone. The highest id judged is thus always a placed call, which is never deleted: SQLite, which hands a
deleted largest rowid out again, can only reuse ids above it.
The ledger's sequence numbers need no such care: an append holds the chain head's row lock until it commits, so
records become visible in sequence order and ``last_ledger_seq`` never steps over one still to come.

What can change a verdict after the fact is re-judged:
- a DNC request or a consent record added, removed or revoked later with an earlier effect (imported history
  brings DNC requests effective from the call's time): every call to that number is judged again, found through
  the ledger records written since the last refresh;
- a call that arrives late with an earlier time (imported history): the called person's calls (to the number, by
  the lead, to the lead's other numbers) in the following two days are judged again, because it counts toward
  their state cap;
- a new rules file (its version or contents): everything is judged again.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import delete, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from campaigns import openids
from campaigns.compliance.models import CallVerdict, VerdictDay, VerdictState
from campaigns.compliance.persons import lead_numbers, person_calls
from campaigns.dispatch.models import Call
from campaigns.leads.models import Lead
from dnc.reasons import WINDOW_CODES
from dnc.reconcile import CallRecord, Judge, PersonCalls
from dnc.registry.snapshot import Store
from dnc.rules import current_rules
from dnc.tables import LedgerRecord

CHUNK = 20_000  # calls judged per step
CAP_REACH = timedelta(hours=48)  # longer than any cap period (24 h, or 25 on the called party's clock)
LATE_FACTS = ("internal_add", "internal_remove", "consent_add", "consent_revoke")


@dataclass
class Refreshed:
    judged: int = 0  # new calls
    rejudged: int = 0  # calls judged again (late facts, late calls)
    rebuilt: bool = False
    findings: int = 0


def _rules_key() -> str:
    r = current_rules()
    return f"{r.version}:{r.sha256[:12]}"


def _state(session: Session) -> VerdictState:
    st = session.get(VerdictState, 1, with_for_update=True)
    if st is None:
        try:
            with session.begin_nested():
                session.add(VerdictState(id=1, last_call_id=0, last_ledger_seq=0, rules="", open_ids=[]))
        except IntegrityError:  # another process created it first
            pass
        st = session.get(VerdictState, 1, with_for_update=True, populate_existing=True)
    return st


# placed: the carrier took it (a claim's row is "queued" without a reference until then; see openids)
PLACED = or_(Call.status != "queued", Call.provider_sid.is_not(None))


def _select_calls():
    return (select(Call.id, Call.phone, Call.placed_at, Call.campaign_id, Lead.state, Lead.postal_code,
                   Lead.timezones, Call.lead_id).outerjoin(Lead, Lead.id == Call.lead_id)
            .where(Call.placed_at.is_not(None), PLACED))


def _record(row) -> CallRecord:
    i, phone, placed, cid, state, postal, zones, lead = row
    return CallRecord(phone, placed, cid, state, postal,
                      tuple(z for z in zones.split(",") if z) if zones else None, f"call:{i}", lead)


def _capped(judge: Judge, recs: Iterable[CallRecord]) -> list[CallRecord]:
    return [c for c in recs if judge.states(c)[1]]


@dataclass
class _Pending:
    """What a refresh that reads without the lock will write: verdicts to drop (calls judged again) and to store,
    and the calls judged per day and campaign."""

    dropped: set[int] = field(default_factory=set)
    found: dict[int, dict] = field(default_factory=dict)
    days: Counter = field(default_factory=Counter)


def _judge(session: Session, judge: Judge, rows: Sequence, replace: bool,
           recs: Sequence[CallRecord] | None = None, pending: _Pending | None = None) -> int:
    """Judge these calls and store what they broke (or, with ``pending``, note it there); ``replace`` drops their
    earlier verdicts first."""
    recs = recs if recs is not None else [_record(r) for r in rows]
    if not recs:
        return 0
    ids = [r[0] for r in rows]
    if replace and pending is not None:
        pending.dropped.update(ids)
        for i in ids:
            pending.found.pop(i, None)
    elif replace:
        for k in range(0, len(ids), 1000):
            session.execute(delete(CallVerdict).where(CallVerdict.call_id.in_(ids[k:k + 1000])))
    judge.prefetch(c.e164 for c in recs)
    capped = _capped(judge, recs)
    person, numbers = person_calls(session, capped, min(c.placed_at for c in recs) - CAP_REACH,
                                    max(c.placed_at for c in recs)) if capped else (PersonCalls(), {})
    key = _rules_key()
    found = []
    for cid, c in zip(ids, recs, strict=True):
        f = judge.judge(c, person.before(dataclasses.replace(c, numbers=numbers.get(c.lead, ())), cid))
        if f is not None:
            found.append({"call_id": cid, "campaign_id": c.campaign, "e164": c.e164, "placed_at": c.placed_at,
                          "zones": ",".join(f.zones)[:400], "states": ",".join(f.states)[:200],
                          "codes": ",".join(f.codes)[:400], "window": any(x in WINDOW_CODES for x in f.codes),
                          "details": [r.as_dict() for r in f.reasons], "rules": key})
    if pending is not None:
        pending.found.update((f["call_id"], f) for f in found)
    elif found:
        session.execute(CallVerdict.__table__.insert(), found)
    return len(found)


def _count_days(session: Session, rows: Sequence, days: Counter | None = None) -> None:
    days = days if days is not None else Counter((r[2].astimezone(UTC).date(), r[3]) for r in rows)
    have = {(d.day, d.campaign_id): d for d in session.scalars(select(VerdictDay).where(
        VerdictDay.day.in_({d for d, _ in days})))}
    for (day, cid), n in days.items():
        if (day, cid) in have:
            have[(day, cid)].calls += n
        else:
            session.add(VerdictDay(day=day, campaign_id=cid, calls=n))
    session.flush()


def refresh(session: Session, store: Store | None, now: datetime, rebuild: bool = False,
            limit: int | None = None) -> Refreshed:
    """Judge the calls placed since the last refresh and re-judge what later facts changed (caller commits).

    ``limit`` stops after about that many new calls (the worker's job catches up a backlog in steps; a report
    never waits for more than a few seconds of judging and says how many calls are still waiting)."""
    st = _state(session)
    out = Refreshed()
    key = _rules_key()
    oldest = openids.xids(session)  # before anything is read: see openids.settle
    top_seq = session.scalar(select(func.max(LedgerRecord.seq))) or 0
    opened, only = list(st.open_ids or []), None
    if rebuild or st.rules != key:
        session.execute(delete(CallVerdict))
        session.execute(delete(VerdictDay))
        only = [*opened, [st.last_call_id + 1, 2 ** 62]]  # the ids let go before stay gone (never reused)
        st.last_call_id, st.last_ledger_seq, st.rules, out.rebuilt = 0, top_seq, key, True
        opened = []
    watermark = st.last_call_id
    if top_seq <= st.last_ledger_seq and session.scalar(select(Call.id).where(Call.id > watermark, PLACED)
                                                        .limit(1)) is None and not _any_open(session, opened):
        st.open_ids = openids.settle(opened, _waiting(session, opened), oldest[0] if oldest else None, now)
        st.refreshed_at = now  # nothing placed or recorded since: no judge to build, no lock held for long
        session.flush()
        return out
    judge = Judge(session, store)
    seen, complete = _judge_open(session, judge, opened, watermark, out, limit)
    if top_seq > st.last_ledger_seq:  # DNC requests and consent recorded since: judge their numbers' calls again
        numbers = sorted(set(session.scalars(select(LedgerRecord.e164).where(
            LedgerRecord.seq > st.last_ledger_seq, LedgerRecord.kind.in_(LATE_FACTS),
            LedgerRecord.e164.is_not(None)))))
        for k in range(0, len(numbers), 1000):
            rows = session.execute(_select_calls().where(Call.phone.in_(numbers[k:k + 1000]),
                                                         Call.id <= watermark)).all()
            out.findings += _judge(session, judge, rows, replace=True)
            out.rejudged += len(rows)
    gaps: list[tuple[int, int]] = []
    while limit is None or out.judged < limit:
        rows = session.execute(_select_calls().where(Call.id > st.last_call_id).order_by(Call.id)
                               .limit(CHUNK if limit is None else min(CHUNK, limit - out.judged))).all()
        if not rows:
            break
        recs = [_record(r) for r in rows]
        out.findings += _judge(session, judge, rows, replace=False, recs=recs)
        _count_days(session, rows)
        out.judged += len(rows)
        gaps += openids.missing(st.last_call_id, [r[0] for r in rows])
        st.last_call_id = rows[-1][0]
        late = _late_neighbours(session, judge, recs, watermark)
        if late:
            out.findings += _judge(session, judge, late, replace=True)
            out.rejudged += len(late)
    left = openids.without(opened, seen)
    st.open_ids = ((openids.settle(left, _waiting(session, left), oldest[0] if oldest else None, now)
                    if complete else left) + openids.note(gaps, openids.xids(session), now, only))
    st.last_ledger_seq, st.refreshed_at = top_seq, now
    session.flush()
    return out


def _any_open(session: Session, opened: list[list]) -> bool:
    """Some call to judge in the open ids."""
    return any(session.scalar(select(Call.id).where(openids.within(Call.id, part), PLACED).limit(1)) is not None
               for part in openids.batches(opened))


def _waiting(session: Session, opened: list[list]) -> list[int]:
    """The open ids whose rows exist but are not placed yet (after ``_judge_open``: none placed is left)."""
    return sorted(i for part in openids.batches(opened)
                  for i in session.scalars(select(Call.id).where(openids.within(Call.id, part))))


def _judge_open(session: Session, judge: Judge, opened: list[list], watermark: int, out: Refreshed,
                limit: int | None, pending: _Pending | None = None) -> tuple[list[int], bool]:
    """Judge the calls that appeared in the open ids (committed after a later call was judged), as new calls.
    Returns their ids and whether every open id was looked at (not when ``limit`` stopped it)."""
    seen: list[int] = []
    for part in openids.batches(opened):
        after = 0
        while True:
            if limit is not None and out.judged >= limit:
                return seen, False
            rows = session.execute(_select_calls().where(openids.within(Call.id, part), Call.id > after)
                                   .order_by(Call.id).limit(CHUNK if limit is None else
                                                            min(CHUNK, limit - out.judged))).all()
            if not rows:
                break
            recs = [_record(r) for r in rows]
            # replace: a DNC fact recorded since may have judged a visible one already (``Call.id <= watermark``)
            out.findings += _judge(session, judge, rows, replace=True, recs=recs, pending=pending)
            if pending is not None:
                pending.days.update((r[2].astimezone(UTC).date(), r[3]) for r in rows)
            else:
                _count_days(session, rows)
            out.judged += len(rows)
            after = rows[-1][0]
            seen += [r[0] for r in rows]
            late = _late_neighbours(session, judge, recs, watermark)
            if late:
                out.findings += _judge(session, judge, late, replace=True, pending=pending)
                out.rejudged += len(late)
    return seen, True


def refresh_unlocked(session: Session, store: Store | None, now: datetime, limit: int | None = None
                     ) -> Refreshed | None:
    """``refresh`` for the worker's job: the calls are read and judged through a reading session
    (``campaigns.db.reading``: on SQLite no write lock is held meanwhile, and judging a minute of calls, or a
    backlog, takes long), then the verdicts are written in one short transaction of ``session``, only if no other
    refresh moved the state on meanwhile (else nothing is written and None returned: the next run judges them).
    A rebuild (a new rules file) is done the locked way. Commits."""
    from campaigns.db import reading

    key = _rules_key()
    out = Refreshed()
    pending = _Pending()
    with reading(session) as reader:
        oldest = openids.xids(reader)  # before anything is read: see openids.settle
        st = reader.get(VerdictState, 1)
        if st is None or st.rules != key:
            r = refresh(session, store, now, limit=limit)
            session.commit()
            return r
        watermark, seq, opened = st.last_call_id, st.last_ledger_seq, list(st.open_ids or [])
        top_seq = reader.scalar(select(func.max(LedgerRecord.seq))) or 0
        last, gaps, seen, complete = watermark, [], [], True
        if top_seq > seq or reader.scalar(select(Call.id).where(Call.id > watermark, PLACED).limit(1)) is not None \
                or _any_open(reader, opened):
            judge = Judge(reader, store)
            seen, complete = _judge_open(reader, judge, opened, watermark, out, limit, pending)
            if top_seq > seq:
                numbers = sorted(set(reader.scalars(select(LedgerRecord.e164).where(
                    LedgerRecord.seq > seq, LedgerRecord.kind.in_(LATE_FACTS), LedgerRecord.e164.is_not(None)))))
                for k in range(0, len(numbers), 1000):
                    rows = reader.execute(_select_calls().where(Call.phone.in_(numbers[k:k + 1000]),
                                                                Call.id <= watermark)).all()
                    out.findings += _judge(reader, judge, rows, replace=True, pending=pending)
                    out.rejudged += len(rows)
            while limit is None or out.judged < limit:
                rows = reader.execute(_select_calls().where(Call.id > last).order_by(Call.id).limit(
                    CHUNK if limit is None else min(CHUNK, limit - out.judged))).all()
                if not rows:
                    break
                recs = [_record(r) for r in rows]
                out.findings += _judge(reader, judge, rows, replace=False, recs=recs, pending=pending)
                pending.days.update((r[2].astimezone(UTC).date(), r[3]) for r in rows)
                out.judged += len(rows)
                gaps += openids.missing(last, [r[0] for r in rows])
                last = rows[-1][0]
                late = _late_neighbours(reader, judge, recs, watermark)
                if late:
                    out.findings += _judge(reader, judge, late, replace=True, pending=pending)
                    out.rejudged += len(late)
        left = openids.without(opened, seen)
        waiting = _waiting(reader, left) if complete else []
    st = _state(session)
    if (st.last_call_id, st.last_ledger_seq, st.rules, list(st.open_ids or [])) != (watermark, seq, key, opened):
        session.rollback()
        return None
    dropped = sorted(pending.dropped)
    for k in range(0, len(dropped), 1000):
        session.execute(delete(CallVerdict).where(CallVerdict.call_id.in_(dropped[k:k + 1000])))
    if pending.found:
        session.execute(CallVerdict.__table__.insert(), list(pending.found.values()))
    if pending.days:
        _count_days(session, (), pending.days)
    st.open_ids = ((openids.settle(left, waiting, oldest[0] if oldest else None, now) if complete else left)
                   + openids.note(gaps, openids.xids(session), now))  # taken after every read: see openids
    st.last_call_id, st.last_ledger_seq, st.refreshed_at = last, top_seq, now
    session.commit()
    return out


def _late_neighbours(session: Session, judge: Judge, recs: Sequence[CallRecord], watermark: int) -> list:
    """Calls judged before that a late-arriving earlier call now counts against: the same called person's (its
    number, its lead's own calls, its lead's other numbers) in the next 2 days."""
    capped = _capped(judge, recs)
    if not capped or watermark == 0:
        return []
    lo, hi = min(c.placed_at for c in recs), max(c.placed_at for c in recs) + CAP_REACH
    numbers = lead_numbers(session, {c.lead for c in capped if c.lead is not None})
    firsts: dict[tuple, datetime] = {}
    for c in capped:
        keys = [("n", c.e164), *((("l", c.lead),) if c.lead is not None else ()),
                *(("n", n) for n, _ in numbers.get(c.lead, ()))]
        for key in keys:
            firsts[key] = min(firsts.get(key, c.placed_at), c.placed_at)
    found: dict[int, tuple] = {}
    for kind, column in (("n", Call.phone), ("l", Call.lead_id)):
        wanted = sorted(k for t, k in firsts if t == kind)
        for k in range(0, len(wanted), 1000):
            for r in session.execute(_select_calls().where(column.in_(wanted[k:k + 1000]), Call.id <= watermark,
                                                           Call.placed_at > lo, Call.placed_at <= hi)):
                found[r[0]] = r
    return [r for r in found.values() if any(
        (first := firsts.get(key)) is not None and first < r[2] <= first + CAP_REACH
        for key in (("n", r[1]), ("l", r[7])))]


def pending(session: Session) -> int:
    """Calls placed and not judged yet (a backlog after an upgrade or a long stop of the worker, and the calls
    that committed late, in the open ids)."""
    st = session.get(VerdictState, 1)
    n = int(session.scalar(select(func.count()).select_from(Call).where(
        Call.id > (st.last_call_id if st is not None else 0), PLACED)) or 0)
    for part in openids.batches(list(st.open_ids or []) if st is not None else []):
        n += int(session.scalar(select(func.count()).select_from(Call).where(openids.within(Call.id, part),
                                                                            PLACED)) or 0)
    return n


# --- what the reports read -----------------------------------------------------------------------------------------
def findings(session: Session, since: datetime, until: datetime, campaign_id: int | None = None,
             window: bool = False) -> list[CallVerdict]:
    """The stored violations of calls placed in [since, until), oldest first (window: only window/cap ones)."""
    q = select(CallVerdict).where(CallVerdict.placed_at >= since, CallVerdict.placed_at < until)
    if campaign_id is not None:
        q = q.where(CallVerdict.campaign_id == campaign_id)
    if window:
        q = q.where(CallVerdict.window.is_(True))
    return list(session.scalars(q.order_by(CallVerdict.placed_at, CallVerdict.call_id)))


def checked(session: Session, first: date, last: date, campaign_id: int | None = None) -> int:
    """Calls judged that were placed on the UTC days first..last."""
    q = select(func.coalesce(func.sum(VerdictDay.calls), 0)).where(VerdictDay.day >= first, VerdictDay.day <= last)
    if campaign_id is not None:
        q = q.where(VerdictDay.campaign_id == campaign_id)
    return int(session.scalar(q) or 0)
