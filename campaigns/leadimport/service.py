"""Import a lead file into a campaign: every row accounted for, one transaction, flat memory.

rows read = accepted + duplicates + rejected + suppressed, stored on the list and returned. The CLI and the
web upload both call ``import_leads``; it reads the file once to hash it, then streams it in batches through
phone normalization, de-duplication, time-zone candidates and the optional suppression scrub into bulk inserts.
The scrubber's ledger record of the load is written in the same transaction, and a file that yields no lead at all
(every row a duplicate or rejected) is refused whole with a sentence saying why (``nothing``).
"""

from __future__ import annotations

import gc
import hashlib
import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import datetime
from itertools import chain, islice
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from campaigns.campaign.models import Campaign
from campaigns.campaign.service import get_campaign
from campaigns.leadimport.mapping import ColumnMap, build_map, is_header
from campaigns.leadimport.nothing import nothing_imported
from campaigns.leadimport.parallel import MIN_BYTES, ChildParser
from campaigns.leadimport.reader import Table, open_table
from campaigns.leadimport.rows import Counts, RowProcessor, Target, scrub_leads
from campaigns.leadimport.scrub import Scrubber
from campaigns.leadimport.store import BulkWriter, existing_keys
from campaigns.leads.models import LeadList
from campaigns.names import one_line, plain_name
from dnc.errors import UserError

BATCH = 5_000
SAMPLE_ROWS = 200

Progress = Callable[[int, int, int], None]


@dataclass
class ImportResult:
    """The receipt of one import; the five counts are what ``--json`` promises."""

    rows: int = 0
    accepted: int = 0
    duplicates: int = 0
    rejected: int = 0
    suppressed: int = 0
    list_id: int = 0
    list_name: str = ""
    campaign: str = ""
    suppressed_by: dict[str, int] = field(default_factory=dict)
    blank_lines: int = 0
    sha256: str = ""
    source: str = ""
    mapping: dict[str, str] = field(default_factory=dict)

    def as_dict(self) -> dict:
        return asdict(self)


def file_sha256(path: str | os.PathLike) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


def import_leads(sessions: sessionmaker[Session], campaign_name: str, path: str | os.PathLike, *, now: datetime,
                 list_name: str | None = None, mapping: Mapping[str, str] | None = None, uploaded_by: str = "",
                 force: bool = False, scrubber: Scrubber | None = None, progress: Progress | None = None,
                 original_filename: str | None = None, parallel: bool | None = None) -> ImportResult:
    """Import ``path`` into campaign ``campaign_name`` as a new list; all or nothing.

    ``parallel``: parse in a second process while this one scrubs and writes (``campaigns.leadimport.parallel``);
    by default for files of ``parallel.MIN_BYTES`` and more.
    """
    display = original_filename or Path(path).name
    table = open_table(path, display)
    try:
        rows = NonBlank(table.rows)
        first_line, first = _first_row(rows, display)
        sample = list(islice(rows, SAMPLE_ROWS))
        if not sample and is_header(first):
            raise UserError(f"{display}: only a header line (line {first_line}), no lead rows")
        columns = build_map(first, [c for _, c in sample], display, mapping)
        data = chain(sample, rows) if columns.has_header else chain([(first_line, first)], sample, rows)
        sha = file_sha256(path)
        session = sessions()
        try:
            with session.begin():
                result = _run(session, campaign_name, table, columns, data, sha, now, list_name, uploaded_by,
                              force, scrubber, progress, display, rows, parallel)
                _record(scrubber, session, result)
        finally:
            session.close()
        return result
    finally:
        table.close()


class NonBlank:
    """Skips rows whose cells are all empty (counted apart: they are not leads and not mistakes)."""

    def __init__(self, rows: Iterator[tuple[int, list[str]]]) -> None:
        self._rows = rows
        self.blank = 0

    def __iter__(self):
        return self

    def __next__(self) -> tuple[int, list[str]]:
        while True:
            line, cells = next(self._rows)
            if any(cells) and (cells[0].strip() or any(c.strip() for c in cells)):
                return line, cells
            self.blank += 1


def _first_row(rows: NonBlank, name: str) -> tuple[int, list[str]]:
    try:
        return next(rows)
    except StopIteration:
        raise UserError(f"{name}: no rows (only blank lines)") from None


