"""Zero-violation reconciliation: each placed call judged against what was in force WHEN it was placed.

Bitemporal: the internal entries effective then, the registry generation and list versions loaded by then, the
consent granted and not yet expired or revoked (and what the Reassigned Numbers Database data loaded by then said
of it), the calling window of that instant and the calls before it. It is expected to find nothing; every finding
is a call to explain in writing.

``Judge`` does the work for a batch of calls with one query for the internal entries, one for the consent and one
for the RND disconnections of all the batch's numbers (a query per call made 2,250 calls take seconds), and
remembers window verdicts per minute (every window edge in the rules is a whole minute, so two instants of one
minute share their verdict).
``dnc`` reads no call records: callers hand it ``CallRecord``s and, for the caps, the times of the earlier calls,
which ``PersonCalls`` picks as the gate counts them: every call to the called person (the number, the lead's own
calls, and its other numbers from when each became the lead's), not only the calls to the number.
"""

from __future__ import annotations

import bisect
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from dnc.gate import assess_sources, cap_check, internal_reason
from dnc.lists import SOURCES, ListIndex
from dnc.numbers import invalid_reason, nanp_digits
from dnc.reasons import WINDOW_CODES, Reason
from dnc.reassigned import RndHistory, rests_on, screen
from dnc.registry.snapshot import Store, default_store
from dnc.registry.sync import attach
from dnc.rules import current_rules
from dnc.tables import Consent, InternalEntry, ListLoad
from dnc.window import _zone, all_zones, is_open
from dnc.zones import candidate_states, candidate_zones, location_problems

BATCH = 1_000  # numbers per prefetch query (an IN list both databases plan well)
_INDEXES: dict[tuple, ListIndex] = {}  # the lists in force per set of load ids, kept across refreshes


@dataclass(frozen=True)
class CallRecord:
    """What reconciliation needs of one placed call (the caller reads it from its own calls table)."""

    e164: str
    placed_at: datetime
    campaign: int | None
    state: str | None = None
    postal_code: str | None = None
    zones: tuple[str, ...] | None = None
    ref: str = ""
    lead: int | None = None
    # the lead's numbers and when each became the lead's: the state caps count the calls to all of them (per person)
    numbers: tuple[tuple[str, datetime], ...] = ()


class PersonCalls:
    """Placed calls indexed by number and by lead, to answer which of them a state cap counts for a call: those to
    the called person, as the gate counts them (``campaigns.dispatch.service.call_times``): to the number dialed,
    the lead's own, and those to the lead's other numbers, each from the moment it was known to be the lead's (the
    gate could not count calls to a number it did not know was the person's)."""

    def __init__(self) -> None:
        self.by_number: dict[str, list[tuple[datetime, int]]] = defaultdict(list)
        self.by_lead: dict[int, list[tuple[datetime, int]]] = defaultdict(list)
        self._seen: set[int] = set()

    def add(self, e164: str, lead: int | None, placed_at: datetime, key: int) -> None:
        if key in self._seen:
            return
        self._seen.add(key)
        self.by_number[e164].append((placed_at, key))
        if lead is not None:
            self.by_lead[lead].append((placed_at, key))

    def before(self, c: CallRecord, key: int) -> list[datetime]:
        """The times of the person's calls that come before ``c`` (placed earlier, or at once with a lower key)."""
        pools = [self.by_number.get(c.e164, ())]
        if c.lead is not None:
            pools.append(self.by_lead.get(c.lead, ()))
        pools += [self.by_number.get(n, ()) for n, known in c.numbers if n != c.e164 and known <= c.placed_at]
        found = {k: t for pool in pools for t, k in pool if (t, k) < (c.placed_at, key)}
        return list(found.values())


@dataclass(frozen=True)
class Finding:
    """One call that broke a rule in force when it was placed."""

    call: CallRecord
    zones: tuple[str, ...]
    states: tuple[str, ...]
    reasons: tuple[Reason, ...]

    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(r.code for r in self.reasons))

    def row(self) -> dict:
        """The plain-dict row of the CLI, the CSV and the older callers (codes and sentences joined)."""
        c = self.call
        return {"call": c.ref, "e164": c.e164, "placed_at": _iso(c.placed_at), "campaign": c.campaign,
                "zones": ",".join(self.zones), "states": ",".join(self.states), "codes": ",".join(self.codes),
                "reasons": "; ".join(r.text for r in self.reasons),
                "details": [r.as_dict() for r in self.reasons]}


def _iso(t: datetime | None) -> str:
    return t.strftime("%Y-%m-%d %H:%M:%S") if t else ""


