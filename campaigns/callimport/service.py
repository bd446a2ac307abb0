"""Import call history from another dialer, so a team that switches keeps its reports and its 30-day abandon rate.

Every row is accounted for: ``rows = imported + duplicates + rejected``. The whole file is one transaction (a
failure leaves nothing). A call already stored for the same number at the same instant is a duplicate, so
re-importing a file changes nothing. Imported calls are marked ``imported``; they count in every report, in the
abandon history the pacer is seeded with and in the state call caps, and they are the product's own history:
their leads' attempts, lead states and DNC requests are what the same calls placed here would have left
(``campaigns.callimport.history``). Attempt numbers are worked out per lead (or per number) from all calls, old
and new. An imported call is never live: one without an end ends at its last known moment.
"""

from __future__ import annotations

import csv
import os
from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import datetime
from itertools import islice
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import and_, func, insert, or_, select, update
from sqlalchemy.orm import Session, aliased, sessionmaker

from campaigns.agents.models import Agent
from campaigns.callimport.history import apply_history
from campaigns.callimport.rows import COLUMNS, REQUIRED, CallRow, RowError, header_key, parse_row
from campaigns.campaign.models import Campaign, Disposition
from campaigns.campaign.service import get_campaign
from campaigns.dispatch.models import Call
from campaigns.leadimport.phones import PhoneNormalizer
from campaigns.leadimport.reader import open_table
from campaigns.leads.models import Lead, LeadList
from campaigns.reports.export import safe_cell
from dnc.errors import UserError

BATCH = 5_000
KEEP_REJECTS = 200


@dataclass
class CallImportResult:
    """The receipt: the three counts add up to ``rows``; the rest says where the calls went."""

    campaign: str = ""
    file: str = ""
    rows: int = 0
    imported: int = 0
    duplicates: int = 0
    rejected: int = 0
    matched_leads: int = 0
    without_lead: int = 0
    agents_created: list[str] = field(default_factory=list)
    outcomes: dict[str, int] = field(default_factory=dict)
    first_placed_at: str | None = None
    last_placed_at: str | None = None
    attempts_counted: int = 0  # imported calls that became attempts of their leads
    leads_moved: dict[str, int] = field(default_factory=dict)  # leads the history moved on, by new status
    dnc_requests: int = 0  # numbers the history's DNC dispositions put on the internal DNC list
    ignored_columns: list[str] = field(default_factory=list)
    rejects: list[dict] = field(default_factory=list)  # the first KEEP_REJECTS, with line, column and reason

    def as_dict(self) -> dict:
        return asdict(self)


def import_calls(sessions: sessionmaker[Session], campaign_name: str, path: str | os.PathLike, *, now: datetime,
                 rejects_path: str | os.PathLike | None = None, display_name: str | None = None
                 ) -> CallImportResult:
    """Import the call-history file ``path`` into ``campaign_name``; all or nothing."""
    display = display_name or Path(path).name
    table = open_table(path, display)
    reject_file = _RejectWriter(rejects_path)
    try:
        rows = ((line, cells) for line, cells in table.rows if any(c.strip() for c in cells))
        try:
            header_line, header = next(rows)
        except StopIteration:
            raise UserError(f"{display}: no rows (only blank lines)") from None
        columns, ignored = _map_header(header, display, header_line)
        session = sessions()
        try:
            with session.begin():
                result = _run(session, campaign_name, display, columns, header, rows, now, reject_file)
        finally:
            session.close()
        result.ignored_columns = ignored
        reject_file.commit()
        return result
    finally:
        reject_file.discard()
        table.close()


def _map_header(header: list[str], display: str, line: int) -> tuple[dict[str, int], list[str]]:
    columns: dict[str, int] = {}
    ignored = []
    for i, raw in enumerate(header):
        key = header_key(raw)
        if key is None:
            if raw.strip():
                ignored.append(raw.strip())
            continue
        if key in columns:
            raise UserError(f"{display} line {line}: columns {header[columns[key]]!r} and {raw!r} both mean "
                            f"{key.replace('_', ' ')}")
        columns[key] = i
    missing = [k.replace("_", " ") for k in REQUIRED if k not in columns]
    if missing:
        raise UserError(f"{display} line {line}: no {' / '.join(missing)} column (the header has: "
                        f"{', '.join(h for h in header if h.strip()) or 'nothing'}; columns: "
                        f"{', '.join(c.replace('_', ' ') for c in COLUMNS)})")
    return columns, ignored


