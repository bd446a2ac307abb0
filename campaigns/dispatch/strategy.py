"""Lead strategy for the claim: which callable lead is dialed next, and what may hold one back for a while.

- **Order** (``dial_settings.lead_order``), always after priority (a hot lead jumps the queue): ``due`` (the lead
  that has waited longest since it became due; the default), ``oldest`` (loaded first), ``newest`` (loaded last),
  ``follow_sun`` (leads whose calling window closes first: the East Coast before the West Coast, so every zone is
  worked while it is open).
- **Interleave** (``new_lead_every`` = N): one dial in N goes to a never-dialed lead, the others to retries and
  callbacks, so fresh leads keep flowing while the retry queue is worked (Convoso's "every Nth new lead").
- **Holds**: a minimum re-call gap per lead and per number, and a daily attempt cap per lead and per number (the
  campaign's day). A lead held back is rescheduled to the moment the hold ends: not dialed, not counted, no
  gate record, and not re-read by every claim until then.
- **After the call**: retries that wait a little longer each time (``retry_shift_s``: 27, 29, 31 h rather than
  every 24 h at the same hour) and the move to the lead's next phone after N failed attempts
  (``campaigns.leads.phones``).
"""

from __future__ import annotations

import threading
import time
from dataclasses import replace
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import case, func, select, text
from sqlalchemy.orm import Session

from campaigns.agents.models import Agent
from campaigns.callbacks.service import claimable
from campaigns.callerid.service import Picker, day_start
from campaigns.campaign.dial_settings import Settings, settings_of
from campaigns.campaign.models import Campaign, DialSettings
from campaigns.dispatch import hours
from campaigns.dispatch.listmix import mix_of
from campaigns.dispatch.models import Call
from campaigns.dispatch.rules import CALLABLE_STATUSES, LeadChange
from campaigns.leads import phones as lead_phones
from campaigns.leads.models import Lead, LeadList

_ZONE_CACHE_S = 300.0
_zone_cache: dict[tuple[str, int], tuple[float, list[str]]] = {}
_zone_lock = threading.Lock()


# the claim's status filter written as the partial indexes' own predicate (literal values, not bound parameters):
# SQLite uses a partial index only when the query states its predicate, so with parameters every claim sorted the
# campaign's whole queue
CALLABLE_SQL = text("leads.status IN ('new', 'retry', 'callback')")
assert tuple(CALLABLE_STATUSES) == ("new", "retry", "callback")


def due_at():
    """When a lead became callable: its next attempt time, or its creation for a lead never scheduled."""
    return func.coalesce(Lead.next_attempt_at, Lead.created_at)


def closing_rank(zones: str, now: datetime) -> float:
    """Follow the sun: hours east of UTC of the lead's easternmost candidate zone, negated (east first). A lead
    whose zones span ET and CT may be called until 21:00 ET, so it ranks with the East Coast."""
    offsets = []
    for z in zones.split(","):
        if not z:
            continue
        try:
            off = now.astimezone(ZoneInfo(z)).utcoffset()
        except (KeyError, ValueError):
            continue
        if off is not None:
            offsets.append(off.total_seconds() / 3600)
    return -max(offsets) if offsets else 99.0


def _campaign_zone_sets(session: Session, campaign_id: int) -> list[str]:
    """The distinct ``leads.timezones`` values of a campaign (a few dozen), cached a few minutes per process."""
    key = (session.get_bind().url.render_as_string(hide_password=True), campaign_id)
    hit = _zone_cache.get(key)
    if hit is not None and time.monotonic() - hit[0] < _ZONE_CACHE_S:
        return hit[1]
    values = list(session.scalars(select(Lead.timezones).where(Lead.campaign_id == campaign_id).distinct()))
    with _zone_lock:
        _zone_cache[key] = (time.monotonic(), values)
    return values


