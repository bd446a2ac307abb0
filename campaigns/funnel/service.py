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
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import Integer, case, cast, func, literal, select, text
from sqlalchemy.orm import Session

from campaigns.agents.models import Agent
from campaigns.callbacks.service import counts as callback_counts
from campaigns.callerid.service import Picker, day_start
from campaigns.campaign.dial_settings import settings_of
from campaigns.campaign.models import Campaign
from campaigns.dispatch.models import Call
from campaigns.dispatch.rules import CALLABLE_STATUSES
from campaigns.dispatch.strategy import due_at
from campaigns.funnel.sources import context, registry_and_list_hits, without_zones
from campaigns.leads.models import FINAL_LEAD_STATUSES, Lead, LeadList
from dnc import reassigned
from dnc.gate import assess_sources, cap_check, internal_reason, missing_state_lists
from dnc.lists import index_for
from dnc.numbers import invalid_reason, nanp_digits
from dnc.registry.local import hosts, in_force
from dnc.registry.snapshot import Store, default_store
from dnc.registry.sync import Unavailable, serving
from dnc.rules import current_rules
from dnc.sqltypes import UTCDateTime
from dnc.window import is_open, next_opening
from dnc.zones import area_code_states, candidate_states, candidate_zones, location_problems, zip_state

DNC_CODES = ("internal_dnc", "national_dnc", "state_dnc", "litigator", "wireless_no_consent",
             "wireless_restricted_state", "autodialer_no_consent", "prefix_block")
NUMBER_CODES = ("invalid_number", "unknown_zone", "reassigned_number", "rnd_no_data", *DNC_CODES,  # the cause first:
                "registry_stale", "registry_unavailable", "state_list_missing", "rnd_stale")  # the lifts it undoes
TIMING_CODES = ("callback_pending", "callback_reserved", "retry_not_due", "recall_gap")
WINDOW_CODES = ("outside_window", "sunday_ban", "saturday_ban", "holiday", "emergency_ban")
RULE_CODES = (*WINDOW_CODES, "state_cap")
CAMPAIGN_CODES = ("campaign_paused", "no_caller_id", "list_disabled")
BLOCKED = (*NUMBER_CODES, *TIMING_CODES, "daily_cap", *RULE_CODES, *CAMPAIGN_CODES)
LABELS = {
    "invalid_number": "invalid number", "unknown_zone": "unknown time zone",
    "internal_dnc": "internal do-not-call list", "national_dnc": "National DNC Registry",
    "state_dnc": "state DNC list", "litigator": "litigator list", "wireless_no_consent": "wireless, no consent",
    "wireless_restricted_state": "wireless in a restricted state", "autodialer_no_consent": "autodialer, no consent",
    "prefix_block": "blocked area code/prefix", "registry_stale": "national registry missing or too old",
    "registry_unavailable": "national registry not yet on this server",
    "state_list_missing": "a state's own DNC list not loaded",
    "reassigned_number": "consent given before the number was reassigned",
    "rnd_no_data": "consent older than the reassigned-numbers data",
    "rnd_stale": "reassigned-numbers data missing or old",
    "callback_pending": "callback not due yet", "callback_reserved": "callback waiting for its agent",
    "retry_not_due": "retry not due yet", "recall_gap": "minimum re-call gap", "daily_cap": "daily attempt cap",
    "outside_window": "outside the calling window", "sunday_ban": "no calls on Sundays there",
    "saturday_ban": "no calls on Saturdays there", "holiday": "holiday there", "emergency_ban": "declared emergency",
    "state_cap": "state call cap (24 h)", "campaign_paused": "campaign not running",
    "no_caller_id": "every caller ID used up or retired", "list_disabled": "list disabled",
    "closed": "closed (sale)", "done": "done", "exhausted": "max attempts", "dnc": "asked not to be called",
    "suppressed": "suppressed at import", "dialing": "on a call now", "dialable": "dialable now",
}
PACE_WINDOW = timedelta(minutes=15)
GROUP_EXCHANGE = "5550100"  # exchange and line a group's number is read with (its area code alone decides)
HORIZON_MIN = 240


@dataclass
class WindowGroup:
    zones: tuple[str, ...]
    states: tuple[str, ...]
    reason: str
    leads: int
    opens_at: datetime | None

    def as_dict(self) -> dict:
        return {"zones": list(self.zones), "states": list(self.states), "reason": self.reason, "leads": self.leads,
                "opens_at": self.opens_at.isoformat() if self.opens_at else None}


