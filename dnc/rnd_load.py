"""Loading Reassigned Numbers Database data: CSV ``number,disconnected_on``, one version per load, all or nothing.

Files come from the RND (the disconnections found for the numbers asked about) or from bulk disconnect files, and
can be large, so the file is read a row at a time and written in batches inside a savepoint: memory stays bounded,
and a file with more bad lines than tolerated leaves nothing behind, the error naming the file and, for each of the
first bad lines, its line, column and field.
"""

from __future__ import annotations

import csv
import os
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from dnc import ledger
from dnc.errors import UserError
from dnc.parsing import Malformed, number_digits, sha256_of
from dnc.tables import ListLoad, RndEntry

RND = "rnd"  # the ``ListLoad.source`` of an RND load
MODES = ("full", "changes")  # a whole new version, or disconnections added to the version in force
BATCH = 5_000
FORMATS = ("%Y-%m-%d", "%Y%m%d", "%m/%d/%Y")
EXPECTED = "expected 2 columns: number, disconnected_on (the permanent-disconnect date)"


def _rows(path: str | os.PathLike) -> Iterator[tuple[int, list[str]]]:
    """(line number, cells) of every non-blank, non-comment row; decoded a line at a time, so a line that is not
    UTF-8 is named exactly."""
    p = Path(path)
    try:
        f = p.open("rb")
    except OSError as e:
        raise UserError(f"{p}: cannot read ({e.strerror})") from None

    def lines() -> Iterator[str]:
        for n, raw in enumerate(f, 1):
            try:
                yield raw.decode("utf-8-sig" if n == 1 else "utf-8")
            except UnicodeDecodeError:
                raise UserError(f"{p}: line {n}: not UTF-8 text (is this the right file?)") from None

    with f:
        reader = csv.reader(lines())
        try:
            for row in reader:
                if any(c.strip() for c in row) and not row[0].lstrip().startswith("#"):
                    yield reader.line_num, row
        except csv.Error as e:
            raise UserError(f"{p}: line {reader.line_num}: not CSV ({e})") from None


def parse_day(text: str) -> date | None:
    """2029-06-01, 20290601 or 06/01/2029 (the order US files use); None for anything else."""
    for fmt in FORMATS:
        try:
            return datetime.strptime(text.strip(), fmt).date()
        except ValueError:
            continue
    return None


def _parse(row: list[str], version_date: date) -> tuple[str, date] | str:
    """(10 digits, day), or why the row is wrong (column and field named)."""
    if len(row) != 2:
        return f"has {len(row)} column(s); {EXPECTED}"
    digits = number_digits(row[0].strip())
    if digits is None:
        return f"column 1 (number): {row[0].strip()!r} is not a 10-digit North American number"
    day = parse_day(row[1])
    if day is None:
        return f"column 2 (disconnected_on): {row[1].strip()!r} is not a date (2029-06-01, 20290601 or 06/01/2029)"
    if day > version_date:
        return f"column 2 (disconnected_on): {day} is after the data's version date {version_date}"
    return digits, day


def load_rnd(session: Session, path: str | os.PathLike, *, version_date: date, loaded_by: str, now: datetime,
             mode: str = "full", vendor: str = "", max_malformed: int = 0) -> ListLoad:
    """Load RND data as a new version: ``full`` (the operator's whole RND data) or ``changes`` (added to the data
    in force). ``version_date`` is the day the data are as of (their age is judged by it). All or nothing."""
    if mode not in MODES:
        raise UserError(f"an RND load is full or changes, not {mode!r}")
    if version_date > now.date():
        raise UserError(f"version date {version_date} is in the future (today is {now.date()})")
    digest = sha256_of(path)
    bad = Malformed(str(path))
    load = ListLoad(source=RND, list_key="", mode=mode, version_date=version_date, file_name=Path(path).name[:400],
                    sha256=digest, lines=0, count=0, added=0, deleted=0, malformed=0, vendor=vendor[:120],
                    loaded_at=now, loaded_by=loaded_by[:120])
    with session.begin_nested():  # a bad file, or any error, rolls all of it back
        session.add(load)
        session.flush()
        batch: list[dict] = []
        lines, first = 0, True
        for n, row in _rows(path):
            if first and not any(ch.isdigit() for ch in row[0]):
                first = False  # a header row: no digit in the number column
                continue
            first = False
            lines += 1
            parsed = _parse(row, version_date)
            if isinstance(parsed, str):
                bad.add(n, ",".join(row), parsed)
            elif bad.count <= max_malformed:  # past the tolerance the load fails: only count what follows
                batch.append({"load_id": load.id, "value": parsed[0], "disconnected_on": parsed[1]})
                if len(batch) >= BATCH:
                    session.execute(insert(RndEntry), batch)
                    batch = []
        bad.check(max_malformed, "Reassigned Numbers Database data")
        if batch:
            session.execute(insert(RndEntry), batch)
        load.lines = lines
        first = load.id if mode == "full" else session.scalar(
            select(func.max(ListLoad.id)).where(ListLoad.source == RND, ListLoad.mode == "full",
                                                ListLoad.id < load.id)) or 0
        numbers = select(func.count(func.distinct(RndEntry.value)))
        load.added = session.scalar(numbers.where(RndEntry.load_id == load.id)) or 0
        load.count = session.scalar(numbers.where(RndEntry.load_id >= first, RndEntry.load_id <= load.id)) or 0
        load.malformed = bad.count
        session.flush()
    ledger.append(session, "list_load", at=now, actor=loaded_by,
                  payload={"load_id": load.id, "source": RND, "list_key": "", "mode": mode,
                           "version_date": str(version_date), "sha256": digest, "file": load.file_name,
                           "lines": load.lines, "count": load.count, "malformed": bad.count, "vendor": load.vendor})
    return load