def _run(session: Session, campaign_name: str, table: Table, columns: ColumnMap,
         data: Iterator[tuple[int, list[str]]], sha: str, now: datetime, list_name: str | None, uploaded_by: str,
         force: bool, scrubber: Scrubber | None, progress: Progress | None, display: str, rows: NonBlank,
         parallel: bool | None) -> ImportResult:
    campaign = get_campaign(session, campaign_name)
    _serialize(session, campaign)
    _refuse_repeat(session, campaign, sha, display, force)
    name = _list_name(session, campaign, list_name, display)
    lead_list = LeadList(campaign_id=campaign.id, name=name, source_filename=display[:400], sha256=sha,
                         uploaded_by=uploaded_by, uploaded_at=now, header=list(columns.header),
                         mapping={"fields": columns.describe(), "has_header": columns.has_header,
                                  "source": table.describe(),
                                  "ignored": [columns.header[i] for i in columns.ignored]})
    session.add(lead_list)
    session.flush()
    conn = session.connection()
    writer = BulkWriter(conn, now, campaign.id, lead_list.id)
    target = Target(campaign.id, lead_list.id, campaign.region, campaign.dedupe_scope)
    existing = existing_keys(conn, campaign.dedupe_scope, campaign.id)
    scrub = _bound(scrubber, session)
    if parallel if parallel is not None else table.total_bytes >= MIN_BYTES:
        c, blank = _run_parallel(table, columns, target, existing, scrub, writer, progress, display)
    else:
        c = _run_inline(table, columns, target, existing, scrub, data, writer, progress)
        blank = rows.blank  # the inline run read the file to its end through ``rows``
    lead_list.rows, lead_list.accepted, lead_list.duplicates = c.rows, c.accepted, c.duplicates
    lead_list.rejected, lead_list.suppressed = c.rejected, c.suppressed
    session.flush()
    if c.accepted == 0 and c.suppressed == 0:  # raised inside the transaction: nothing of it is stored
        raise UserError(nothing_imported(session, lead_list, c.rows, c.duplicates, c.rejected, display))
    return ImportResult(rows=c.rows, accepted=c.accepted, duplicates=c.duplicates, rejected=c.rejected,
                        suppressed=c.suppressed, list_id=lead_list.id, list_name=name, campaign=campaign.name,
                        suppressed_by=dict(c.suppressed_by), sha256=sha, source=table.describe(),
                        mapping=columns.describe(), blank_lines=blank)


def _run_inline(table: Table, columns: ColumnMap, target: Target, existing: set[int], scrub: Scrubber | None,
                data: Iterator[tuple[int, list[str]]], writer: BulkWriter, progress: Progress | None) -> Counts:
    processor = RowProcessor(target, columns, existing, scrub)
    try:
        with gc_paused():
            for batch in _batches(data):
                leads, rejects = processor.process(batch)
                writer.rejects(rejects)
                writer.leads(leads)
                if progress:
                    progress(processor.counts.rows, table.bytes_done(), table.total_bytes)
    finally:
        processor.close()
    return processor.counts


def _run_parallel(table: Table, columns: ColumnMap, target: Target, existing: set[int], scrub: Scrubber | None,
                  writer: BulkWriter, progress: Progress | None, display: str) -> tuple[Counts, int]:
    """The same rows as ``_run_inline``, parsed by a second process (``parallel``); scrubbed and written here."""
    parser = ChildParser(table.path, display, columns, target, existing, BATCH)
    scrubbed = Counts()  # what the scrub moved from accepted to suppressed
    try:
        with gc_paused():
            for batch in parser:
                leads = scrub_leads(batch.leads, scrub, scrubbed) if scrub is not None and batch.leads else batch.leads
                writer.rejects(batch.rejects)
                writer.leads(leads)
                if progress:
                    progress(batch.rows, batch.bytes_done, table.total_bytes)
    finally:
        parser.close()
    c = parser.counts
    c.accepted += scrubbed.accepted
    c.suppressed, c.suppressed_by = scrubbed.suppressed, scrubbed.suppressed_by
    return c, parser.blank


def _record(scrubber: Scrubber | None, session: Session, result: ImportResult) -> None:
    """The scrubber's record of this list load (the DNC engine's scrub-ledger record), written in the import's own
    transaction: it commits with the list or not at all, and needs no second connection (on SQLite that one would
    wait for the write lock this transaction holds)."""
    record = getattr(scrubber, "record", None)
    if callable(record):
        record(session, list_ref=f"{result.campaign}/{result.list_name} ({result.source})", file_sha256=result.sha256)


