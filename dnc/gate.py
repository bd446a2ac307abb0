"""The pre-dial gate: every reason a number may not be called by a campaign at an instant, and its audit record.

``evaluate`` is a pure read (the live "dialable funnel" runs it over many leads); ``gate`` is evaluate plus one
ledger record and is called right before every dial. Both return ALL reasons that apply, not the first, so a
compliance officer sees the whole picture and the dial loop can tell a temporary refusal (window, cap, stale
registry: reschedule at ``opens_at``) from a permanent one (DNC, litigator, no consent: close the lead).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session

from dnc import consent as consent_mod
from dnc import internal, ledger, reassigned
from dnc.caps import CallTimes, cap_check, ledger_call_times, lock_number, recent_calls
from dnc.lists import ListIndex, index_for
from dnc.numbers import invalid_reason, nanp_digits
from dnc.reasons import WINDOW_CODES, Reason
from dnc.registry.snapshot import Snapshot, Store, default_store
from dnc.registry.sync import Unavailable, serving
from dnc.rules import Rules, current_rules
from dnc.tables import Consent
from dnc.window import all_zones, is_open, next_opening, window_applied
from dnc.zones import candidate_states, candidate_zones, location_problems

__all__ = ["CallTimes", "Decision", "assess_sources", "cap_check", "evaluate", "gate", "internal_reason"]
CLICK_TO_DIAL = "click_to_dial_is_automated"  # the named reading of rules.toml


@dataclass(frozen=True)
class Decision:
    """The verdict on one number for one campaign at one instant, with everything that was used to reach it."""

    e164: str
    allowed: bool
    reasons: tuple[Reason, ...]
    zones: tuple[str, ...]
    states: tuple[str, ...]
    window: dict[str, str]
    opens_at: datetime | None
    at: datetime
    campaign: int | None = None
    sources: dict = field(default_factory=dict)

    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(r.code for r in self.reasons))

    @property
    def temporary(self) -> bool:
        """Refused only for reasons that time can clear: reschedule (at ``opens_at`` when known), don't close."""
        return bool(self.reasons) and all(r.temporary for r in self.reasons)

    def as_dict(self) -> dict:
        return {"e164": self.e164, "allowed": self.allowed, "reasons": [r.as_dict() for r in self.reasons],
                "codes": list(self.codes), "temporary": self.temporary,
                "opens_at": self.opens_at.isoformat() if self.opens_at else None, "at": self.at.isoformat(),
                "campaign": self.campaign, "zones": list(self.zones), "states": list(self.states),
                "window": self.window, "sources": self.sources}


def _zones(e164: str, postal_code: str | None, zones) -> tuple[str, ...]:
    if zones is None:
        return candidate_zones(e164, postal_code)
    if isinstance(zones, str):
        zones = zones.split(",")
    return tuple(sorted({z.strip() for z in zones if z and z.strip()}))


def internal_reason(entry) -> Reason:
    where = "company" if entry.scope == "company" else f"campaign {entry.campaign_id}"
    return Reason("internal_dnc", f"on the {where} internal DNC list ({entry.channel} request; the entry says "
                                  "since when)", f"internal entry #{entry.id}")