@dataclass
class Funnel:
    campaign: str
    campaign_id: int
    status: str
    at: datetime
    total: int = 0
    final: dict[str, int] = field(default_factory=dict)
    dialing: int = 0
    blocked: dict[str, int] = field(default_factory=dict)
    dialable: int = 0
    windows: list[WindowGroup] = field(default_factory=list)
    agents_ready: int = 0
    pace_per_min: float = 0.0
    runs_dry_in_min: int | None = None  # None: not dialing, or more than the horizon
    due_next_hour: int = 0
    callbacks: dict[str, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    @property
    def adds_up(self) -> bool:
        return self.total == sum(self.final.values()) + self.dialing + sum(self.blocked.values()) + self.dialable

    def as_dict(self) -> dict:
        return {"campaign": self.campaign, "campaign_id": self.campaign_id, "status": self.status,
                "at": self.at.isoformat(), "total": self.total, "final": self.final,
                "final_total": sum(self.final.values()), "dialing": self.dialing, "blocked": self.blocked,
                "blocked_total": sum(self.blocked.values()), "dialable": self.dialable,
                "windows": [w.as_dict() for w in self.windows], "agents_ready": self.agents_ready,
                "pace_per_min": self.pace_per_min, "runs_dry_in_min": self.runs_dry_in_min,
                "horizon_min": HORIZON_MIN, "due_next_hour": self.due_next_hour, "callbacks": self.callbacks,
                "notes": self.notes, "adds_up": self.adds_up, "labels": {k: LABELS[k] for k in
                                                                          (*self.final, *self.blocked)}}

    def runway_text(self) -> str:
        if self.dialable == 0 and self.pace_per_min == 0:
            return "nothing is dialable now"
        if self.pace_per_min == 0:
            return "not dialing now"
        if self.runs_dry_in_min is None:
            return f"enough leads for more than {HORIZON_MIN // 60} hours at the current pace"
        return f"the queue runs dry in about {self.runs_dry_in_min} minutes at the current pace"


def _timing(now: datetime, grace_s: int, gap_s: int, ready_agents):
    """SQL: where a callable lead stands in time (``due`` when nothing about its own timing holds it back)."""
    due = due_at()
    later = case((Lead.status == "callback", literal("callback_pending")), else_=literal("retry_not_due"))
    whens = [(due > now, later),
             ((Lead.status == "callback") & Lead.callback_agent_id.is_not(None)
              & (Lead.callback_at > now - timedelta(seconds=grace_s)) & Lead.callback_agent_id.not_in(ready_agents),
              literal("callback_reserved"))]
    if gap_s:
        whens.append(((Lead.status != "callback") & (Lead.last_called_at > now - timedelta(seconds=gap_s)),
                      literal("recall_gap")))
    return case(*whens, else_=literal("due"))


def _key_columns(now: datetime, grace_s: int, gap_s: int, ready_agents) -> list:
    """The group key of a callable lead: status, timing, zones, area code ('' for a number that is not NANP),
    state and ZIP code: its first five characters, as the gate reads it, and "+" when more than blanks follow (the
    gate reads a blank head followed by anything as a ZIP code nobody knows, not as no ZIP code)."""
    valid = (Lead.phone.like("+1__________") & func.substr(Lead.phone, 3, 1).not_in(("0", "1"))
             & func.substr(Lead.phone, 6, 1).not_in(("0", "1")))
    postal = func.coalesce(Lead.postal_code, "")
    more = case((func.trim(func.substr(postal, 6)) != "", literal("+")), else_=literal(""))
    return [Lead.status, _timing(now, grace_s, gap_s, ready_agents), Lead.timezones,
            case((valid, func.substr(Lead.phone, 3, 3)), else_=literal("")), Lead.state,
            case((func.length(postal) <= 5, postal), else_=func.substr(postal, 1, 5).concat(more))]


class _Classifier:
    def __init__(self, session: Session, campaign: Campaign, now: datetime, registry: Store | None) -> None:
        self.now = now
        self.rules = current_rules()
        self.snap = serving(session, registry or default_store(), now).current()
        self.index = index_for(session)
        self.rnd = reassigned.in_force(session)
        self.windows: dict[tuple, tuple[tuple[str, ...], datetime | None]] = {}
        self.window_groups: Counter = Counter()

    def window(self, zones: tuple[str, ...], states: frozenset[str], consent: bool = False) -> tuple[str, ...]:
        """Window reason codes for a group (cached), remembering when it opens."""
        key = (zones, states, consent)
        hit = self.windows.get(key)
        if hit is None:
            ok, reasons = is_open(zones, states, self.now, self.rules, consent)
            codes = tuple(dict.fromkeys(r.code for r in reasons))
            opens = None
            if not ok and zones and all(c in WINDOW_CODES for c in codes):  # only time stands in the way
                opens = next_opening(zones, states, self.now, self.rules, consent)
            hit = self.windows[key] = (codes, opens)
        return hit[0]

    def registry_stale(self, npa: str) -> bool:
        cov = self.snap.coverage.get(npa) if self.snap is not None else None
        return cov is None or (self.now.date() - cov.version_date).days > self.rules.registry_max_age_days

    def group_codes(self, zones: tuple[str, ...], states: frozenset[str], npa: str, zip5: str | None,
                    state: str | None) -> set[str]:
        """Every gate reason that holds for all leads of a group without a reason of their own."""
        if not npa:
            return {"invalid_number"}
        codes = set(self.window(zones, states))
        # a ZIP code or state nobody can read, a number of no place: its area code alone decides (a test holds the
        # zone data to it), so any exchange stands for the group's
        if location_problems(f"+1{npa}{GROUP_EXCHANGE}", zip5 or None, state):
            codes.add("unknown_zone")
        if self.registry_stale(npa):
            codes.add("registry_stale")
        if isinstance(self.snap, Unavailable) and npa in self.snap.coverage:
            codes.add("registry_unavailable")
        if missing_state_lists(states, self.index, self.rules):  # a lead with consent is evaluated on its own
            codes.add("state_list_missing")
        if any(s in self.rules.states and self.rules.states[s].autodialer_needs_consent for s in states):
            codes.add("autodialer_no_consent")  # a lead with consent is a special one, evaluated on its own
        return codes

    def lead_codes(self, phone: str, zones: tuple[str, ...], states: frozenset[str], ctx, postal: str | None,
                   state: str | None) -> set[str]:
        """``dnc.gate.evaluate`` for one number, from prefetched facts (no query, no ledger record)."""
        digits = nanp_digits(phone)
        if digits is None or invalid_reason(phone) is not None:
            return {"invalid_number"}
        screened = reassigned.screen(ctx.consents.get(phone, []), self.rnd, ctx.disconnected.get(phone), self.now,
                                     self.rules)
        reasons = [internal_reason(e) for e in ctx.internal.get(phone, ())]

        def codes_with(consents) -> set[str]:
            found = assess_sources(digits, sorted(states), self.now, consents, self.snap, self.index, self.rules, {})
            return {r.code for r in found} | set(self.window(zones, states, any(c.kind == "pewc" for c in consents)))

        codes = {r.code for r in reasons} | codes_with(screened.usable)
        codes |= {r.code for r in reassigned.rests_on(screened, codes_with)}
        if location_problems(phone, postal, state):  # a ZIP code or state that cannot be read, a number of no place
            codes.add("unknown_zone")
        cap, _ = cap_check(ctx.recent_calls.get(phone, ()), states, self.now, self.rules, zones)
        if cap is not None:
            codes.add("state_cap")
        return codes


def _primary(status: str, timing: str | None, codes: set[str], daily_capped: bool, campaign_blocker: str | None
             ) -> str:
    if status in FINAL_LEAD_STATUSES:
        return status
    if status == "dialing":
        return "dialing"
    for c in NUMBER_CODES:
        if c in codes:
            return c
    if timing and timing != "due":
        return timing
    if daily_capped:
        return "daily_cap"
    for c in RULE_CODES:
        if c in codes:
            return c
    return campaign_blocker or "dialable"


def funnel(session: Session, campaign: Campaign, now: datetime, *, registry: Store | None = None) -> Funnel:
    """Count every lead of ``campaign`` under what keeps it from being dialed at ``now`` (reads only)."""
    s = settings_of(session, campaign.id)
    cl = _Classifier(session, campaign, now, registry)
    ready = select(Agent.id).where(Agent.campaign_id == campaign.id, Agent.state == "ready")
    keys = _key_columns(now, s.callback_grace_s, s.min_recall_gap_s, ready)
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
            codes = cl.lead_codes(phone, zones, states, ctx, postal, state) if status in CALLABLE_STATUSES else set()
            code = _primary(status, timing, codes, lead_id in ctx.daily_capped, blocker)
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
        code = _primary(status, timing, codes, False, blocker)
        counts[code] += n
        if code in WINDOW_CODES:
            cl.window_groups[(zones, states, code)] += n
    f = Funnel(campaign.name, campaign.id, campaign.status, now)
    f.final = {st: counts.get(st, 0) for st in FINAL_LEAD_STATUSES}
    f.dialing = counts.get("dialing", 0)
    f.blocked = {c: counts[c] for c in BLOCKED if counts.get(c)}
    f.dialable = counts.get("dialable", 0)
    f.total = sum(counts.values())
    f.windows = _window_groups(cl)
    _pace_and_runway(session, campaign, now, f)
    f.agents_ready = session.scalar(select(func.count()).select_from(ready.subquery())) or 0
    f.callbacks = callback_counts(session, campaign)
    f.notes = _registry_notes(session, cl) + _notes(f, cl, blocker)
    return f


def _window_groups(cl: _Classifier) -> list[WindowGroup]:
    merged: dict[tuple, WindowGroup] = {}
    for (zones, states, code), n in cl.window_groups.items():
        opens = (cl.windows.get((zones, states, False)) or cl.windows[(zones, states, True)])[1]
        g = merged.get((zones, code, opens))
        if g is None:
            merged[(zones, code, opens)] = WindowGroup(zones, tuple(sorted(states)), code, n, opens)
        else:
            g.leads += n
            g.states = tuple(sorted(set(g.states) | states))
    far = datetime.max.replace(tzinfo=cl.now.tzinfo)
    return sorted(merged.values(), key=lambda g: (g.opens_at or far, -g.leads))


def _minutes_from(now: datetime, session: Session):
    """SQL: whole minutes from ``now`` to a callable lead's due time (dialect-specific date arithmetic)."""
    t = literal(now, type_=UTCDateTime())
    if session.get_bind().dialect.name == "postgresql":
        return func.floor(func.extract("epoch", due_at() - t) / 60)
    return cast(func.round((func.julianday(due_at()) - func.julianday(t)) * 86400), Integer) // 60


def _pace_and_runway(session: Session, campaign: Campaign, now: datetime, f: Funnel) -> None:
    placed = session.scalar(select(func.count()).select_from(Call).where(
        Call.campaign_id == campaign.id, Call.placed_at > now - PACE_WINDOW, Call.placed_at <= now)) or 0
    f.pace_per_min = round(placed / (PACE_WINDOW.total_seconds() / 60), 2)
    minute = _minutes_from(now, session)
    arrivals: Counter = Counter()
    for m, n, within_hour in session.execute(
            select(minute, func.count(), func.count().filter(due_at() <= now + timedelta(hours=1)))
            .where(Lead.campaign_id == campaign.id, Lead.status.in_(CALLABLE_STATUSES), due_at() > now,
                   due_at() <= now + timedelta(minutes=HORIZON_MIN)).group_by(minute)):
        arrivals[int(m)] += n
        f.due_next_hour += within_hour
    for g in f.windows:
        if g.opens_at is not None and g.opens_at <= now + timedelta(minutes=HORIZON_MIN):
            arrivals[int((g.opens_at - now).total_seconds() // 60)] += g.leads
    if f.pace_per_min <= 0:
        return
    stock = float(f.dialable)
    for m in range(HORIZON_MIN):
        stock += arrivals.get(m, 0) - f.pace_per_min
        if stock < 0:
            f.runs_dry_in_min = m + 1
            return


HOST_FRESH = timedelta(hours=1)  # a host row older than this is a host that stopped syncing: not reported


def _registry_notes(session: Session, cl: _Classifier) -> list[str]:
    """This server or a dialing host without the registry snapshot in force: its gate refuses what it covers."""
    out = []
    if isinstance(cl.snap, Unavailable):
        out.append(f"this server does not have the national registry snapshot in force ({cl.snap.generation}): "
                   f"{cl.snap.why}; the leads it covers wait until it has it")
    force = in_force(session)
    for h in hosts(session):
        if force is None or h.checked_at < cl.now - HOST_FRESH or h.generation == force.generation:
            continue
        why = f"its last fetch failed ({h.detail})" if h.state == "failed" else (
            "it is fetching it" if h.state == "fetching" else "it has not fetched it yet")
        out.append(f"host {h.host} ({h.dnc_dir}) does not have the national registry snapshot in force "
                   f"({force.generation}): {why}; its gate refuses the numbers that snapshot covers until it has it")
    return out


def _notes(f: Funnel, cl: _Classifier, blocker: str | None) -> list[str]:
    out = []
    if cl.snap is None:
        out.append("no national DNC registry is loaded: nothing can be dialed until one is (dialer dnc load-national)")
    if blocker == "campaign_paused":
        out.append(f"the campaign is {f.status}: start it to dial the {f.blocked.get(blocker, 0):,} leads that "
                   "would be dialable now")
    if blocker == "no_caller_id":
        out.append("every number of the caller-ID pool is retired or at its daily cap: add numbers or raise the cap")
    if f.dialable and not f.agents_ready and f.status == "active":
        out.append(f"{f.dialable:,} leads are dialable but no agent is ready")
    if f.callbacks.get("missed"):
        out.append(f"{f.callbacks['missed']} missed callback(s) wait in the callback queue")
    out.append(f.runway_text())
    return out
