"""The per-number part of the dialable funnel, read in bulk so a refresh every few seconds stays cheap at 1 M leads.

Almost every lead of a campaign is blocked or not for reasons shared by thousands of others (its zones and states,
its area code's registry coverage, its status and due time): the funnel counts those with one GROUP BY. Only a few
leads have a reason of their own: their number is on the national registry or a state/litigator/wireless/prefix
list, on the internal DNC list, covered by consent, at a state's call cap, at a daily cap, or it changed phones.
This module finds those "special" leads:

- registry and list hits are looked up once per lead (vectorized) and cached per process and campaign; a refresh
  only looks up leads added since, and a new registry generation (or the one in force arriving on this host) or list
  load starts the cache over;
- internal DNC, consent, state caps and daily caps are small tables or small aggregates joined in SQL each time.

Everything is read only: the funnel writes no ledger record and changes no lead.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import numpy as np
from sqlalchemy import and_, func, or_, select, union
from sqlalchemy.orm import Session

from campaigns.campaign.dial_settings import Settings
from campaigns.campaign.models import Campaign
from campaigns.dispatch.models import Call
from campaigns.leads.models import FINAL_LEAD_STATUSES, Lead, LeadPhone
from dnc.lists import ListIndex
from dnc.registry.snapshot import Snapshot
from dnc.registry.sync import Unavailable
from dnc.rules import Rules
from dnc.tables import Consent, InternalEntry

CHUNK = 50_000


@dataclass
class _Hits:
    sources: tuple
    max_id: int = 0
    leads: dict[int, str] = field(default_factory=dict)  # lead id -> the number that was hit
    index: object = None  # the list index the lookups used: held, so its id() stays unique while it is the key


_cache: dict[tuple[str, int], _Hits] = {}
_lock = threading.Lock()


def _digits_array(phones: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """(positions of valid NANP numbers, their 10 digits as int64)."""
    pos, nums = [], []
    for i, p in enumerate(phones):
        if len(p) == 12 and p[:2] == "+1" and p[2:].isdigit():
            pos.append(i)
            nums.append(int(p[2:]))
    return np.array(pos, dtype=np.int64), np.array(nums, dtype=np.int64)


def _lookup(phones: list[str], snap: Snapshot | Unavailable | None, index: ListIndex) -> list[int]:
    """Positions of numbers on the registry or on any list in force."""
    pos, nums = _digits_array(phones)
    if not len(nums):
        return []
    hit = snap.lookup_many(nums)[1] if snap is not None else np.zeros(len(nums), dtype=bool)
    for _, h in index.match_many(nums):
        hit = hit | h
    return [int(pos[i]) for i in np.flatnonzero(hit)]


def registry_and_list_hits(session: Session, campaign_id: int, snap: Snapshot | Unavailable | None,
                           index: ListIndex) -> dict[int, str]:
    """Leads of the campaign (any status) whose number is on the registry or a list: cached, incremental."""
    key = (session.get_bind().url.render_as_string(hide_password=True), campaign_id)
    sources = (snap.generation if snap is not None else None, getattr(snap, "available", True), id(index))
    with _lock:
        entry = _cache.get(key)
        if entry is None or entry.sources != sources:
            entry = _cache[key] = _Hits(sources, 0, {}, index)
        start = entry.max_id
    found: dict[int, str] = {}
    top = start
    q = (select(Lead.id, Lead.phone).where(Lead.campaign_id == campaign_id, Lead.id > start).order_by(Lead.id)
         .execution_options(yield_per=CHUNK))
    for part in session.execute(q).partitions(CHUNK):
        ids = [r[0] for r in part]
        phones = [r[1] for r in part]
        for i in _lookup(phones, snap, index):
            found[ids[i]] = phones[i]
        top = max(top, ids[-1])
    with _lock:
        if entry.max_id == start:  # nobody extended it meanwhile
            entry.leads.update(found)
            entry.max_id = top
        return dict(entry.leads)


def forget(campaign_id: int | None = None) -> None:
    """Drop cached lookups (tests, and a benchmark's cold start)."""
    with _lock:
        for k in [k for k in _cache if campaign_id is None or k[1] == campaign_id]:
            del _cache[k]


@dataclass
class Context:
    """Per-number facts of the special leads, prefetched in a few queries."""

    internal: dict[str, list[InternalEntry]] = field(default_factory=dict)
    consents: dict[str, list[Consent]] = field(default_factory=dict)
    disconnected: dict[str, date] = field(default_factory=dict)  # RND: the consented numbers' last disconnection
    recent_calls: dict[int, list[datetime]] = field(default_factory=dict)  # lead id -> its person's calls (cap period)
    daily_capped: set[int] = field(default_factory=set)  # lead ids at the lead or number daily cap
    special: set[int] = field(default_factory=set)


def _at_cap(session: Session, campaign: Campaign, waiting, recent, calls: int) -> dict[int, list[datetime]]:
    """The waiting leads whose person had at least ``calls`` recent calls, with those calls' times.

    A lead's number is its identity (never edited), so a lead without other numbers is only ever called on it: its
    person's calls are the calls to its number, counted per number in one GROUP BY. Only leads with other numbers
    (their number is one of their ``lead_phones``) need the per-person union, of their own calls and the calls to
    any of their numbers; over every recent call that union took ten times as long."""
    several = select(LeadPhone.lead_id)
    person = union(select(Call.id.label("call"), Call.lead_id.label("lead")).where(recent, Call.lead_id.in_(several)),
                   select(Call.id, LeadPhone.lead_id).join(LeadPhone, LeadPhone.phone == Call.phone).where(recent)
                   ).subquery()
    over = set(session.scalars(select(person.c.lead).group_by(person.c.lead).having(func.count() >= calls)))
    over.update(session.scalars(select(Lead.id).where(Lead.campaign_id == campaign.id, Lead.phone.in_(
        select(Call.phone).where(recent).group_by(Call.phone).having(func.count() >= calls)))))
    ids = sorted(over)
    found = sorted(lead for k in range(0, len(ids), 1000)
                   for lead in session.scalars(select(Lead.id).where(waiting, Lead.id.in_(ids[k:k + 1000]))))
    times: dict[int, dict[int, datetime]] = {}  # lead -> call -> when: each call once per lead
    for k in range(0, len(found), 1000):
        part = found[k:k + 1000]
        holders: dict[str, set[int]] = {}
        for lead, phone in session.execute(select(Lead.id, Lead.phone).where(Lead.id.in_(part)).union(
                select(LeadPhone.lead_id, LeadPhone.phone).where(LeadPhone.lead_id.in_(part)))):
            holders.setdefault(phone, set()).add(lead)
        for cid, lead, t in session.execute(select(Call.id, Call.lead_id, Call.placed_at).where(
                Call.lead_id.in_(part), recent)):
            times.setdefault(lead, {})[cid] = t
        numbers = sorted(holders)
        for j in range(0, len(numbers), 1000):
            for cid, phone, t in session.execute(select(Call.id, Call.phone, Call.placed_at).where(
                    Call.phone.in_(numbers[j:j + 1000]), recent)):
                for lead in holders[phone]:
                    times.setdefault(lead, {})[cid] = t
    return {lead: list(calls.values()) for lead, calls in times.items()}


def _in_force_internal(campaign: Campaign, at: datetime):
    return and_(InternalEntry.effective_at <= at,
                or_(InternalEntry.scope == "company", InternalEntry.campaign_id == campaign.id),
                or_(InternalEntry.removed_at.is_(None), InternalEntry.removed_at > at))


def _in_force_consent(campaign: Campaign, at: datetime):
    return and_(Consent.granted_at <= at, or_(Consent.campaign_id.is_(None), Consent.campaign_id == campaign.id),
                or_(Consent.expires_at.is_(None), Consent.expires_at > at),
                or_(Consent.revoked_at.is_(None), Consent.revoked_at > at))


def context(session: Session, campaign: Campaign, at: datetime, rules: Rules, s: Settings, day0: datetime,
            hits: dict[int, str]) -> Context:
    """The special leads (ids) and what the gate would read about their numbers. Every query starts from a small
    table (internal entries, consents, recent calls, calls of the day, alternate phones) and reaches the
    campaign's leads through the (campaign, phone) index, so none scans the campaign."""
    ctx = Context(special=set(hits))
    waiting = and_(Lead.campaign_id == campaign.id, Lead.status.not_in(FINAL_LEAD_STATUSES))

    def leads_with(numbers) -> dict[int, str]:
        return dict(session.execute(select(Lead.id, Lead.phone).where(waiting, Lead.phone.in_(numbers))).all())

    found = leads_with(select(InternalEntry.e164).where(_in_force_internal(campaign, at)))
    if found:
        ctx.special.update(found)
        for entry in session.scalars(select(InternalEntry).where(InternalEntry.e164.in_(set(found.values())),
                                                                 _in_force_internal(campaign, at))):
            ctx.internal.setdefault(entry.e164, []).append(entry)
    found = leads_with(select(Consent.e164).where(_in_force_consent(campaign, at)))
    if found:
        ctx.special.update(found)
        for c in session.scalars(select(Consent).where(Consent.e164.in_(set(found.values())),
                                                       _in_force_consent(campaign, at)).order_by(Consent.id)):
            ctx.consents.setdefault(c.e164, []).append(c)
    caps = [r.cap for r in rules.states.values() if r.cap is not None]
    if caps:  # every call to the called person counts (any campaign, source or outcome), as in the gate
        hours, calls = max(c.hours for c in caps) + 2, min(c.calls for c in caps)  # +2: a local-clock period
        ctx.recent_calls = _at_cap(session, campaign, waiting, and_(Call.placed_at > at - timedelta(hours=hours),
                                                                    Call.placed_at <= at), calls)
        ctx.special.update(ctx.recent_calls)
    if s.lead_daily_cap:
        over = (select(Call.lead_id).where(Call.campaign_id == campaign.id, Call.placed_at >= day0,
                                           Call.lead_id.is_not(None))
                .group_by(Call.lead_id).having(func.count() >= s.lead_daily_cap))
        ctx.daily_capped.update(session.scalars(select(Lead.id).where(waiting, Lead.id.in_(over))))
    if s.phone_daily_cap:
        over = (select(Call.phone).where(Call.campaign_id == campaign.id, Call.placed_at >= day0)
                .group_by(Call.phone).having(func.count() >= s.phone_daily_cap))
        ctx.daily_capped.update(leads_with(over))
    ctx.special |= ctx.daily_capped
    # a lead that moved to another of its phones was looked up under its first number: look at it on its own
    ctx.special.update(session.scalars(select(Lead.id).join(LeadPhone, LeadPhone.lead_id == Lead.id).where(
        waiting, LeadPhone.position == 1, LeadPhone.phone != Lead.phone)))
    return ctx


def without_zones(session: Session, campaign: Campaign) -> set[int]:
    """Waiting leads stored without zones: the gate works their zones out from the number itself, so the funnel
    looks at them one by one too (asked only when the group query saw some)."""
    return set(session.scalars(select(Lead.id).where(
        Lead.campaign_id == campaign.id, Lead.status.not_in(FINAL_LEAD_STATUSES),
        func.coalesce(Lead.timezones, "") == "")))
