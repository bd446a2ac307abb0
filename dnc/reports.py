"""Compliance reports: the scrub ledger, one number's decision history, zero-violation reconciliation, the
internal-DNC SLA and calling-window exceptions, each as rows of plain dicts (CLI tables, console, CSV export).

Reconciliation and window exceptions live in ``dnc.reconcile`` (re-exported here).
"""

from __future__ import annotations

import csv
import json
import re
from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from typing import IO

from sqlalchemy import select
from sqlalchemy.orm import Session

from dnc.reconcile import CallRecord, reconcile, window_exceptions
from dnc.tables import InternalEntry, LedgerRecord

__all__ = ["CallRecord", "history", "reconcile", "safe_cell", "scrub_ledger", "sla", "window_exceptions",
           "write_csv"]


def _iso(t: datetime | None) -> str:
    return t.strftime("%Y-%m-%d %H:%M:%S") if t else ""


def sla(session: Session, since: datetime | None = None, until: datetime | None = None) -> dict:
    """Internal DNC requests: request to effective, 10-business-day breaches by channel, removals with who/why.

    An entry that lists another number of a requester (``linked_to``) is shown with the request it follows from,
    and counted in no channel: it is not a request of its own. Its removal (lifted with its request) is listed
    among the removals with its own time and ``linked_to``: it made a number callable again."""
    q = select(InternalEntry).order_by(InternalEntry.received_at, InternalEntry.id)
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
                         "hours_to_effective": round(hours, 2), "breach": breach, "added_by": e.added_by,
                         "linked_to": e.linked_to})
        if e.removed_at is not None:  # a linked number lifted with its request is a number callable again too
            removals.append({"id": e.id, "e164": e.e164, "scope": e.scope, "campaign": e.campaign_id,
                             "removed_at": _iso(e.removed_at), "removed_by": e.removed_by,
                             "reason": e.removal_reason, "linked_to": e.linked_to})
        if e.linked_to is not None:
            continue
        ch = by_channel[e.channel]
        ch["requests"] += 1
        ch["breaches"] += int(breach)
        ch["max_hours"] = max(ch["max_hours"], round(hours, 2))
    channels = [{"channel": k, **v} for k, v in sorted(by_channel.items())]
    return {"requests": requests, "channels": channels, "removals": removals,
            "breaches": sum(1 for r in requests if r["breach"] and r["linked_to"] is None)}


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
            if "rnd" in b:
                rnd = b["rnd"]
                sources.append(f"rnd {rnd['version_date']} ({rnd['age_days']} d)" if rnd else "rnd: none loaded")
            rows.append({"seq": rec.seq, "at": _iso(rec.at), "kind": "lead list", "what": b.get("list", ""),
                         "campaign": rec.campaign_id, "operator": rec.actor, "rows": b.get("rows"),
                         "suppressed": b.get("suppressed"),
                         "by_reason": ", ".join(f"{k}: {v}" for k, v in sorted(b.get("by_reason", {}).items())),
                         "sources": "; ".join(sources), "input_sha256": b.get("input_sha256", "")})
        else:
            what = "national registry" if rec.kind == "registry_load" else "reassigned numbers data" \
                if b.get("source") == "rnd" else \
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
            _text_detail(b) if rec.kind == "sms_inbound" else \
            b.get("reason") or b.get("evidence_ref") or b.get("channel") or ""
        rows.append({"seq": rec.seq, "at": _iso(rec.at), "kind": rec.kind, "campaign": rec.campaign_id,
                     "allowed": rec.allowed, "codes": rec.reasons, "actor": rec.actor,
                     "zones": ",".join(b.get("zones", [])), "window": json.dumps(b["window"]) if b.get("window")
                     else "", "detail": detail})
    return rows


def _text_detail(b: dict) -> str:
    """An inbound text's ledger record in words: what was texted to which number, and what it did."""
    lifted = ", ".join(f"#{i}" for i in b.get("lifted") or ())
    did = {"revocation": f"revocation (\"{b.get('word')}\"), internal DNC entry #{b.get('entry_id')}",
           "repeat": f"revocation (\"{b.get('word')}\") repeated, internal DNC entry #{b.get('repeat_of')} in force",
           "readmission": f"re-admitted (\"{b.get('word')}\"), internal DNC entr{'ies' if ',' in lifted else 'y'} "
                          f"{lifted} lifted",
           "unreadable_sender": f"{'opt-in' if 'lifted' in b else 'revocation'} word (\"{b.get('word')}\") from a "
                                "number that is not North American: nothing done",
           "none": f"opt-in word (\"{b.get('word')}\"), nothing lifted: no request made by a text from this number "
                   "is in force" if "lifted" in b else "no revocation word, nothing done"}.get(
        b.get("action"), str(b.get("action")))
    return f"texted {b.get('body', '')!r} to {b.get('to', '')}: {did}"


_FORMULA = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"\+?[0-9]+")  # "+12125550123": shown as a number, never run, so left as it is


def safe_cell(value) -> str:
    """A CSV cell a spreadsheet will not run as a formula (OWASP CSV injection); a phone number stays as it is, so
    it matches the number dialed and loads again as a list (the rule of every export of the console)."""
    if value is None:
        return ""
    text = str(value)
    return "'" + text if text.startswith(_FORMULA) and not _PLAIN_NUMBER.fullmatch(text) else text


def write_csv(rows: Sequence[dict], out: IO[str], columns: Sequence[str] | None = None) -> int:
    columns = list(columns or (rows[0].keys() if rows else []))
    w = csv.writer(out)
    w.writerow(columns)
    for r in rows:
        w.writerow([safe_cell(r.get(c)) for c in columns])
    return len(rows)
