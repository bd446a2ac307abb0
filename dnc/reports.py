"""Compliance reports: the scrub ledger, one number's decision history, zero-violation reconciliation, the
internal-DNC SLA and calling-window exceptions, each as rows of plain dicts (CLI tables, console, CSV export).

Reconciliation is bitemporal: each call is judged against what was in force WHEN it was placed: the internal
entries effective then, the registry generation and list versions loaded by then, the consent granted and not
yet expired or revoked, the calling window of that instant and the calls before it. It is expected to return no
rows; every row is a call to explain in writing.
"""

from __future__ import annotations

import bisect
import csv
import json
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import IO

from sqlalchemy import select
from sqlalchemy.orm import Session

from dnc import consent as consent_mod
from dnc import internal
from dnc.gate import assess_sources, cap_check, internal_reason
from dnc.lists import SOURCES, ListIndex
from dnc.numbers import invalid_reason, nanp_digits
from dnc.reasons import WINDOW_CODES, Reason
from dnc.registry.snapshot import Store, default_store
from dnc.registry.sync import attach
from dnc.rules import current_rules
from dnc.tables import InternalEntry, LedgerRecord, ListLoad
from dnc.window import all_zones, is_open
from dnc.zones import candidate_states, candidate_zones


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
        self.lists = session.execute(select(ListLoad.loaded_at, ListLoad.id, ListLoad.source, ListLoad.list_key)
                                     .where(ListLoad.source.in_(SOURCES)).order_by(ListLoad.loaded_at)).all()
        self._indexes: dict[tuple, ListIndex] = {}

    def snapshot(self, at: datetime):
        i = bisect.bisect_right(self.nat_times, at)
        if i == 0:
            return None, None
        gen = self.nat_gens[i - 1]
        return gen, self.store.generation(gen)

    def index(self, at: datetime) -> ListIndex:
        newest: dict[tuple, int] = {}
        for loaded_at, lid, source, key in self.lists:
            if loaded_at > at:
                break
            newest[(source, key)] = lid
        ids = tuple(sorted(newest.values()))
        if ids not in self._indexes:
            self._indexes[ids] = ListIndex(self.session, at)
        return self._indexes[ids]


def reconcile(session: Session, calls: Iterable[CallRecord], store: Store | None = None) -> list[dict]:
    """Every call that broke a rule in force when it was placed (expected: none)."""
    rules = current_rules()
    asof = _AsOf(session, store or default_store())
    calls = sorted(calls, key=lambda c: c.placed_at)
    earlier: dict[str, list[datetime]] = defaultdict(list)
    out = []
    for c in calls:
        t, reasons = c.placed_at, []
        digits = nanp_digits(c.e164)
        zones = tuple(c.zones) if c.zones is not None else candidate_zones(c.e164, c.postal_code)
        states = tuple(sorted(candidate_states(c.e164, c.postal_code, c.state)))
        invalid = invalid_reason(c.e164)
        consents = []
        if digits is None or invalid is not None:
            reasons.append(Reason("invalid_number", invalid or f"{c.e164!r} is not a valid North American number"))
        else:
            reasons += [internal_reason(e) for e in internal.active(session, c.e164, c.campaign, t)]
            consents = consent_mod.active(session, c.e164, c.campaign, t)
            gen, snap = asof.snapshot(t)
            if gen is not None and snap is None:
                reasons.append(Reason("evidence_missing", f"registry generation {gen} in force then was pruned: "
                                                          "the call cannot be checked against it"))
            reasons += assess_sources(digits, states, t, consents, snap, asof.index(t), rules, {})
        reasons += is_open(zones, states, t, rules, any(x.kind == "pewc" for x in consents))[1]
        cap = cap_check(earlier[c.e164], states, t, rules, all_zones(zones, states)[0])[0]
        if cap is not None:
            reasons.append(cap)
        earlier[c.e164].append(t)
        if reasons:
            out.append({"call": c.ref, "e164": c.e164, "placed_at": _iso(t), "campaign": c.campaign,
                        "zones": ",".join(zones), "states": ",".join(states),
                        "codes": ",".join(dict.fromkeys(r.code for r in reasons)),
                        "reasons": "; ".join(r.text for r in reasons)})
    return out


def window_exceptions(session: Session, calls: Iterable[CallRecord], store: Store | None = None) -> list[dict]:
    """Calls placed outside the calling window or over a state cap (expected: none)."""
    rows = []
    for r in reconcile(session, calls, store):
        codes = [c for c in r["codes"].split(",") if c in WINDOW_CODES]
        if codes:
            rows.append({**r, "codes": ",".join(codes)})
    return rows