class _Context:
    """What every batch needs about the campaign, loaded once."""

    def __init__(self, session: Session, campaign: Campaign) -> None:
        self.campaign = campaign
        self.tz = ZoneInfo(campaign.timezone)
        self.codes = {c.upper(): c for c in session.scalars(select(Disposition.code)
                                                            .where(Disposition.campaign_id == campaign.id))}
        self.lists = dict(session.execute(select(LeadList.name, LeadList.id)
                                          .where(LeadList.campaign_id == campaign.id)).all())
        self.agents = dict(session.execute(select(Agent.name, Agent.id)).all())
        self.seen: set[tuple[str, datetime]] = set()
        self.dnc_codes = set(session.scalars(select(Disposition.code).where(Disposition.campaign_id == campaign.id,
                                                                           Disposition.is_dnc.is_(True))))
        self.dnc_lines: dict[tuple[str, datetime], int] = {}  # the DNC requests' source lines


def _run(session: Session, campaign_name: str, display: str, columns: dict[str, int], header: list[str], rows,
         now: datetime, rejects: _RejectWriter) -> CallImportResult:
    campaign = get_campaign(session, campaign_name)
    _serialize(session, campaign)
    ctx = _Context(session, campaign)
    names = {k: header[i] for k, i in columns.items()}
    result = CallImportResult(campaign=campaign.name, file=display)
    before = session.scalar(select(func.max(Call.id))) or 0
    normalizer = PhoneNormalizer(campaign.region)
    outcomes: Counter[str] = Counter()
    first = last = None
    try:
        while batch := list(islice(rows, BATCH)):
            result.rows += len(batch)
            good: list[CallRow] = []
            raw = dict(batch)
            for line, cells in batch:
                cell = {k: (cells[i] if i < len(cells) else "") for k, i in columns.items()}
                try:
                    good.append(parse_row(line, cell, ctx.tz, ctx.codes, now, names))
                except RowError as e:
                    _reject(result, rejects, line, e.column, e.reason, cells)
            for row, parsed in zip(good, normalizer.normalize([r.phone_raw for r in good]), strict=True):
                if parsed.e164 is None:
                    _reject(result, rejects, row.line, names["phone"], f"{parsed.reason}: {row.phone_raw!r}",
                            raw[row.line])
                    row.e164 = ""
                else:
                    row.e164 = parsed.e164
            good = [r for r in good if r.e164]
            stored = _store_batch(session, ctx, good, result, rejects, names, raw)
            for r in stored:
                outcomes[r.outcome] += 1
                first = r.placed_at if first is None or r.placed_at < first else first
                last = r.placed_at if last is None or r.placed_at > last else last
    finally:
        normalizer.close()
    _number_attempts(session, campaign.id, before)
    effects = apply_history(session, campaign, before, display, ctx.dnc_lines, now)
    result.attempts_counted, result.leads_moved, result.dnc_requests = (effects.attempts, effects.leads_moved,
                                                                        effects.dnc_requests)
    result.outcomes = dict(sorted(outcomes.items()))
    result.first_placed_at = first.isoformat() if first else None
    result.last_placed_at = last.isoformat() if last else None
    return result