def order_columns(session: Session, campaign: Campaign, s: Settings, now: datetime) -> list:
    """ORDER BY of the claim: priority first, then the campaign's lead order, then id (the list mix is applied
    per list: ``campaigns.dispatch.listmix``)."""
    first = [Lead.priority.desc()]
    if s.lead_order == "oldest":
        return [*first, Lead.id]
    if s.lead_order == "newest":
        return [*first, Lead.id.desc()]
    if s.lead_order == "follow_sun":
        ranks = {z: closing_rank(z, now) for z in _campaign_zone_sets(session, campaign.id)}
        rank = case(ranks, value=Lead.timezones, else_=99.0) if ranks else None
        return [*first, *([rank] if rank is not None else []), due_at(), Lead.id]
    return [*first, due_at(), Lead.id]


class ClaimPlan:
    """What one claim needs, read once: settings, order, the caller-ID picker and the interleave position."""

    def __init__(self, session: Session, campaign: Campaign, now: datetime, extra: list | None = None) -> None:
        self.campaign, self.now = campaign, now
        self.s = settings_of(session, campaign.id)
        self.mix = mix_of(session, campaign.id)  # None: no list preference
        self.order = order_columns(session, campaign, self.s, now)
        self.picker = Picker(session, campaign, now)
        self.day0 = day_start(campaign, now)
        self.row = session.get(DialSettings, campaign.id, with_for_update=True) if self.s.new_lead_every else None
        self.seq = self.row.dial_seq if self.row is not None else 0
        ready = select(Agent.id).where(Agent.campaign_id == campaign.id, Agent.state == "ready")
        self.where = [Lead.campaign_id == campaign.id, CALLABLE_SQL, due_at() <= now,
                      Lead.phone.not_in(select(Call.phone).where(Call.ended_at.is_(None))),
                      claimable(now, self.s.callback_grace_s, ready),
                      Lead.list_id.not_in(select(LeadList.id).where(LeadList.campaign_id == campaign.id,
                                                                    LeadList.active.is_(False))), *(extra or [])]

    def _query(self, statuses: tuple[str, ...] | None, limit: int, exclude: set[int], only: list | None = None):
        q = select(Lead).where(*self.where, *(only or []))
        if statuses is not None:
            q = q.where(Lead.status.in_(statuses))
        if exclude:
            q = q.where(Lead.id.not_in(exclude))
        return q.order_by(*self.order).limit(limit).with_for_update(skip_locked=True, of=Lead)

    def candidates(self, session: Session, k: int, exclude: set[int]) -> list[Lead]:
        """Up to about ``k`` leads in the order they should be tried (locked for this transaction); with a
        weighted list mix, each weighted list's own candidates drawn in the mix's shares."""
        if self.mix is None:
            return self._ordered(session, k, exclude)
        pools: dict[int, list[Lead]] = {}
        for lid in self.mix.lists:  # in order, only as many lists as needed, then only their hot leads
            hot_only = [] if self.mix.weighted or sum(map(len, pools.values())) < k else [Lead.priority > 0]
            pools[lid] = self._ordered(session, k, exclude, [Lead.list_id == lid, *hot_only])
        rest: list[Lead] = []
        if self.mix.weighted:  # lists without a weight: when the weighted ones run short, and their hot leads
            others = [Lead.list_id.not_in(self.mix.lists)]
            if sum(map(len, pools.values())) >= k:
                others.append(Lead.priority > 0)
            rest = self._ordered(session, k, exclude, others)
        return self.mix.merge(pools, rest)

    def _ordered(self, session: Session, k: int, exclude: set[int], only: list | None = None) -> list[Lead]:
        every = self.s.new_lead_every
        if not every:
            return list(session.scalars(self._query(None, k + 8, exclude, only)))
        fresh = list(session.scalars(self._query(("new",), k + 8, exclude, only)))
        others = list(session.scalars(self._query(("retry", "callback"), k + 8, exclude, only)))
        out: list[Lead] = []
        i = j = 0
        pos = self.seq
        while i < len(fresh) or j < len(others):
            if i < len(fresh) and j < len(others) and fresh[i].priority != others[j].priority:
                take_new = fresh[i].priority > others[j].priority  # a hot lead goes first, whatever its pool
            else:
                take_new = (pos % every == every - 1) if i < len(fresh) and j < len(others) else i < len(fresh)
            if take_new:
                out.append(fresh[i])
                i += 1
            else:
                out.append(others[j])
                j += 1
            pos += 1
        return out

    def holds(self, session: Session, leads: list[Lead]) -> dict[int, datetime]:
        """Leads that may not be dialed yet because of a re-call gap or a daily cap: lead id -> when they may."""
        s, now = self.s, self.now
        out: dict[int, datetime] = {}
        tomorrow = _next_day(self.day0, self.campaign)
        gap = timedelta(seconds=s.min_recall_gap_s)
        per_lead: dict[int, int] = {}
        per_phone: dict[str, tuple[int, datetime]] = {}
        if s.lead_daily_cap:
            per_lead = dict(session.execute(
                select(Call.lead_id, func.count()).where(Call.lead_id.in_([x.id for x in leads]),
                                                         Call.placed_at >= self.day0).group_by(Call.lead_id)).all())
        if s.phone_daily_cap or gap:
            since = min(self.day0, now - gap) if gap else self.day0
            rows = session.execute(
                select(Call.phone, func.count().filter(Call.placed_at >= self.day0), func.max(Call.placed_at))
                .where(Call.campaign_id == self.campaign.id, Call.phone.in_({x.phone for x in leads}),
                       Call.placed_at >= since).group_by(Call.phone)).all()
            per_phone = {p: (n, last) for p, n, last in rows}
        own_hours = hours.restricts(self.campaign.calling_hours, self.campaign.calling_days)
        for lead in leads:
            until = None
            if own_hours:  # the campaign's own hours and days at the called party
                until = hours.next_open(lead.zone_list, self.campaign.calling_hours, self.campaign.calling_days, now)
            if gap and lead.status != "callback":  # the customer asked for a callback: no gap holds it back
                last = max(filter(None, (lead.last_called_at, per_phone.get(lead.phone, (0, None))[1])), default=None)
                if last is not None and last + gap > now:
                    until = max(until or now, last + gap)
            if s.lead_daily_cap and per_lead.get(lead.id, 0) >= s.lead_daily_cap:
                until = max(until or tomorrow, tomorrow)
            if s.phone_daily_cap and per_phone.get(lead.phone, (0, None))[0] >= s.phone_daily_cap:
                until = max(until or tomorrow, tomorrow)
            if until is not None:
                out[lead.id] = until
        return out

    def finish(self, session: Session, lead_ids: list[int]) -> None:
        """After the claim: the interleave's position and the weighted mix's credits move by the leads claimed."""
        if self.row is not None:
            self.row.dial_seq = self.seq + len(lead_ids)
        if self.mix is not None:
            self.mix.finish(session, lead_ids)