def sla(session: Session, since: datetime | None = None, until: datetime | None = None) -> dict:
    """Internal DNC requests: request to effective, 10-business-day breaches by channel, removals with who/why."""
    q = select(InternalEntry).order_by(InternalEntry.received_at)
    if since is not None:
        q = q.where(InternalEntry.received_at >= since)
    if until is not None:
        q = q.where(InternalEntry.received_at < until)
    requests, by_channel, removals = [], defaultdict(lambda: {"requests": 0, "breaches": 0, "max_hours": 0.0}), []
    for e in session.scalars(q):
        hours = (e.effective_at - e.received_at).total_seconds() / 3600
        breach = e.effective_at > e.honor_deadline
        requests.append({"id": e.id, "e164": e.e164, "scope": e.scope, "campaign": e.campaign_id,
                         "channel": e.channel, "received_at": _iso(e.received_at),
                         "effective_at": _iso(e.effective_at), "honor_deadline": _iso(e.honor_deadline),
                         "hours_to_effective": round(hours, 2), "breach": breach, "added_by": e.added_by})
        ch = by_channel[e.channel]
        ch["requests"] += 1
        ch["breaches"] += int(breach)
        ch["max_hours"] = max(ch["max_hours"], round(hours, 2))
        if e.removed_at is not None:
            removals.append({"id": e.id, "e164": e.e164, "scope": e.scope, "campaign": e.campaign_id,
                             "removed_at": _iso(e.removed_at), "removed_by": e.removed_by,
                             "reason": e.removal_reason})
    channels = [{"channel": k, **v} for k, v in sorted(by_channel.items())]
    return {"requests": requests, "channels": channels, "removals": removals,
            "breaches": sum(1 for r in requests if r["breach"])}


def scrub_ledger(session: Session, since: datetime | None = None, until: datetime | None = None) -> list[dict]:
    """One row per list load (lead-list scrub, registry or list load): sources, versions, ages, counts."""
    q = select(LedgerRecord).where(LedgerRecord.kind.in_(("scrub", "registry_load", "list_load")))
    if since is not None:
        q = q.where(LedgerRecord.at >= since)
    if until is not None:
        q = q.where(LedgerRecord.at < until)
    rows = []
    for rec in session.scalars(q.order_by(LedgerRecord.seq)):
        b = json.loads(rec.body)
        if rec.kind == "scrub":
            reg = b.get("registry") or {}
            sources = [f"national {reg.get('generation')} (oldest {reg.get('oldest_version_days')} d)"] if reg \
                else ["national: none loaded"]
            sources += [f"{x['source']}{':' + x['list_key'] if x['list_key'] else ''} {x['version_date']} "
                        f"({x['age_days']} d)" for x in b.get("lists", [])]
            rows.append({"seq": rec.seq, "at": _iso(rec.at), "kind": "lead list", "what": b.get("list", ""),
                         "campaign": rec.campaign_id, "operator": rec.actor, "rows": b.get("rows"),
                         "suppressed": b.get("suppressed"),
                         "by_reason": ", ".join(f"{k}: {v}" for k, v in sorted(b.get("by_reason", {}).items())),
                         "sources": "; ".join(sources), "input_sha256": b.get("input_sha256", "")})
        else:
            what = "national registry" if rec.kind == "registry_load" else \
                f"{b.get('source')} list{' ' + b['list_key'] if b.get('list_key') else ''}"
            rows.append({"seq": rec.seq, "at": _iso(rec.at), "kind": what, "what": b.get("files") or b.get("file"),
                         "campaign": None, "operator": rec.actor, "rows": b.get("lines"),
                         "suppressed": b.get("count"), "by_reason": f"version {b.get('version_date')}, "
                                                                    f"{b.get('malformed', 0)} malformed",
                         "sources": f"{b.get('mode', 'full')} {b.get('area_codes', '')}".strip(),
                         "input_sha256": b.get("sha256", "")})
    return rows


def history(session: Session, e164: str, limit: int = 1000) -> list[dict]:
    """Every ledger record about one number, oldest first: gate decisions, DNC and consent changes."""
    recs = session.scalars(select(LedgerRecord).where(LedgerRecord.e164 == e164)
                           .order_by(LedgerRecord.seq.desc()).limit(limit)).all()
    rows = []
    for rec in reversed(recs):
        b = json.loads(rec.body)
        detail = "; ".join(r["text"] for r in b.get("details", [])) if rec.kind == "gate" else \
            b.get("reason") or b.get("evidence_ref") or b.get("channel") or ""
        rows.append({"seq": rec.seq, "at": _iso(rec.at), "kind": rec.kind, "campaign": rec.campaign_id,
                     "allowed": rec.allowed, "codes": rec.reasons, "actor": rec.actor,
                     "zones": ",".join(b.get("zones", [])), "window": json.dumps(b["window"]) if b.get("window")
                     else "", "detail": detail})
    return rows


_FORMULA = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value) -> str:
    """A CSV cell a spreadsheet will not run as a formula (OWASP CSV injection)."""
    if value is None:
        return ""
    text = str(value)
    return "'" + text if text.startswith(_FORMULA) else text


def write_csv(rows: Sequence[dict], out: IO[str], columns: Sequence[str] | None = None) -> int:
    columns = list(columns or (rows[0].keys() if rows else []))
    w = csv.writer(out)
    w.writerow(columns)
    for r in rows:
        w.writerow([safe_cell(r.get(c)) for c in columns])
    return len(rows)
