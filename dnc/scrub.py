"""The bulk scrub a lead import calls per batch, and the scrub-ledger record of that list load.

It checks every suppression source that does not change with time (internal DNC, national registry, state,
litigator, wireless and prefix lists, consent and what the Reassigned Numbers Database says of it, unknown zone) in
a few queries and vectorized lookups per batch. Calling windows and the age of the registry and RND data are left
to the gate at dial time: they change with the clock, so a lead outside its window today is still a good lead
tomorrow.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Callable, Sequence
from datetime import datetime
from functools import partial

import numpy as np
from sqlalchemy import String, any_, bindparam, func, or_, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session, sessionmaker

from dnc import ledger, reassigned
from dnc.gate import lifts_state_list
from dnc.lists import current_loads, index_for
from dnc.numbers import invalid_reason, nanp_digits
from dnc.reasons import CODES
from dnc.reassigned import Screen
from dnc.registry.snapshot import Store, default_store
from dnc.registry.sync import Unavailable, resolve
from dnc.rules import Rules, current_rules
from dnc.tables import Consent, InternalEntry
from dnc.zones import candidate_states, location_problems, with_state_zones

_ORDER = {c: i for i, c in enumerate(CODES)}


def _among(session: Session, column, values: list[str]):
    """``column IN values`` for a batch of thousands: one array parameter on PostgreSQL, whose planner spends
    ~40 ms on an IN list of 5,000 parameters (more than the lookup itself); an expanding IN elsewhere."""
    if session.get_bind().dialect.name == "postgresql":
        return column == any_(bindparam("batch", values, type_=ARRAY(String)))
    return column.in_(values)


def _unless_consent(hits: dict[str, np.ndarray], k: int, needs_consent: bool, rules: Rules,
                    records: Sequence[Consent]) -> set[str]:
    """The reasons of the ``k``-th number that hold unless consent lifts them, with these consent records (an EBR
    lifts the national registry, a state's list only where the rules say it yields to one: ``lifts_state_list``)."""
    out, pewc = set(), any(r.kind == "pewc" for r in records)
    if hits["national"][k] and not records:
        out.add("national_dnc")
    if any(hit[k] and not lifts_state_list(key[6:], records, rules) for key, hit in hits.items()
           if key.startswith("state:")):
        out.add("state_dnc")
    if "wireless" in hits and hits["wireless"][k] and not pewc:
        out.add("wireless_no_consent")
    if not pewc and needs_consent:
        out.add("autodialer_no_consent")
    return out


class DncScrubber:
    """Duck-types ``campaigns.leadimport.scrub.Scrubber``: one tuple of reason codes per candidate."""

    def __init__(self, sessions: sessionmaker[Session], *, campaign: int | None | Callable[[Session], int | None],
                 at: datetime, operator: str, store: Store | None = None) -> None:
        """``campaign`` is the campaign id, or a function resolving it on first use (the demo creates it late)."""
        self.sessions, self.at, self.operator = sessions, at, operator
        self._campaign = campaign
        self.store = store or default_store()
        self.counts: Counter[str] = Counter()
        self.rows = self.suppressed = 0
        self._hash = hashlib.sha256()
        self._npas: set[str] = set()

    @property
    def campaign(self) -> int | None:
        if callable(self._campaign):
            with self.sessions() as s:
                self._campaign = self._campaign(s)
        return self._campaign

    def __call__(self, candidates: Sequence) -> list[tuple[str, ...]]:
        with self.sessions() as s:
            out = self.scrub(s, candidates)
        return out

    def _resolve(self, session: Session) -> None:
        """Resolve a late campaign through the caller's session, never a second one: the caller may hold SQLite's
        only write lock (an import's transaction), which a second connection would wait 30 s for."""
        if callable(self._campaign):
            self._campaign = self._campaign(session)

    def scrub(self, session: Session, candidates: Sequence) -> list[tuple[str, ...]]:
        self._resolve(session)
        rules = current_rules()
        found: list[set[str]] = [set() for _ in candidates]
        digits = [(nanp_digits(c.e164) or "") if invalid_reason(c.e164) is None else "" for c in candidates]
        for i, c in enumerate(candidates):
            self._hash.update(c.e164.encode() + b"\n")
            if not digits[i]:
                found[i].add("invalid_number")
            elif not c.zones:
                found[i].add("unknown_zone")
        e164s = sorted({c.e164 for c, d in zip(candidates, digits, strict=True) if d})
        blocked = self._internal(session, e164s)
        consents = self._consents(session, e164s)
        valid = np.array([i for i, d in enumerate(digits) if d], dtype=np.int64)
        numbers = np.array([int(digits[i]) for i in valid], dtype=np.int64)
        snap = resolve(session, self.store, self.at)  # the generation in force (none listed while this host lacks it)
        listed = snap.lookup_many(numbers)[1] if snap is not None and len(numbers) else np.zeros(len(numbers), bool)
        self._npas.update(d[:3] for d in digits if d)
        hits: dict[str, np.ndarray] = {"national": listed}
        for info, hit in index_for(session).match_many(numbers) if len(numbers) else ():
            key = f"state:{info.key}" if info.source == "state" else info.source  # whose list: what lifts it
            hits[key] = hits[key] | hit if key in hits else hit
        state_flags: dict[tuple, tuple[bool, bool]] = {}
        rnd = reassigned.in_force(session) if consents else None
        disconnected = reassigned.disconnections(session, rnd, consents)
        for k, i in enumerate(valid):
            c, f = candidates[i], found[i]
            if c.e164 in blocked:
                f.add("internal_dnc")
            if "litigator" in hits and hits["litigator"][k]:
                f.add("litigator")
            if "prefix" in hits and hits["prefix"][k]:
                f.add("prefix_block")
            key = (digits[i][:3], c.postal_code[:5] if c.postal_code else None, c.state)
            flags = state_flags.get(key)
            if flags is None:  # the states' rules per area code, ZIP and state: shared by thousands of rows
                states = candidate_states(c.e164, c.postal_code, c.state)
                flags = state_flags[key] = (
                    any(s in rules.states and rules.states[s].wireless_restricted for s in states),
                    any(s in rules.states and rules.states[s].autodialer_needs_consent for s in states),
                    bool(with_state_zones(frozenset(), states)[1]))  # a state whose time zone nobody knows
            wireless_restricted, needs_consent, zoneless_state = flags
            if zoneless_state or location_problems(c.e164, c.postal_code, c.state):  # unreadable, no place of its own
                f.add("unknown_zone")
            if wireless_restricted and "wireless" in hits and hits["wireless"][k]:
                f.add("wireless_restricted_state")
            records = consents.get(c.e164)
            if not records:
                f |= _unless_consent(hits, k, needs_consent, rules, ())
                continue
            lifted = partial(_unless_consent, hits, k, needs_consent, rules)
            screened = reassigned.screen(records, rnd, disconnected.get(c.e164), self.at, rules)
            screened = Screen(screened.usable, screened.void)  # data too old to ask: the gate's (rnd_stale)
            f |= lifted(screened.usable) | {r.code for r in reassigned.rests_on(screened, lifted)}
        out = [tuple(sorted(f, key=_ORDER.__getitem__)) for f in found]
        self.rows += len(out)
        for reasons in out:
            if reasons:
                self.suppressed += 1
                self.counts.update(reasons)
        return out

    def _internal(self, session: Session, e164s: list[str]) -> set[str]:
        if not e164s:
            return set()
        scope = InternalEntry.scope == "company"
        if self.campaign is not None:
            scope = or_(scope, InternalEntry.campaign_id == self.campaign)
        return set(session.scalars(select(InternalEntry.e164).where(
            _among(session, InternalEntry.e164, e164s), InternalEntry.effective_at <= self.at, scope,
            or_(InternalEntry.removed_at.is_(None), InternalEntry.removed_at > self.at))))

    def _consents(self, session: Session, e164s: list[str]) -> dict[str, list[Consent]]:
        if not e164s:
            return {}
        camp = Consent.campaign_id.is_(None)
        if self.campaign is not None:
            camp = or_(camp, Consent.campaign_id == self.campaign)
        out: dict[str, list[Consent]] = {}
        for row in session.scalars(select(Consent).where(
                _among(session, Consent.e164, e164s), Consent.granted_at <= self.at, camp,
                or_(Consent.expires_at.is_(None), Consent.expires_at > self.at),
                or_(Consent.revoked_at.is_(None), Consent.revoked_at > self.at)).order_by(Consent.id)):
            out.setdefault(row.e164, []).append(row)
        return out

    def record(self, session: Session, *, list_ref: str, file_sha256: str = "") -> None:
        """Write the scrub-ledger record of this list load: sources with versions and ages, counts by reason."""
        self._resolve(session)  # a list whose rows were all duplicates never reached ``scrub``
        snap = resolve(session, self.store, self.at)
        registry = None
        if isinstance(snap, Unavailable):  # said so: the gate refuses these numbers until the host has it
            registry = {"generation": snap.generation, "unavailable": snap.why}
        elif snap is not None:
            ages = {n: (self.at.date() - snap.coverage[n].version_date).days for n in sorted(self._npas)
                    if n in snap.coverage}
            registry = {"generation": snap.generation, "area_codes": len(snap.coverage),
                        "oldest_version_days": max(ages.values()) if ages else None,
                        "uncovered_area_codes": sorted(n for n in self._npas if n not in snap.coverage)}
        lists = [{"source": ld.source, "list_key": ld.list_key, "version_date": str(ld.version_date),
                  "age_days": (self.at.date() - ld.version_date).days, "load_id": ld.id, "count": ld.count}
                 for ld in current_loads(session)]
        rnd = reassigned.in_force(session)
        watermark = session.execute(select(func.max(InternalEntry.id), func.count(InternalEntry.id))).one()
        ledger.append(session, "scrub", at=self.at, actor=self.operator, campaign=self.campaign,
                      reasons=sorted(self.counts),
                      payload={"list": list_ref, "file_sha256": file_sha256, "input_sha256": self._hash.hexdigest(),
                               "rows": self.rows, "suppressed": self.suppressed, "by_reason": dict(self.counts),
                               "registry": registry, "lists": lists, "rules": current_rules().version,
                               "rnd": {"load_id": rnd.load_id, "version_date": str(rnd.version_date),
                                       "age_days": rnd.age_days(self.at)} if rnd else None,
                               "internal_watermark": {"max_id": watermark[0], "entries": watermark[1]}})