def evaluate(session: Session, e164: str, *, campaign: int | None, at: datetime, state: str | None = None,
             postal_code: str | None = None, zones: Sequence[str] | str | None = None,
             consent_context: Sequence[Consent] | None = None, registry: Store | None = None,
             call_times: CallTimes | None = None, dialing: str = "predictive",
             rnd: reassigned.RndData | None = None) -> Decision:
    """Every reason the call may not be placed now (pure read; no ledger record).

    ``zones`` defaults to the number's and ZIP's candidate zones (every zone of every candidate state is added);
    ``consent_context`` may carry the consent/EBR records in force (prefetched by a bulk caller) instead of a query
    per number. ``call_times`` reads every call placed to the number (the state caps count them); without it the
    gate's own earlier approvals stand in. ``dialing`` is "predictive" (the dial loop) or "click_to_dial" (an
    agent's preview dial), which the unsettled ``click_to_dial_is_automated`` reading decides about. ``rnd`` is the
    Reassigned Numbers Database data to judge consent by (default: those in force).
    """
    if at.tzinfo is None:
        raise ValueError("pass an aware datetime")
    at = at.astimezone(UTC)  # elapsed hours and UTC dates below must not depend on the zone the instant came in
    rules = current_rules()
    invalid = invalid_reason(e164)
    if invalid is not None:
        r = Reason("invalid_number", invalid)
        return Decision(e164, False, (r,), (), (), {}, None, at, campaign, {"rules": rules.version})
    digits = nanp_digits(e164) or ""
    states = tuple(sorted(candidate_states(e164, postal_code, state)))
    zs, _ = all_zones(_zones(e164, postal_code, zones), states)
    reasons = [Reason("unknown_zone", text) for text in location_problems(e164, postal_code, state)]
    sources: dict = {"rules": rules.version}
    registry = serving(session, registry or default_store(), at)  # the snapshot in force, or why this host lacks it

    reasons.extend(internal_reason(e) for e in internal.active(session, e164, campaign, at))
    # the decision covers the call until send_by: what lets it go must hold until then (docs/compliance.md §2.1)
    send_by = at + timedelta(seconds=rules.send_margin_seconds)
    found = consent_context if consent_context is not None else consent_mod.active(session, e164, campaign, at)
    in_force = [c for c in found if holds_until(c, send_by)]
    if in_force:
        sources["consent"] = [f"{c.kind} #{c.id}: {c.evidence_ref}" for c in in_force]
    if len(in_force) < len(found):
        sources["consent_ending"] = [f"{c.kind} #{c.id} ends at {_end(c):%Y-%m-%d %H:%M:%S} UTC, before a call "
                                     f"allowed now is surely sent: not relied on" for c in found if c not in in_force]
    rnd = (rnd or reassigned.in_force(session)) if in_force else None
    screened = reassigned.screen(in_force, rnd, reassigned.disconnections(session, rnd, [e164]).get(e164), send_by,
                                 rules, sources)
    consents = screened.usable  # without the records the RND voids
    pewc = any(c.kind == "pewc" for c in consents)

    snap = (registry or default_store()).current()
    index = index_for(session)
    reasons += assess_sources(digits, states, send_by, consents, snap, index, rules, sources, dialing)
    _, window_reasons = is_open(zs, states, at, rules, pewc)
    closing = () if window_reasons else _closing(zs, states, at, rules, pewc)
    reasons += [*window_reasons, *closing]
    reasons += reassigned.rests_on(screened, lambda cs: {
        r.code for r in (*assess_sources(digits, states, send_by, cs, snap, index, rules, {}, dialing),
                         *is_open(zs, states, at, rules, any(c.kind == "pewc" for c in cs))[1])})
    recent = recent_calls(call_times or ledger_call_times(session), e164, states, zs, at, rules)
    cap_reason, cap_clears = cap_check(recent, states, at, rules, zs)
    if cap_reason is not None:
        reasons.append(cap_reason)

    opens_at = None
    if reasons and all(r.code in WINDOW_CODES for r in reasons):
        start = at + timedelta(seconds=rules.send_margin_seconds) if closing else at
        opens_at = next_opening(zs, states, max(start, cap_clears) if cap_clears else start, rules, pewc)
    return Decision(e164, not reasons, tuple(reasons), zs, states,
                    window_applied(zs, states, at, rules, pewc) if zs else {}, opens_at, at, campaign, sources)


def _end(c: Consent) -> datetime:
    return min(t for t in (c.expires_at, c.revoked_at) if t is not None)


def holds_until(c: Consent, send_by: datetime) -> bool:
    """Whether a consent record in force now is still in force at ``send_by`` (neither expired nor revoked by
    then): one that ends within the send margin cannot lift a call that may leave after it ended. The funnel
    (``campaigns.funnel.classify``) judges by it too, so it never counts dialable a lead this gate refuses."""
    return (c.expires_at is None or c.expires_at > send_by) and (c.revoked_at is None or c.revoked_at > send_by)


def _closing(zones: Sequence[str], states: Sequence[str], at: datetime, rules: Rules, pewc: bool) -> list[Reason]:
    """Why a window open at ``at`` is still no reason to call: it closes before ``send_margin_seconds`` pass.

    The gate decides when a lead is claimed and the call is sent after it (a send slot, the carrier's request), so a
    call allowed at 20:59:59 would be made after 21:00; the law reads the hour the call is made.
    """
    if not rules.send_margin_seconds:
        return []
    later = at + timedelta(seconds=rules.send_margin_seconds)
    return [Reason(r.code, f"the calling window closes within {rules.send_margin_seconds} s, before a call allowed "
                           f"now is surely sent ({r.text})") for r in is_open(zones, states, later, rules, pewc)[1]]


def lifts_state_list(state: str, consents: Sequence[Consent], rules: Rules) -> bool:
    """Whether the consent records in force lift ``state``'s own DNC list: written consent always; an EBR only where
    the rules file says that state's list yields to one (``ebr_lifts_list``), since an EBR exempts a call from the
    *National* registry only (F10)."""
    rule = rules.states.get(state)
    return any(c.kind == "pewc" or (rule is not None and rule.ebr_lifts_list) for c in consents)


def missing_state_lists(states: Sequence[str], index: ListIndex, rules: Rules,
                        consents: Sequence[Consent] = ()) -> list[Reason]:
    """A candidate state keeps a do-not-call list of its own (``own_list``) and no version of it is loaded: the
    number may be on it, so it is not called (unless ``consents`` lift that state's list: ``lifts_state_list``)
    until the list is loaded, as a missing national snapshot stops calls to its area codes."""
    missing = [s for s in sorted(states) if s in rules.states and rules.states[s].own_list
               and s not in index.state_lists and not lifts_state_list(s, consents, rules)]
    if not missing:
        return []
    return [Reason("state_list_missing", f"{', '.join(missing)} keep(s) a do-not-call list of their own and none is "
                                         "loaded: a number there may be on it, so it is not called until it is")]


