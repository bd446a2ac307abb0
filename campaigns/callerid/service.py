"""Caller-ID pools: which number the called party sees.

Numbers burn when they are over-dialed or flagged "Spam Likely" by the carriers, so each campaign keeps a pool with a
daily dial cap per number, optional local presence (a number from the lead's area code, else its state), spam flags
raised by agents or managers, and automatic retirement past a flag threshold or below an answer-rate floor. The
number chosen is recorded on every call (``calls.caller_id``), which is also what the daily cap and the health view
count. A campaign without a pool shows its own caller ID (``campaigns.caller_id``); a pool whose every number is
retired or used up for the day places no call at all (the funnel says so) rather than falling back silently.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.orm import Session

from campaigns.callerid.models import CallerIdFlag, CallerIdNumber
from campaigns.campaign.models import Campaign
from campaigns.campaign.service import normalize_caller_id
from campaigns.dispatch.models import Call
from dnc.errors import UserError
from dnc.zones import area_code_states

HEALTH_DAYS = 7


def _nanp_area_code(e164: str) -> str:
    return e164[2:5] if e164.startswith("+1") and len(e164) == 12 else ""


def _only_state(e164: str) -> str | None:
    states = area_code_states(_nanp_area_code(e164))
    return next(iter(states)) if len(states) == 1 else None


def _get(session: Session, campaign: Campaign, raw: str) -> CallerIdNumber:
    number = normalize_caller_id(raw, campaign.region)
    row = session.scalar(select(CallerIdNumber).where(CallerIdNumber.campaign_id == campaign.id,
                                                      CallerIdNumber.number == number))
    if row is None:
        raise UserError(f"{number} is not in the caller-ID pool of campaign {campaign.name!r}")
    return row


def add_number(session: Session, campaign: Campaign, raw: str, now: datetime, daily_cap: int | None = None
               ) -> CallerIdNumber:
    number = normalize_caller_id(raw, campaign.region)
    if daily_cap is not None and not 1 <= daily_cap <= 10_000:
        raise UserError(f"daily cap must be between 1 and 10000, got {daily_cap}")
    exists = session.scalar(select(CallerIdNumber).where(CallerIdNumber.campaign_id == campaign.id,
                                                         CallerIdNumber.number == number))
    if exists is not None:
        raise UserError(f"{number} is already in the pool of campaign {campaign.name!r}")
    row = CallerIdNumber(campaign_id=campaign.id, number=number, area_code=_nanp_area_code(number),
                         state=_only_state(number), daily_cap=daily_cap, active=True, added_at=now)
    session.add(row)
    session.flush()
    return row


def configure(campaign: Campaign, *, local_presence: bool | None = None, daily_cap: int | None = None,
              spam_threshold: int | None = None) -> None:
    """The pool's campaign settings: local presence, the default daily cap per number, the spam-flag threshold."""
    if daily_cap is not None and not 1 <= daily_cap <= 10_000:
        raise UserError(f"caller-ID daily cap must be between 1 and 10000, got {daily_cap}")
    if spam_threshold is not None and not 1 <= spam_threshold <= 100:
        raise UserError(f"spam-flag threshold must be between 1 and 100, got {spam_threshold}")
    if local_presence is not None:
        campaign.local_presence = local_presence
    if daily_cap is not None:
        campaign.caller_id_daily_cap = daily_cap
    if spam_threshold is not None:
        campaign.spam_flag_threshold = spam_threshold


def pool(session: Session, campaign_id: int) -> list[CallerIdNumber]:
    return list(session.scalars(select(CallerIdNumber).where(CallerIdNumber.campaign_id == campaign_id)
                                .order_by(CallerIdNumber.number)))


def day_start(campaign: Campaign, now: datetime) -> datetime:
    """Start of 'today' in the campaign's zone: per-day caps reset at the floor's midnight."""
    local = now.astimezone(ZoneInfo(campaign.timezone))
    return local.replace(hour=0, minute=0, second=0, microsecond=0)


def dials_today(session: Session, campaign: Campaign, now: datetime, numbers: Iterable[str]) -> dict[str, int]:
    """Calls shown with each number since the campaign's midnight, whichever campaign placed them: a number's
    heat with the carriers is the number's, not the campaign's."""
    numbers = list(numbers)
    if not numbers:
        return {}
    rows = session.execute(
        select(Call.caller_id, func.count())
        .where(Call.caller_id.in_(numbers), Call.placed_at >= day_start(campaign, now), Call.placed_at <= now)
        .group_by(Call.caller_id))
    return {number: n for number, n in rows}