class _AsOf:
    """The registry generation and list versions in force at past instants (cached per distinct version set)."""

    def __init__(self, session: Session, store: Store) -> None:
        self.session, self.store = session, store
        if store.fetcher is None:  # a generation this host never had is fetched from the database when needed
            attach(store, session.get_bind())
        nat = session.execute(select(ListLoad.loaded_at, ListLoad.generation).where(ListLoad.source == "national")
                              .order_by(ListLoad.loaded_at, ListLoad.id)).all()
        self.nat_times, self.nat_gens = [r[0] for r in nat], [r[1] for r in nat]
        self.lists = session.execute(select(ListLoad.loaded_at, ListLoad.id, ListLoad.source, ListLoad.list_key,
                                            ListLoad.sha256, ListLoad.version_date)
                                     .where(ListLoad.source.in_(SOURCES)).order_by(ListLoad.loaded_at)).all()
        self._indexes: dict[tuple, ListIndex] = {}
        self._snaps: dict[str, object] = {}

    def snapshot(self, at: datetime):
        i = bisect.bisect_right(self.nat_times, at)
        if i == 0:
            return None, None
        gen = self.nat_gens[i - 1]
        if gen not in self._snaps:
            self._snaps[gen] = self.store.generation(gen)
        return gen, self._snaps[gen]

    def index(self, at: datetime) -> ListIndex:
        newest: dict[tuple, tuple] = {}
        for loaded_at, lid, source, key, sha, version in self.lists:
            if loaded_at > at:
                break
            newest[(source, key)] = (lid, sha, version)
        ids = tuple(sorted(newest.values()))
        if ids not in self._indexes:
            # a load's entries never change: one index per set of loads, kept across refreshes (keyed by the files'
            # hashes and versions too, so another database's load that has the same id is never taken for it)
            found = _INDEXES.get(ids)
            if found is None:
                if len(_INDEXES) >= 4:
                    _INDEXES.pop(next(iter(_INDEXES)))
                found = _INDEXES[ids] = ListIndex(self.session, at)
            self._indexes[ids] = found
        return self._indexes[ids]


class Judge:
    """Judges calls as of their own instants; ``prefetch`` a batch's numbers first, then ``judge`` each call."""

    def __init__(self, session: Session, store: Store | None = None) -> None:
        self.session, self.rules = session, current_rules()
        self.asof = _AsOf(session, store or default_store())
        self.rnd = RndHistory(session)
        self._internal: dict[str, list[InternalEntry]] = defaultdict(list)
        self._consent: dict[str, list[Consent]] = defaultdict(list)
        self._windows: dict[tuple, tuple[Reason, ...]] = {}
        self._open_hours: dict[tuple, bool] = {}
        self._states: dict[tuple, tuple[tuple[str, ...], bool]] = {}

    def prefetch(self, numbers: Iterable[str]) -> None:
        """Every internal entry and consent record of these numbers (replacing what an earlier batch loaded)."""
        self._internal.clear()
        self._consent.clear()
        wanted = sorted(set(numbers))
        for i in range(0, len(wanted), BATCH):
            part = wanted[i:i + BATCH]
            for e in self.session.scalars(select(InternalEntry).where(InternalEntry.e164.in_(part))
                                          .order_by(InternalEntry.id)):
                self._internal[e.e164].append(e)
            for c in self.session.scalars(select(Consent).where(Consent.e164.in_(part)).order_by(Consent.id)):
                self._consent[c.e164].append(c)
        self.rnd.prefetch(wanted)

    def _entries(self, e164: str, campaign: int | None, at: datetime) -> list[InternalEntry]:
        return [e for e in self._internal.get(e164, ()) if e.effective_at <= at
                and (e.scope == "company" or (campaign is not None and e.campaign_id == campaign))
                and (e.removed_at is None or e.removed_at > at)]

    def _consents(self, e164: str, campaign: int | None, at: datetime) -> list[Consent]:
        return [c for c in self._consent.get(e164, ()) if c.granted_at <= at
                and (c.expires_at is None or c.expires_at > at) and (c.revoked_at is None or c.revoked_at > at)
                and (c.campaign_id is None or (campaign is not None and c.campaign_id == campaign))]

    def states(self, c: CallRecord) -> tuple[tuple[str, ...], bool]:
        """The call's candidate states (they depend on the area code, the ZIP and the lead's state) and whether a
        state call cap applies to them."""
        key = (c.e164[:5] if len(c.e164) == 12 else c.e164, c.postal_code, c.state)
        found = self._states.get(key)
        if found is None:
            states = tuple(sorted(candidate_states(c.e164, c.postal_code, c.state)))
            found = self._states[key] = (states, self.rules.cap_for(states) is not None)
        return found

    def _open_hour(self, zones: tuple[str, ...], states: tuple[str, ...], at: datetime, pewc: bool) -> bool:
        """Open for the whole UTC hour of ``at``: in every zone the allowed part of a local day is one interval
        (the strictest start to the earliest end, or nothing), so an hour inside one local day that is open at
        its first and its last instant is open throughout."""
        hour = at.replace(minute=0, second=0, microsecond=0)
        key = (zones, states, pewc, hour)
        found = self._open_hours.get(key)
        if found is None:
            if len(self._open_hours) > 100_000:
                self._open_hours.clear()
            last = hour + timedelta(hours=1) - timedelta(microseconds=1)
            one_day = all((z := _zone(n)) is not None and hour.astimezone(z).date() == last.astimezone(z).date()
                          for n in all_zones(zones, states)[0])
            found = self._open_hours[key] = one_day and not is_open(zones, states, hour, self.rules, pewc)[1] \
                and not is_open(zones, states, last, self.rules, pewc)[1]
        return found

    def _window(self, zones: tuple[str, ...], states: tuple[str, ...], at: datetime, pewc: bool):
        if self._open_hour(zones, states, at, pewc):
            return ()
        key = (zones, states, pewc, at.replace(second=0, microsecond=0))
        found = self._windows.get(key)
        if found is None:
            if len(self._windows) > 200_000:
                self._windows.clear()
            found = self._windows[key] = tuple(is_open(zones, states, at, self.rules, pewc)[1])
        return found

    def judge(self, c: CallRecord, earlier: Sequence[datetime]) -> Finding | None:
        """The rules ``c`` broke (None: it complied); ``earlier`` are the times of the called person's calls before it
        (``PersonCalls.before``)."""
        t, reasons = c.placed_at, []
        digits = nanp_digits(c.e164)
        zones = tuple(c.zones) if c.zones is not None else candidate_zones(c.e164, c.postal_code)
        states, capped = self.states(c)
        invalid = invalid_reason(c.e164)
        consents: list[Consent] = []
        rnd: list[Reason] = []
        if digits is None or invalid is not None:
            reasons.append(Reason("invalid_number", invalid or f"{c.e164!r} is not a valid North American number"))
        else:
            reasons += [internal_reason(e) for e in self._entries(c.e164, c.campaign, t)]
            data = self.rnd.at(t)  # the RND data loaded by then
            screened = screen(self._consents(c.e164, c.campaign, t), data, self.rnd.disconnected(data, c.e164), t,
                              self.rules)
            consents = screened.usable
            gen, snap = self.asof.snapshot(t)
            if gen is not None and snap is None:
                reasons.append(Reason("evidence_missing", f"registry generation {gen} in force then was pruned: "
                                                          "the call cannot be checked against it"))
            index = self.asof.index(t)
            reasons += assess_sources(digits, states, t, consents, snap, index, self.rules, {})
            reasons += [Reason("unknown_zone", p) for p in location_problems(c.e164, c.postal_code, c.state)]
            rnd = rests_on(screened, lambda cs: {r.code for r in (
                *assess_sources(digits, states, t, cs, snap, index, self.rules, {}),
                *self._window(zones, states, t, any(x.kind == "pewc" for x in cs)))})
        reasons += self._window(zones, states, t, any(x.kind == "pewc" for x in consents))
        reasons += rnd
        if capped:
            cap = cap_check(list(earlier), states, t, self.rules, all_zones(zones, states)[0])[0]
            if cap is not None:
                reasons.append(cap)
        return Finding(c, zones, states, tuple(reasons)) if reasons else None


