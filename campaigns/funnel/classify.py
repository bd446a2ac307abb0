"""How the funnel judges a lead or a group of leads: the pre-dial gate's rules, without a ledger record.

Most callable leads share every fact the gate reads (zones, states, area code, ZIP code, status, timing), so they
are grouped in SQL by ``key_columns`` and judged once per group (``Classifier.group_codes``); a lead with a reason of
its own (``campaigns.funnel.sources``) is judged alone with the gate's own functions (``Classifier.lead_codes``).
``primary`` then picks the one code a lead is counted under, in the order ``campaigns.funnel.result`` sets.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta

from sqlalchemy import case, func, literal
from sqlalchemy.orm import Session

from campaigns.campaign.models import Campaign
from campaigns.dispatch.strategy import due_at
from campaigns.funnel.result import NUMBER_CODES, RULE_CODES, WINDOW_CODES
from campaigns.leads.models import FINAL_LEAD_STATUSES, Lead
from dnc import reassigned
from dnc.gate import assess_sources, cap_check, holds_until, internal_reason, missing_state_lists
from dnc.lists import index_for
from dnc.numbers import invalid_reason, nanp_digits
from dnc.registry.snapshot import Store, default_store
from dnc.registry.sync import Unavailable, serving
from dnc.rules import current_rules
from dnc.window import is_open, next_opening
from dnc.zones import location_problems

GROUP_EXCHANGE = "5550100"  # exchange and line a group's number is read with (its area code alone decides)


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


def key_columns(now: datetime, grace_s: int, gap_s: int, ready_agents) -> list:
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


class Classifier:
    """The gate's facts for one refresh (rules, registry snapshot in force, lists, RND data), read once, and the
    calling windows met so far (cached per zones and states, with when each opens, for ``runway``)."""

    def __init__(self, session: Session, campaign: Campaign, now: datetime, registry: Store | None) -> None:
        self.now = now
        self.rules = current_rules()
        # what lets a call go must hold until the call is surely sent, as the gate judges (docs/compliance.md §2.1):
        # consent and EBRs, the RND's answer and the registry's age are read at this deadline, and the window must be
        # open now and still then
        self.send_by = now + timedelta(seconds=self.rules.send_margin_seconds)
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
            start = self.now
            if ok and self.send_by > self.now:  # open now but closing before a call allowed now is surely sent
                ok, reasons = is_open(zones, states, self.send_by, self.rules, consent)
                start = self.send_by
            codes = tuple(dict.fromkeys(r.code for r in reasons))
            opens = None
            if not ok and zones and all(c in WINDOW_CODES for c in codes):  # only time stands in the way
                opens = next_opening(zones, states, start, self.rules, consent)
            hit = self.windows[key] = (codes, opens)
        return hit[0]

    def registry_stale(self, npa: str) -> bool:
        cov = self.snap.coverage.get(npa) if self.snap is not None else None
        return cov is None or (self.send_by.date() - cov.version_date).days > self.rules.registry_max_age_days

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
                   state: str | None, lead_id: int | None = None) -> set[str]:
        """``dnc.gate.evaluate`` for one number, from prefetched facts (no query, no ledger record)."""
        digits = nanp_digits(phone)
        if digits is None or invalid_reason(phone) is not None:
            return {"invalid_number"}
        in_force = [c for c in ctx.consents.get(phone, []) if holds_until(c, self.send_by)]
        screened = reassigned.screen(in_force, self.rnd, ctx.disconnected.get(phone), self.send_by, self.rules)
        reasons = [internal_reason(e) for e in ctx.internal.get(phone, ())]

        def codes_with(consents) -> set[str]:
            found = assess_sources(digits, sorted(states), self.send_by, consents, self.snap, self.index, self.rules,
                                   {})
            return {r.code for r in found} | set(self.window(zones, states, any(c.kind == "pewc" for c in consents)))

        codes = {r.code for r in reasons} | codes_with(screened.usable)
        codes |= {r.code for r in reassigned.rests_on(screened, codes_with)}
        if location_problems(phone, postal, state):  # a ZIP code or state that cannot be read, a number of no place
            codes.add("unknown_zone")
        cap, _ = cap_check(ctx.recent_calls.get(lead_id, ()), states, self.now, self.rules, zones)  # per person
        if cap is not None:
            codes.add("state_cap")
        return codes


def primary(status: str, timing: str | None, codes: set[str], daily_capped: bool, campaign_blocker: str | None
            ) -> str:
    """The one code a lead is counted under: final or on a call, then the number, its own timing, the daily cap,
    the rules of the moment, the campaign; ``dialable`` when nothing holds it."""
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