class Picker:
    """Chooses the number shown on each call of one claim: the pool and today's counts are read once, and every
    pick counts at once, so a claim of many leads never pushes a number past its cap."""

    def __init__(self, session: Session, campaign: Campaign, now: datetime) -> None:
        self.campaign = campaign
        numbers = pool(session, campaign.id)
        self.has_pool = bool(numbers)
        self.open = [n for n in numbers if n.active]
        self.used = dials_today(session, campaign, now, (n.number for n in self.open))

    def cap(self, n: CallerIdNumber) -> int:
        return n.daily_cap or self.campaign.caller_id_daily_cap

    def pick(self, lead_phone: str, lead_states: Iterable[str] = ()) -> str | None:
        """The number for a call to ``lead_phone``, or None when every pool number is retired or at its cap.

        Without a pool the campaign's own caller ID. With local presence, a number of the lead's area code wins,
        then one of the lead's state(s); among equals the least used today, so dials spread over the pool.
        """
        if not self.has_pool:
            return self.campaign.caller_id
        used = self.used
        candidates = [n for n in self.open if used.get(n.number, 0) < self.cap(n)]
        if not candidates:
            return None
        area = _nanp_area_code(lead_phone)
        states = set(lead_states) or set(area_code_states(area))
        local = self.campaign.local_presence

        def rank(n: CallerIdNumber) -> tuple[int, int, int]:
            tier = (0 if n.area_code == area else 1 if n.state and n.state in states else 2) if local else 0
            return tier, used.get(n.number, 0), n.id

        best = min(candidates, key=rank)
        used[best.number] = used.get(best.number, 0) + 1
        return best.number

    @property
    def exhausted(self) -> bool:
        return self.has_pool and not any(self.used.get(n.number, 0) < self.cap(n) for n in self.open)


def choose_caller_id(session: Session, campaign: Campaign, lead_phone: str, now: datetime,
                     lead_states: Iterable[str] = ()) -> str | None:
    """One call's number (see ``Picker.pick``)."""
    return Picker(session, campaign, now).pick(lead_phone, lead_states)


def flag_number(session: Session, campaign: Campaign, raw: str, flagged_by: str, now: datetime,
                reason: str = "shown as spam") -> CallerIdNumber:
    """Record a spam flag; retire the number automatically once it reaches the campaign's threshold."""
    if not flagged_by.strip():
        raise UserError("a spam flag needs who saw it (--by)")
    row = _get(session, campaign, raw)
    session.add(CallerIdFlag(caller_id_id=row.id, flagged_by=flagged_by.strip()[:120],
                             reason=(reason or "shown as spam")[:200], at=now))
    session.flush()
    flags = _flags(session, row)
    if row.active and flags >= campaign.spam_flag_threshold:
        retire(row, now, f"{flags} spam flags (threshold {campaign.spam_flag_threshold})")
    return row


def _flags(session: Session, row: CallerIdNumber) -> int:
    q = select(func.count()).select_from(CallerIdFlag).where(CallerIdFlag.caller_id_id == row.id)
    if row.flags_since is not None:
        q = q.where(CallerIdFlag.at >= row.flags_since)
    return session.scalar(q) or 0


def retire(row: CallerIdNumber, now: datetime, reason: str) -> None:
    row.active = False
    row.retired_at = now
    row.retired_reason = reason[:200]


def set_active(session: Session, campaign: Campaign, raw: str, active: bool, now: datetime, reason: str = "") -> (
        CallerIdNumber):
    """A manager retires a number by hand, or puts a retired one back (its flags stay, counted from then on)."""
    row = _get(session, campaign, raw)
    if active:
        if row.active:
            raise UserError(f"{row.number} is already active")
        # flags raised before the number came back stay as history but no longer count towards the threshold
        row.active, row.retired_at, row.retired_reason, row.flags_since = True, None, None, now
    else:
        if not row.active:
            raise UserError(f"{row.number} is already retired ({row.retired_reason})")
        retire(row, now, reason or "retired by a manager")
    session.flush()
    return row


@dataclass(frozen=True)
class NumberHealth:
    number: str
    active: bool
    area_code: str
    state: str | None
    dials_today: int
    daily_cap: int
    dials_7d: int
    answered_7d: int
    answer_rate_7d: float | None
    flags: int
    retired_reason: str | None

    def as_dict(self) -> dict:
        return dict(self.__dict__)