def reconcile_findings(session: Session, calls: Iterable[CallRecord], store: Store | None = None) -> list[Finding]:
    """Every call of ``calls`` that broke a rule in force when it was placed (the earlier calls the caps count are
    those given, per called person)."""
    judge = Judge(session, store)
    calls = sorted(calls, key=lambda c: c.placed_at)
    judge.prefetch(c.e164 for c in calls)
    person = PersonCalls()
    out = []
    for i, c in enumerate(calls):
        found = judge.judge(c, person.before(c, i))
        person.add(c.e164, c.lead, c.placed_at, i)
        if found is not None:
            out.append(found)
    return out


def reconcile(session: Session, calls: Iterable[CallRecord], store: Store | None = None) -> list[dict]:
    """Every call that broke a rule in force when it was placed (expected: none), as plain rows."""
    return [f.row() for f in reconcile_findings(session, calls, store)]


def window_only(row: dict) -> dict | None:
    """The part of a reconciliation row that is about the calling window or a state cap (None: nothing)."""
    codes = [c for c in row["codes"].split(",") if c in WINDOW_CODES]
    if not codes:
        return None
    details = [d for d in row.get("details", []) if d["code"] in WINDOW_CODES]
    return {**row, "codes": ",".join(codes), "details": details,
            "reasons": "; ".join(d["text"] for d in details) if details else row["reasons"]}


def window_exceptions(session: Session, calls: Iterable[CallRecord], store: Store | None = None) -> list[dict]:
    """Calls placed outside the calling window or over a state cap (expected: none)."""
    return [w for r in reconcile(session, calls, store) if (w := window_only(r)) is not None]


__all__ = ["CallRecord", "Finding", "Judge", "PersonCalls", "reconcile", "reconcile_findings", "window_exceptions",
           "window_only"]