def _next_day(day0: datetime, campaign: Campaign) -> datetime:
    """The campaign's next local midnight (a day may be 23 or 25 hours long)."""
    tz = ZoneInfo(campaign.timezone)
    nxt = (day0 + timedelta(hours=26)).astimezone(tz)
    return nxt.replace(hour=0, minute=0, second=0, microsecond=0)


def hold(lead: Lead, until: datetime, now: datetime) -> None:
    """Keep a lead back until ``until`` without counting an attempt (a gap or a daily cap)."""
    lead.next_attempt_at, lead.updated_at = until, now


def after_call(session: Session, lead: Lead, reason: str, change: LeadChange, campaign: Campaign,
               now: datetime) -> LeadChange:
    """The campaign's strategy applied to the rules' verdict on a finished call: the next phone after N failures
    (or instead of closing the lead as an invalid number), and retry delays that rotate the time of day."""
    s = settings_of(session, campaign.id)
    if s.phone_switch_after and reason in lead_phones.FAILURES:
        change = lead_phones.after_failure(session, lead, reason, change, s.phone_switch_after, now)
    if s.retry_shift_s and change.status == "retry" and change.next_attempt_at is not None \
            and reason in ("no_answer", "busy", "machine") and lead.attempts > 1:
        change = replace(change, next_attempt_at=change.next_attempt_at
                         + timedelta(seconds=s.retry_shift_s * (lead.attempts - 1)))
    return change