def assess_sources(digits: str, states: Sequence[str], at: datetime, consents: Sequence[Consent],
                   snap: Snapshot | None, index: ListIndex, rules: Rules, sources: dict,
                   dialing: str = "predictive") -> list[Reason]:
    """The list-based reasons (registry, state, litigator, wireless, prefix, consent rules) for one number.

    Shared by the gate (snapshot and lists in force now) and the reconciliation (those in force at a past call).
    ``at`` is when the call is made (its age decides whether the registry snapshot is fresh enough): the gate
    passes its decision's ``send_by``, the latest moment the call it allows may leave.
    """
    reasons: list[Reason] = []
    pewc = [c for c in consents if c.kind == "pewc"]
    npa = digits[:3]
    listed, version = snap.lookup(int(digits)) if snap is not None else (False, None)
    if version is None:
        reasons.append(Reason("registry_stale", f"no national DNC registry snapshot covers area code {npa}: "
                                                "nothing there may be called until one is loaded"))
    else:
        sources["registry"] = {"area_code": npa, "version_date": str(version), "generation": snap.generation}
        age = (at.date() - version).days
        if age > rules.registry_max_age_days:
            reasons.append(Reason("registry_stale", f"the national registry snapshot for area code {npa} is {age} "
                                                    f"days old (version {version}; at most "
                                                    f"{rules.registry_max_age_days} allowed)"))
    if version is not None and isinstance(snap, Unavailable):
        reasons.append(snap.reason(npa))  # this host lacks the snapshot in force: never judged without it
    if listed:
        if consents:
            sources["lifted"] = ["national_dnc"]
        else:
            reasons.append(Reason("national_dnc", f"on the National DNC Registry (area code {npa} version {version})",
                                  f"national {snap.generation}"))

    reasons += missing_state_lists(states, index, rules, consents)
    wireless = False
    for info in index.match(digits):
        if info.source == "state":
            if lifts_state_list(info.key, consents, rules):
                sources.setdefault("lifted", []).append(f"state_dnc:{info.key}")
            else:
                reasons.append(Reason("state_dnc", f"on the {info.label}", info.label))
        elif info.source == "litigator":
            reasons.append(Reason("litigator", f"on the {info.label}", info.label))
        elif info.source == "prefix":
            reasons.append(Reason("prefix_block", f"its area code/prefix is blocked by the {info.label}", info.label))
        else:
            wireless = True
            sources["wireless"] = info.label
    if wireless:
        if not pewc:
            reasons.append(Reason("wireless_no_consent", "a wireless number without prior express written consent "
                                                         "may not be called by the predictive dialer"))
        for s in states:
            rule = rules.states.get(s)
            if rule is not None and rule.wireless_restricted:
                reasons.append(Reason("wireless_restricted_state", f"no telemarketing to wireless numbers in {s}"))
    if not pewc:
        need = [s for s in states if s in rules.states and rules.states[s].autodialer_needs_consent]
        if need and dialing == "click_to_dial":
            reading = rules.reading(CLICK_TO_DIAL)
            if reading.holds:
                reasons.append(Reason("autodialer_no_consent", f"{', '.join(need)}: an agent's click-to-dial is "
                                      f"treated as an automated system (rule {CLICK_TO_DIAL}: unsettled law, the "
                                      "safe reading is kept): prior express written consent needed",
                                      f"rule {CLICK_TO_DIAL}"))
            else:
                sources["readings"] = {CLICK_TO_DIAL: False}
        elif need:
            reasons.append(Reason("autodialer_no_consent", f"{', '.join(need)} treat(s) predictive dialing as an "
                                                           "automated system: prior express written consent needed"))

    return reasons


def gate(session: Session, e164: str, *, campaign: int | None, at: datetime, state: str | None = None,
         postal_code: str | None = None, zones: Sequence[str] | str | None = None, lead_ref: str | None = None,
         actor: str = "dialer", registry: Store | None = None, call_times: CallTimes | None = None,
         dialing: str = "predictive") -> Decision:
    """``evaluate`` plus one ledger record, in the caller's transaction; call it right before every dial, and write
    the call in the same transaction.

    When a state call cap may apply, the number is locked first (``dnc.caps.lock_number``) until that transaction
    ends: a second worker's gate for the same number waits, then counts this call.
    """
    if current_rules().cap_for(candidate_states(e164, postal_code, state)) is not None:
        lock_number(session, e164)
    d = evaluate(session, e164, campaign=campaign, at=at, state=state, postal_code=postal_code, zones=zones,
                 registry=registry, call_times=call_times, dialing=dialing)
    ledger.append(session, "gate", at=at, actor=actor, e164=e164, campaign=campaign, allowed=d.allowed,
                  reasons=d.codes, payload={"lead_ref": lead_ref, "details": [r.as_dict() for r in d.reasons],
                                            "zones": list(d.zones), "states": list(d.states), "window": d.window,
                                            "opens_at": d.opens_at.isoformat() if d.opens_at else None,
                                            "sources": d.sources})
    return d
