"""What an auditor is handed: the scrub ledger, reconciliation, window exceptions, the opt-out SLA and DNC removals
as ``Sheet``s that the console shows, prints and exports (CSV, PDF) alike.

A sheet speaks the auditor's language: campaign and agent names instead of ids, every time in one stated zone,
each reason in words with its stable code beside it, yes/no instead of booleans, counts whose arithmetic is said
out loud (a lead with several reasons is counted once under each), and hashes whole in the exports.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from campaigns.agents.models import Agent
from campaigns.campaign.models import Campaign
from campaigns.compliance import verdicts
from campaigns.dispatch.models import Call
from campaigns.leads.models import Lead
from campaigns.reports.sheet import hms
from dnc.reasons import words
from dnc.registry.snapshot import Store
from dnc.tables import InternalEntry, LedgerRecord

REPORT_JUDGES = 20_000  # new calls a report judges itself before it says the rest are still waiting
CHANNELS = {"agent": "agent's disposition", "keypress": "keypress opt-out", "web": "web form", "mail": "mail",
            "phone": "phone", "email": "email", "import": "imported", "api": "API"}


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    kind: str = "text"  # text | num | when | hash | reasons (a list of {code, words, text})
    width: float | None = None  # relative width on paper (PDF); None: by kind


@dataclass
class Sheet:
    name: str
    title: str
    period: str  # "2030-01-01 to 2030-01-30, times in America/New_York (EST/EDT)"
    columns: list[Column]
    rows: list[dict]
    summary: list[tuple[str, str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    empty: str = "Nothing in this range."
    verdict: str | None = None  # "ok" or "bad" for the pages that expect nothing
    # the summary line the verdict judges: the page shows it once, as the verdict's tile, not again in the summary
    headline: str | None = None

    def rest(self) -> list[tuple[str, str]]:
        """The summary lines beside the headline (the page's list under the tile)."""
        return [(label, value) for label, value in self.summary if label != self.headline]

    def head(self) -> tuple[str, str] | None:
        return next(((label, value) for label, value in self.summary if label == self.headline), None)


BROKE, BREACHES = "Calls that broke a rule", "Breaches"  # the headlines of the reconciliation and SLA pages


@dataclass(frozen=True)
class Span:
    """The UTC days first..last, shown in ``zone``."""

    first: date
    last: date
    zone: str = "UTC"

    @property
    def since(self) -> datetime:
        return datetime.combine(self.first, datetime.min.time(), UTC)

    @property
    def until(self) -> datetime:
        return datetime.combine(self.last + timedelta(days=1), datetime.min.time(), UTC)

    @property
    def period(self) -> str:
        return f"{self.first} to {self.last} (UTC days), times in {self.zone}"


def when(t: datetime | None, zone: str, seconds: bool = False) -> str:
    if t is None:
        return ""
    local = t.astimezone(ZoneInfo(zone))
    return local.strftime("%Y-%m-%d %H:%M:%S %Z" if seconds else "%Y-%m-%d %H:%M %Z")


def reasons_cell(details: list[dict]) -> list[dict]:
    return [{"code": d["code"], "words": words(d["code"]), "text": d["text"]} for d in details]


def flat(col: Column, value) -> str:
    """One cell as text (CSV, PDF): reasons as "Words (code): sentence" joined by " | "."""
    if value is None:
        return ""
    if col.kind == "reasons":
        return " | ".join(f"{r['words']} ({r['code']}): {r['text']}" for r in value)
    return str(value)


def _campaign_names(session: Session) -> dict[int, str]:
    return dict(session.execute(select(Campaign.id, Campaign.name)).all())


def _plural(n: int, one: str, many: str | None = None) -> str:
    return f"{n:,} {one if n == 1 else (many or one + 's')}"


# --- reconciliation and window exceptions -------------------------------------------------------------------------
RECONCILE_COLUMNS = [Column("call", "Call", "num", 0.6), Column("number", "Number", width=1.1),
                     Column("placed", "Placed", "when", 1.3), Column("local", "Called party's time", width=1.7),
                     Column("campaign", "Campaign"), Column("agent", "Agent"), Column("lead", "Lead", width=0.9),
                     Column("where", "States (zones)", width=1.5), Column("reasons", "Rules broken", "reasons", 3.2)]


def reconciliation(session: Session, store: Store | None, now: datetime, span: Span, campaign_id: int | None = None,
                   window: bool = False) -> Sheet:
    """Every call placed in the span that broke a rule in force then (window: only hours, day bans and caps)."""
    verdicts.refresh(session, store, now, limit=REPORT_JUDGES)
    waiting = verdicts.pending(session)
    found = verdicts.findings(session, span.since, span.until, campaign_id, window)
    checked = verdicts.checked(session, span.first, span.last, campaign_id)
    names = _campaign_names(session)
    ids = [v.call_id for v in found]
    who: dict[int, tuple[str | None, str]] = {}
    for k in range(0, len(ids), 1000):
        for cid, agent, first, last in session.execute(
                select(Call.id, Agent.name, Lead.first_name, Lead.last_name).outerjoin(Agent, Agent.id == Call.agent_id)
                .outerjoin(Lead, Lead.id == Call.lead_id).where(Call.id.in_(ids[k:k + 1000]))):
            who[cid] = (agent, f"{first or ''} {last or ''}".strip())
    rows = []
    for v in found:
        details = [d for d in v.details if not window or d["code"] in _WINDOW]
        zones = [z for z in v.zones.split(",") if z]
        agent, lead = who.get(v.call_id, (None, ""))
        rows.append({"call": v.call_id, "number": v.e164, "placed": when(v.placed_at, span.zone, True),
                     "local": "; ".join(f"{v.placed_at.astimezone(ZoneInfo(z)):%a %H:%M %Z} {z}" for z in zones),
                     "campaign": names.get(v.campaign_id, "") if v.campaign_id is not None else "",
                     "agent": agent or "dial loop (no agent)", "lead": lead,
                     "where": f"{v.states.replace(',', ', ') or '—'} ({', '.join(zones) or 'no zone'})",
                     "reasons": reasons_cell(details)})
    per_code: dict[str, int] = {}
    for r in rows:
        for code in dict.fromkeys(x["code"] for x in r["reasons"]):
            per_code[code] = per_code.get(code, 0) + 1
    several = sum(1 for r in rows if len({x["code"] for x in r["reasons"]}) > 1)
    summary = [("Calls checked", f"{checked:,}"), (BROKE, f"{len(rows):,}"),
               ("Calls that complied", f"{checked - len(rows):,}")]
    summary += [(f"{words(c)} ({c})", f"{n:,}") for c, n in sorted(per_code.items(), key=lambda kv: -kv[1])]
    notes = ["Each call is judged against the suppression lists, consent, calling hours and state caps as they "
             "were at the instant it was placed, including calls imported from another dialer. Expected: none."]
    if waiting:
        notes.append(f"{_plural(waiting, 'call')} placed recently {'has' if waiting == 1 else 'have'} not been "
                     "judged yet (the worker's reconciliation job is catching up): reload in a minute.")
    if several:
        notes.append(f"{_plural(several, 'call')} broke more than one rule: such a call is counted once under "
                     "each of its rules, so the rule counts add up to more than the calls.")
    title = "Calling-window exceptions" if window else "Zero-violation reconciliation"
    empty = "No exceptions: every call was placed inside the calling hours and under the caps." if window else \
        "No violations: every call complied."
    return Sheet("window" if window else "reconcile", title, span.period, RECONCILE_COLUMNS, rows, summary, notes,
                 empty, "bad" if rows else "warn" if waiting else "ok", BROKE)


_WINDOW = frozenset({"outside_window", "sunday_ban", "saturday_ban", "holiday", "emergency_ban", "state_cap"})


# --- the scrub ledger ---------------------------------------------------------------------------------------------
SCRUB_COLUMNS = [Column("seq", "Ledger no.", "num", 0.7), Column("at", "When", "when"),
                 Column("what", "What", width=1.4), Column("campaign", "Campaign"), Column("operator", "By", width=0.7),
                 Column("rows", "Rows", "num", 0.7), Column("suppressed", "Suppressed", "num", 0.9),
                 Column("by_reason", "Suppressed by reason", width=2.6),
                 Column("sources", "Sources in force", width=2.0), Column("sha256", "File SHA-256", "hash")]


def _sources(b: dict) -> str:
    reg = b.get("registry") or {}
    if not reg:
        out = ["National registry: none loaded"]
    elif reg.get("unavailable"):
        out = [f"National registry {reg.get('generation')}: not on this server ({reg['unavailable']})"]
    else:
        out = [f"National registry {reg.get('generation')}, oldest area code {reg.get('oldest_version_days')} days "
               "old"]
    out += [f"{x['source'].capitalize()} list{' ' + x['list_key'] if x.get('list_key') else ''} of "
            f"{x['version_date']} ({x['age_days']} days old)" for x in b.get("lists", [])]
    rnd = b.get("rnd")
    if "rnd" in b:  # scrubs recorded before the RND was checked say nothing of it
        out.append(f"Reassigned Numbers Database data of {rnd['version_date']} ({rnd['age_days']} days old)" if rnd
                   else "Reassigned Numbers Database: none loaded")
    return "; ".join(out)


def _area_codes(value) -> str:
    if not value:
        return ""
    codes = value.split(",") if isinstance(value, str) else [str(v) for v in value]
    return f"area code{'s' if len(codes) > 1 else ''} {', '.join(c.strip() for c in codes)}"


def scrub_ledger(session: Session, span: Span) -> Sheet:
    """One row per lead-list scrub, registry load and list load in the span."""
    names = _campaign_names(session)
    q = select(LedgerRecord).where(LedgerRecord.kind.in_(("scrub", "registry_load", "list_load")),
                                   LedgerRecord.at >= span.since, LedgerRecord.at < span.until)
    rows, several_total, lists = [], 0, 0
    for rec in session.scalars(q.order_by(LedgerRecord.seq)):
        b = json.loads(rec.body)
        if rec.kind == "scrub":
            lists += 1
            by = b.get("by_reason", {})
            supp, total = int(b.get("suppressed") or 0), sum(by.values())
            text = "; ".join(f"{words(k)} ({k}): {v:,}" for k, v in sorted(by.items(), key=lambda kv: -kv[1]))
            if total > supp:
                several_total += 1
                text += (f" — {total:,} reasons over {_plural(supp, 'lead')}: some leads have several reasons, each "
                         "counted once under every one")
            rows.append({"seq": rec.seq, "at": when(rec.at, span.zone), "what": f"Lead list {b.get('list', '')}",
                         "campaign": names.get(rec.campaign_id, "") if rec.campaign_id else "",
                         "operator": rec.actor, "rows": f"{int(b.get('rows') or 0):,}", "suppressed": f"{supp:,}",
                         "by_reason": text or "none", "sources": _sources(b),
                         "sha256": b.get("input_sha256", "")})
        else:
            what = "National registry" if rec.kind == "registry_load" else "Reassigned Numbers Database data" \
                if b.get("source") == "rnd" else \
                f"{str(b.get('source', '')).capitalize()} list{' ' + b['list_key'] if b.get('list_key') else ''}"
            files = b.get("files") or b.get("file") or ""
            if isinstance(files, list):
                files = ", ".join(str(f) for f in files)
            mode = "change list" if b.get("mode") == "changes" else "full list"
            rows.append({"seq": rec.seq, "at": when(rec.at, span.zone), "what": f"{what} ({mode}) {files}".strip(),
                         "campaign": "every campaign", "operator": rec.actor,
                         "rows": f"{int(b.get('lines') or 0):,}", "suppressed": f"{int(b.get('count') or 0):,} listed",
                         "by_reason": f"version of {b.get('version_date')}; {int(b.get('malformed') or 0):,} "
                                      "malformed lines",
                         "sources": _area_codes(b.get("area_codes")),
                         "sha256": b.get("sha256", "")})
    summary = [("Lead lists scrubbed", f"{lists:,}"), ("Registry and list loads", f"{len(rows) - lists:,}")]
    notes = ["Rows are the numbers checked; a lead suppressed for several reasons is counted once under each "
             "reason, so the reason counts can add up to more than the suppressed leads."] if several_total else []
    return Sheet("scrubs", "Scrub ledger", span.period, SCRUB_COLUMNS, rows, summary, notes)


# --- the opt-out SLA and removals ---------------------------------------------------------------------------------
SLA_COLUMNS = [Column("number", "Number"), Column("scope", "Applies to"), Column("channel", "Received by"),
               Column("received", "Received", "when"), Column("effective", "Honoured from", "when"),
               Column("deadline", "Deadline (10 business days)", "when"),
               Column("hours", "Time to honour (h:mm:ss)", "num"), Column("met", "Within deadline"),
               Column("by", "Recorded by"), Column("source", "Source")]
REMOVAL_COLUMNS = [Column("number", "Number"), Column("scope", "Applied to"), Column("received", "Received", "when"),
                   Column("removed", "Removed", "when"), Column("by", "Removed by"), Column("reason", "Why")]


def _who(session: Session, entries: list[InternalEntry]) -> dict[int, str]:
    """The agent behind each request taken on a call (their name, even when the entry only kept an id)."""
    calls = {e.id: int(e.source_ref[5:]) for e in entries
             if e.source_ref.startswith("call:") and e.source_ref[5:].isdigit()}
    names: dict[int, str] = {}
    ids = sorted(set(calls.values()))
    for k in range(0, len(ids), 1000):
        names.update(session.execute(select(Call.id, Agent.name).join(Agent, Agent.id == Call.agent_id)
                                     .where(Call.id.in_(ids[k:k + 1000]))).all())
    return {eid: names[c] for eid, c in calls.items() if c in names}


def _scope(e: InternalEntry, names: dict[int, str]) -> str:
    return "every campaign" if e.scope == "company" else f"campaign {names.get(e.campaign_id, e.campaign_id)}"


def _source(ref: str) -> str:
    if ref.startswith("call:"):
        return f"call {ref[5:]}"
    return ref


def opt_out_sla(session: Session, span: Span) -> Sheet:
    entries = list(session.scalars(select(InternalEntry).where(InternalEntry.received_at >= span.since,
                                                               InternalEntry.received_at < span.until)
                                   .order_by(InternalEntry.received_at, InternalEntry.id)))
    names, agents = _campaign_names(session), _who(session, entries)
    rows, breaches = [], 0
    for e in entries:
        took = (e.effective_at - e.received_at).total_seconds()
        met = e.effective_at <= e.honor_deadline
        breaches += not met
        rows.append({"number": e.e164, "scope": _scope(e, names), "channel": CHANNELS.get(e.channel, e.channel),
                     "received": when(e.received_at, span.zone), "effective": when(e.effective_at, span.zone),
                     "deadline": when(e.honor_deadline, span.zone), "hours": hms(took),
                     "met": "yes" if met else "NO — breach", "by": agents.get(e.id) or _agent_name(session, e.added_by),
                     "source": _source(e.source_ref)})
    summary = [("Requests", f"{len(rows):,}"), ("Honoured within 10 business days", f"{len(rows) - breaches:,}"),
               (BREACHES, f"{breaches:,}")]
    notes = ["A request must be honoured within 10 business days of receipt (US federal holidays excluded); the "
             "product honours it from the moment it is recorded."]
    return Sheet("sla", "Internal DNC: opt-out SLA", span.period, SLA_COLUMNS, rows, summary, notes,
                 verdict="bad" if breaches else "ok", headline=BREACHES)



def _agent_name(session: Session, added_by: str) -> str:
    """``agent #12`` (an entry that kept only the id) -> the agent's name."""
    if added_by.startswith("agent #") and added_by[7:].isdigit():
        name = session.scalar(select(Agent.name).where(Agent.id == int(added_by[7:])))
        return name or added_by
    return added_by


def removals(session: Session, span: Span) -> Sheet:
    names = _campaign_names(session)
    entries = session.scalars(select(InternalEntry).where(InternalEntry.removed_at >= span.since,
                                                          InternalEntry.removed_at < span.until)
                              .order_by(InternalEntry.removed_at))
    rows = [{"number": e.e164, "scope": _scope(e, names), "received": when(e.received_at, span.zone),
             "removed": when(e.removed_at, span.zone), "by": e.removed_by or "", "reason": e.removal_reason or ""}
            for e in entries]
    return Sheet("removals", "Internal DNC removals", span.period, REMOVAL_COLUMNS, rows,
                 [("Removals", f"{len(rows):,}")],
                 ["A removal takes a number off the internal list from that moment; the request and the removal "
                  "both stay in the ledger."])