def _serialize(session: Session, campaign: Campaign) -> None:
    """One call import per campaign at a time. An import knows its own calls as the campaign's imported calls above
    the highest call id when it began (``before``), and looks for duplicates among the calls already stored; on
    PostgreSQL an import committing meanwhile would have its calls taken for this one's (their attempts and lead
    moves applied a second time) and be missed by the duplicate check. A transaction advisory lock per campaign,
    taken before anything is read: the second import waits, then begins above the first one's calls. SQLite's one
    writer serializes imports already."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(select(func.pg_advisory_xact_lock(func.hashtext(f"call-import:{campaign.id}"))))


def _store_batch(session: Session, ctx: _Context, rows: list[CallRow], result: CallImportResult,
                 rejects: _RejectWriter, names: dict[str, str], raw: dict[int, list[str]]) -> list[CallRow]:
    cid = ctx.campaign.id
    phones = sorted({r.e164 for r in rows})
    leads: dict[str, list[tuple[int, int]]] = {}
    existing: set[tuple[str, datetime]] = set()
    if phones:
        for lead_id, phone, list_id in session.execute(select(Lead.id, Lead.phone, Lead.list_id)
                                                       .where(Lead.campaign_id == cid, Lead.phone.in_(phones))
                                                       .order_by(Lead.id)):
            leads.setdefault(phone, []).append((lead_id, list_id))
        lo, hi = min(r.placed_at for r in rows), max(r.placed_at for r in rows)
        existing = set(session.execute(select(Call.phone, Call.placed_at).where(
            Call.campaign_id == cid, Call.phone.in_(phones), Call.placed_at >= lo, Call.placed_at <= hi)).all())
    values, stored = [], []
    for r in rows:
        key = (r.e164, r.placed_at)
        if key in existing or key in ctx.seen:
            result.duplicates += 1
            continue
        list_id = None
        if r.list_name:
            list_id = ctx.lists.get(r.list_name)
            if list_id is None:
                known = ", ".join(sorted(ctx.lists)) or "none yet"
                _reject(result, rejects, r.line, names.get("list", "list"),
                        f"campaign {ctx.campaign.name!r} has no list named {r.list_name!r} (lists: {known})",
                        raw[r.line])
                continue
        candidates = leads.get(r.e164, [])
        lead = next((c for c in candidates if list_id is None or c[1] == list_id), None)
        if lead is None and candidates:
            lead = candidates[0]
        if lead is not None:
            result.matched_leads += 1
            list_id = list_id if list_id is not None else lead[1]
        else:
            result.without_lead += 1
        ctx.seen.add(key)
        if r.disposition in ctx.dnc_codes:
            ctx.dnc_lines[key] = r.line
        values.append({
            "campaign_id": cid, "lead_id": lead[0] if lead else None, "list_id": list_id, "phone": r.e164,
            "caller_id": "", "attempt": 0, "provider": "import", "status": "completed", "placed_at": r.placed_at,
            "answered_at": r.connected_at, "answered_by": r.answered_by, "connected_at": r.connected_at,
            "agent_id": _agent_id(session, ctx, r.agent, result) if r.agent else None, "ended_at": r.ended_at,
            "outcome": r.outcome, "disposition_code": r.disposition, "dispositioned_at": r.dispositioned_at,
            "notes": "", "imported": True})
        stored.append(r)
    if values:
        session.execute(insert(Call), values)
    result.imported += len(values)
    return stored


def _agent_id(session: Session, ctx: _Context, name: str, result: CallImportResult) -> int:
    agent_id = ctx.agents.get(name)
    if agent_id is None:
        agent = Agent(name=name[:120], campaign_id=ctx.campaign.id, state="offline")
        session.add(agent)
        session.flush()
        agent_id = ctx.agents[name] = agent.id
        result.agents_created.append(name)
    return agent_id


def _number_attempts(session: Session, campaign_id: int, before: int) -> None:
    """Each imported call's attempt = 1 + the calls to the same lead (or number, without a lead) placed earlier."""
    other = aliased(Call)
    same = or_(and_(Call.lead_id.isnot(None), other.lead_id == Call.lead_id),
               and_(Call.lead_id.is_(None), other.lead_id.is_(None), other.phone == Call.phone))
    earlier = or_(other.placed_at < Call.placed_at, and_(other.placed_at == Call.placed_at, other.id < Call.id))
    n = (select(func.count()).select_from(other).where(other.campaign_id == Call.campaign_id, same, earlier)
         .correlate(Call).scalar_subquery())
    session.execute(update(Call).where(Call.campaign_id == campaign_id, Call.imported.is_(True), Call.id > before)
                    .values(attempt=n + 1).execution_options(synchronize_session=False))


def _reject(result: CallImportResult, rejects: _RejectWriter, line: int, column: str, reason: str,
            cells: list[str] | None) -> None:
    result.rejected += 1
    if len(result.rejects) < KEEP_REJECTS:
        result.rejects.append({"line": line, "column": column, "reason": reason})
    rejects.write(line, column, reason, cells)


class _RejectWriter:
    """Rejected rows to a CSV (line, column, reason, the row's cells), written aside and moved in on success."""

    def __init__(self, path: str | os.PathLike | None) -> None:
        self.path = Path(path) if path else None
        self.tmp = self.path.with_name(self.path.name + ".part") if self.path else None
        self._f = None
        self._w = None
        if self.tmp is not None:
            try:
                self._f = self.tmp.open("w", newline="", encoding="utf-8")
            except OSError as e:
                raise UserError(f"{self.path}: cannot write the rejected rows ({e.strerror})") from None
            self._w = csv.writer(self._f)
            self._w.writerow(["line", "column", "reason", "row"])

    def write(self, line: int, column: str, reason: str, cells: list[str] | None) -> None:
        if self._w is not None:
            row = "" if cells is None else ",".join(cells)
            self._w.writerow([line, safe_cell(column), safe_cell(reason), safe_cell(row)])

    def commit(self) -> None:
        if self._f is not None:
            self._f.close()
            self._f = None
            os.replace(self.tmp, self.path)

    def discard(self) -> None:
        if self._f is not None:
            self._f.close()
            self._f = None
        if self.tmp is not None and self.tmp.exists():
            self.tmp.unlink()