def _bound(scrubber: Scrubber | None, session: Session) -> Scrubber | None:
    """Let a scrubber that can read through our session do so: the import holds the database's write lock (SQLite
    allows one writer), so a second connection of its own would wait for us; one session also means one snapshot."""
    scrub = getattr(scrubber, "scrub", None)
    if scrubber is None or not callable(scrub):
        return scrubber
    return lambda candidates: scrub(session, candidates)


@contextmanager
def gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while rows stream through.

    An import allocates millions of small lists and tuples, none of them in cycles; the collector would
    rescan the growing set of seen numbers again and again and costs about half of the parsing time.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _serialize(session: Session, campaign: Campaign) -> None:
    """One import at a time where their dedupe could meet: the same-file refusal and the dedupe read what earlier
    imports committed, so two imports running at once would each miss the other (one file imported at once from
    two consoles made two lists and every lead twice). On PostgreSQL a transaction advisory lock per campaign, taken
    before anything is read, plus one shared by every import that a ``system``-scope import takes alone (it dedupes
    against every campaign); the second import waits, then sees the first's list and leads. SQLite's one writer
    serializes imports already (the import's transaction holds the write lock from its first statement)."""
    if session.get_bind().dialect.name != "postgresql":
        return
    every = func.hashtext("lead-import")
    if campaign.dedupe_scope == "system":
        session.execute(select(func.pg_advisory_xact_lock(every)))
    else:
        session.execute(select(func.pg_advisory_xact_lock_shared(every)))
        session.execute(select(func.pg_advisory_xact_lock(func.hashtext(f"lead-import:{campaign.id}"))))


def _refuse_repeat(session: Session, campaign: Campaign, sha: str, display: str, force: bool) -> None:
    if force:
        return
    earlier = session.scalars(select(LeadList).where(LeadList.campaign_id == campaign.id, LeadList.sha256 == sha)
                              .order_by(LeadList.id).limit(1)).first()
    if earlier is not None:
        raise UserError(f"{display}: this file (same SHA-256) was already imported into campaign {campaign.name!r} "
                        f"as list {earlier.name!r} on "
                        f"{earlier.uploaded_at.astimezone(ZoneInfo(campaign.timezone)):%Y-%m-%d %H:%M %Z}; "
                        "import it again only on purpose, with force")


def _list_name(session: Session, campaign: Campaign, wanted: str | None, display: str) -> str:
    taken = set(session.scalars(select(LeadList.name).where(LeadList.campaign_id == campaign.id)))
    if wanted is not None:
        wanted = plain_name("list name", wanted)
        if wanted in taken:
            raise UserError(f"campaign {campaign.name!r} already has a list named {wanted!r}; choose another list name")
        return wanted[:200]
    base = one_line(Path(display).stem)[:180] or "list"  # a file's name may hold anything a file system allows
    name, n = base, 2
    while name in taken:
        name, n = f"{base} ({n})", n + 1
    return name


def _batches(data: Iterator[tuple[int, list[str]]]) -> Iterator[list[tuple[int, list[str]]]]:
    it = iter(data)
    while batch := list(islice(it, BATCH)):
        yield batch


def lists_of(session: Session, campaign_name: str) -> list[dict]:
    """The campaign's lists with their counts, oldest first."""
    campaign = get_campaign(session, campaign_name)
    out = []
    for lst in session.scalars(select(LeadList).where(LeadList.campaign_id == campaign.id).order_by(LeadList.id)):
        out.append({"id": lst.id, "name": lst.name, "file": lst.source_filename, "uploaded_at": lst.uploaded_at,
                    "uploaded_by": lst.uploaded_by, "rows": lst.rows, "accepted": lst.accepted,
                    "duplicates": lst.duplicates, "rejected": lst.rejected, "suppressed": lst.suppressed,
                    "sha256": lst.sha256})
    return out


def get_list(session: Session, campaign_name: str, list_name: str) -> LeadList:
    campaign = get_campaign(session, campaign_name)
    lst = session.scalars(select(LeadList).where(LeadList.campaign_id == campaign.id,
                                                 LeadList.name == list_name)).first()
    if lst is None:
        names: Sequence[str] = session.scalars(select(LeadList.name).where(LeadList.campaign_id == campaign.id)).all()
        hint = f" (lists: {', '.join(names)})" if names else " (it has no lists yet)"
        raise UserError(f"campaign {campaign.name!r} has no list named {list_name!r}{hint}")
    return lst
