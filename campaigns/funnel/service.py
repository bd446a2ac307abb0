"""The dialable funnel: "why isn't it dialing?" answered per campaign, live, with counts that add up.

Every lead of the campaign is counted exactly once, under the first thing that keeps it from being dialed now:

    total = final (closed, done, exhausted, dnc, suppressed) + on a call now + blocked (by reason) + dialable now

Blocked reasons come in this order (a lead blocked for several reasons is counted under the first):

1. the number itself: invalid number, unknown time zone, each DNC source (internal, national, state, litigator,
   wireless without consent, wireless in a restricted state, autodialer without consent, prefix block), consent
   the Reassigned Numbers Database voids, the national registry missing or too old for its area code, the registry
   in force not yet on this host, a state's own list or recent RND data not loaded;
2. the lead's own timing: a callback not due yet, a personal callback waiting for its agent, a retry not due yet,
   the minimum re-call gap, a daily attempt cap;
3. the rules of the moment: outside the calling window (Sunday/Saturday bans, holidays, declared emergencies
   included; each group of zones and states says when it opens) and the state call caps (FL, OK, MD);
4. the campaign: paused (or not started, or finished), or every caller ID of its pool used up for the day;
   a waiting lead of a disabled list is counted under "list disabled" whatever else holds it (switched off first).

The rule-based part is what ``dnc.gate.evaluate`` says, without a ledger record: leads with a reason of their own
(a list hit, internal DNC, consent, a cap) are evaluated one by one with the gate's own functions
(``dnc.gate.assess_sources``, ``cap_check``, ``dnc.window``), the rest once per group of equal zones, states, area
code, status and timing (``campaigns.funnel.sources`` finds which is which). A test checks every lead of a floor
against ``evaluate`` itself. "Runs dry" plays the next four hours minute by minute at the current pace (dials in
the last 15 minutes): the leads dialable now, plus retries and callbacks as they come due, plus window groups as
they open.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from campaigns.agents.models import Agent
from campaigns.callbacks.service import counts as callback_counts
from campaigns.callerid.service import Picker, day_start
from campaigns.campaign.dial_settings import settings_of
from campaigns.campaign.models import Campaign
from campaigns.dispatch.rules import CALLABLE_STATUSES
from campaigns.funnel.classify import Classifier, key_columns, primary
from campaigns.funnel.notes import notes, registry_notes
from campaigns.funnel.result import BLOCKED, WINDOW_CODES, Funnel
from campaigns.funnel.runway import pace_and_runway, window_groups
from campaigns.funnel.sources import context, registry_and_list_hits, without_zones
from campaigns.leads.models import FINAL_LEAD_STATUSES, Lead, LeadList
from dnc import reassigned
from dnc.registry.snapshot import Store
from dnc.zones import area_code_states, candidate_states, candidate_zones, zip_state


def funnel(session: Session, campaign: Campaign, now: datetime, *, registry: Store | None = None) -> Funnel:
    """Count every lead of ``campaign`` under what keeps it from being dialed at ``now`` (reads only)."""
    s = settings_of(session, campaign.id)
    cl = Classifier(session, campaign, now, registry)
    ready = select(Agent.id).where(Agent.campaign_id == campaign.id, Agent.state == "ready")
    keys = key_columns(now, s.callback_grace_s, s.min_recall_gap_s, ready)
    hits = registry_and_list_hits(session, campaign.id, cl.snap, cl.index)
    ctx = context(session, campaign, now, cl.rules, s, day_start(campaign, now), hits)
    ctx.disconnected = reassigned.disconnections(session, cl.rnd, ctx.consents)
    blocker = None
    if campaign.status != "active":
        blocker = "campaign_paused"
    elif Picker(session, campaign, now).exhausted:
        blocker = "no_caller_id"
    groups: Counter = Counter()
    pg = session.get_bind().dialect.name == "postgresql"
    if pg:  # enough memory to hash the groups: the default 4 MB makes PostgreSQL sort a million rows on disk
        session.execute(text("SET LOCAL work_mem = '128MB'"))
    for status, n in session.execute(select(Lead.status, func.count()).where(
            Lead.campaign_id == campaign.id, Lead.status.not_in(CALLABLE_STATUSES)).group_by(Lead.status)):
        groups[(status, None, None, None, None, None)] += n  # final, or on a call: nothing more to know
    off = list(session.scalars(select(LeadList.id).where(LeadList.campaign_id == campaign.id,
                                                         LeadList.active.is_(False))))
    on_lists = [Lead.list_id.not_in(off)] if off else []
    counts: Counter = Counter(list_disabled=session.scalar(select(func.count()).select_from(Lead).where(
        Lead.campaign_id == campaign.id, Lead.status.in_(CALLABLE_STATUSES), Lead.list_id.in_(off))) if off else 0)
    for *key, n in session.execute(select(*keys, func.count()).where(
            Lead.campaign_id == campaign.id, Lead.status.in_(CALLABLE_STATUSES), *on_lists).group_by(*keys)):
        groups[tuple(key)] += n
    if pg:
        session.execute(text("SET LOCAL work_mem TO DEFAULT"))
    if any(k[0] in CALLABLE_STATUSES and not k[2] and n for k, n in groups.items()):
        ctx.special |= without_zones(session, campaign)
    specials = sorted(ctx.special)
    for i in range(0, len(specials), 5000):
        q = select(*keys, Lead.id, Lead.phone, Lead.postal_code).where(
            Lead.id.in_(specials[i:i + 5000]), Lead.campaign_id == campaign.id,
            Lead.status.not_in(FINAL_LEAD_STATUSES), *on_lists)
        for row in session.execute(q):
            key, (lead_id, phone, postal) = tuple(row[:6]), row[6:]
            if key[0] not in CALLABLE_STATUSES:
                key = (key[0], None, None, None, None, None)
            groups[key] -= 1
            status, timing, tz, _, state, _ = key
            zones = tuple(z for z in (tz or "").split(",") if z) or candidate_zones(phone, postal)
            states = candidate_states(phone, postal, state)
            codes = (cl.lead_codes(phone, zones, states, ctx, postal, state, lead_id)
                     if status in CALLABLE_STATUSES else set())
            code = primary(status, timing, codes, lead_id in ctx.daily_capped, blocker)
            counts[code] += 1
            if code in WINDOW_CODES:
                cl.window_groups[(zones, states, code)] += 1
    for key, n in groups.items():
        if n <= 0:
            continue
        status, timing, tz, npa, state, zip5 = key
        codes: set[str] = set()
        zones: tuple[str, ...] = ()
        states: frozenset[str] = frozenset()
        if status in CALLABLE_STATUSES:
            zones = tuple(z for z in (tz or "").split(",") if z)
            states = frozenset(area_code_states(npa)) | {x for x in (zip_state(zip5 or None),
                                                                      state.upper() if state else None) if x}
            codes = cl.group_codes(zones, states, npa, zip5, state)
        code = primary(status, timing, codes, False, blocker)
        counts[code] += n
        if code in WINDOW_CODES:
            cl.window_groups[(zones, states, code)] += n
    f = Funnel(campaign.name, campaign.id, campaign.status, now)
    f.final = {st: counts.get(st, 0) for st in FINAL_LEAD_STATUSES}
    f.dialing = counts.get("dialing", 0)
    f.blocked = {c: counts[c] for c in BLOCKED if counts.get(c)}
    f.dialable = counts.get("dialable", 0)
    f.total = sum(counts.values())
    f.windows = window_groups(cl)
    pace_and_runway(session, campaign, now, f)
    f.agents_ready = session.scalar(select(func.count()).select_from(ready.subquery())) or 0
    f.callbacks = callback_counts(session, campaign)
    f.notes = registry_notes(session, cl) + notes(f, cl, blocker)
    return f