def health(session: Session, campaign: Campaign, now: datetime, *, min_answer_rate: float | None = None,
           min_dials: int = 200, write: bool = True) -> list[NumberHealth]:
    """Per number: dials today against its cap, 7-day dials and answer rate, spam flags and retirement.

    The answer rate is the reports' (live answers ÷ dials, ``campaigns.reports.sqlbits.CallFacts.live``), so the
    page, the retirement floor and the hit-rate report read a call the same way. With ``min_answer_rate``, an active
    number with at least ``min_dials`` dials in 7 days whose answer rate fell below it is retired here and now (a
    "Spam Likely" label shows first as a collapsing answer rate); with ``write`` False it is only reported so
    (inactive, with the reason), nothing written."""
    from campaigns.reports.metrics import answer_rate
    from campaigns.reports.sqlbits import CallFacts

    numbers = pool(session, campaign.id)
    since = now - timedelta(days=HEALTH_DAYS)
    today = dials_today(session, campaign, now, (n.number for n in numbers))
    live = CallFacts(Call.__table__).live
    stats = {
        number: (dials, int(answered or 0))
        for number, dials, answered in session.execute(
            select(Call.caller_id, func.count(), func.sum(case((live, 1), else_=0)))
            .where(Call.caller_id.in_([n.number for n in numbers]), Call.placed_at >= since, Call.placed_at <= now)
            .group_by(Call.caller_id))
    }
    counted = or_(CallerIdNumber.flags_since.is_(None), CallerIdFlag.at >= CallerIdNumber.flags_since)
    flag_counts = dict(session.execute(
        select(CallerIdFlag.caller_id_id, func.count()).join(
            CallerIdNumber, and_(CallerIdNumber.id == CallerIdFlag.caller_id_id,
                                 CallerIdNumber.campaign_id == campaign.id))
        .where(counted).group_by(CallerIdFlag.caller_id_id)).all())
    out = []
    retiring: dict[int, str] = {}
    for n in numbers:
        dials, answered = stats.get(n.number, (0, 0))
        rate = answer_rate(answered, dials)
        vouched = n.flags_since is not None and n.flags_since > since  # a manager put it back this week
        if n.active and not vouched and min_answer_rate is not None and dials >= min_dials and rate is not None \
                and rate < min_answer_rate:
            why = f"answer rate {rate:.1%} over {dials} dials in {HEALTH_DAYS} days is under {min_answer_rate:.1%}"
            if write:
                retire(n, now, why)
            retiring[n.id] = why
        out.append(NumberHealth(
            number=n.number, active=n.active and n.id not in retiring, area_code=n.area_code, state=n.state,
            dials_today=today.get(n.number, 0), daily_cap=n.daily_cap or campaign.caller_id_daily_cap,
            dials_7d=dials, answered_7d=answered, answer_rate_7d=rate, flags=flag_counts.get(n.id, 0),
            retired_reason=retiring.get(n.id, n.retired_reason)))
    if write:
        session.flush()
    return out


def review_all(session: Session, now: datetime) -> dict:
    """The worker's health check: every campaign with an answer-rate floor retires the numbers under it.

    A week of calls is counted with no transaction of ``session`` open (``campaigns.db.reading``: on SQLite a job's
    transaction holds the one write lock); the numbers found under the floor are then retired in a short
    transaction, each only if it is still active and no manager put it back meanwhile (their word stands)."""
    from campaigns.campaign.models import DialSettings
    from campaigns.db import reading

    found: list[tuple[str, list[tuple[int, datetime | None, str]]]] = []
    with reading(session) as reader:
        rows = reader.execute(select(Campaign, DialSettings.callerid_min_answer_rate, DialSettings.callerid_min_dials)
                              .join(DialSettings, DialSettings.campaign_id == Campaign.id)
                              .where(DialSettings.callerid_min_answer_rate.is_not(None),
                                     Campaign.status.in_(("active", "paused")))).all()
        for campaign, rate, dials in rows:
            active = {n.number: n for n in pool(reader, campaign.id) if n.active}
            under = [(active[h.number].id, active[h.number].flags_since, h.retired_reason or "")
                     for h in health(reader, campaign, now, min_answer_rate=rate, min_dials=dials, write=False)
                     if h.number in active and not h.active]
            if under:
                found.append((campaign.name, under))
    retired = {}
    for name, under in found:
        done = []
        for number_id, since, why in under:
            row = session.get(CallerIdNumber, number_id, with_for_update=True, populate_existing=True)
            if row is None or not row.active or row.flags_since != since:
                continue
            retire(row, now, why)
            done.append(row.number)
        session.commit()
        if done:
            retired[name] = sorted(done)
    return {"retired": retired}
