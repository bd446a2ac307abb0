"""How big a lead file's parts may be, checked while it is read, before the work they would cost.

A 10 MB header line (1.3 M columns) once cost the mapping page 141 s and 3 GB, and a 0.93 MB XLSX zip bomb 1.2 GB and
106 s in the CLI. Every bound here is far beyond a real lead list and is refused with one line naming the file and
the line (and the column where there is one), before the rows are kept, so memory stays bounded whatever arrives:

- a row (one record, however many physical lines its quoted cells span) of at most ``MAX_ROW_BYTES``, read with a
  bounded ``readline`` so even a file that is one endless line never sits whole in memory;
- at most ``MAX_COLUMNS`` cells in a row (an XLSX row is read no wider);
- a cell of at most ``MAX_CELL`` characters (Excel's own limit);
- at most ``DIALER_IMPORT_MAX_ROWS`` rows;
- an XLSX whose parts unpack to more than ``DIALER_IMPORT_MAX_BYTES``, or that is mostly air (unpacking to over
  ``MAX_RATIO`` times its size, past ``RATIO_FROM`` bytes), or whose shared strings (held in memory while the sheet is
  read) unpack to over ``MAX_SHARED_STRINGS``, is refused from its zip directory before anything is unpacked.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

from dnc import settings
from dnc.errors import UserError

MAX_COLUMNS = 1_000
MAX_CELL = 32_767
MAX_ROW_BYTES = 1 << 20
MAX_RATIO = 200
RATIO_FROM = 64 << 20
MAX_SHARED_STRINGS = 128 << 20


def max_rows() -> int:
    return settings.current().import_max_rows


class RowGuard:
    """Shared by a text table's line source and its row parser: the bytes (or UTF-16 characters) the current row
    has taken so far, so the line source can stop an endless row and the parser look at cell sizes only in the rare
    row long enough to hold a cell over the limit."""

    __slots__ = ("size", "line", "rows", "name", "most_rows")

    def __init__(self, name: str) -> None:
        self.size, self.line, self.rows, self.name = 0, 1, 0, name
        self.most_rows = max_rows() + 1  # the header line aside; read once (a setting's lookup costs per row)

    def take(self, length: int) -> None:
        """A physical line of ``length`` joins the current row (``readline`` was asked for one unit more than
        ``MAX_ROW_BYTES``, so a longer line shows here whole or cut)."""
        self.size += length
        if self.size > MAX_ROW_BYTES:
            raise UserError(f"{self.name} line {self.line}: a row longer than {MAX_ROW_BYTES:,} bytes; a lead "
                            "list's rows are far shorter (thousands of columns, an unbalanced quote, or not a list)")

    def row_done(self, line: int, next_line: int, cells: list[str], header: list[str] | None) -> None:
        """Check the row that starts on ``line`` and get ready for the one on ``next_line``."""
        if len(cells) > MAX_COLUMNS:
            raise UserError(f"{self.name} line {line}: {len(cells):,} columns, more than the {MAX_COLUMNS:,} a lead "
                            "list may have")
        if self.size > MAX_CELL:
            check_cells(self.name, line, cells, header)
        self.rows += 1
        if self.rows > self.most_rows:
            too_many_rows(self.name, line)
        self.size, self.line = 0, next_line


def too_many_rows(name: str, line: int) -> None:
    raise UserError(f"{name} line {line}: more than {max_rows():,} rows; split the file "
                    "(or raise DIALER_IMPORT_MAX_ROWS)")


def check_cells(name: str, line: int, cells: list[str], header: list[str] | None) -> None:
    for i, cell in enumerate(cells):
        if len(cell) > MAX_CELL:
            title = header[i].strip() if header and i < len(header) and header[i].strip() else None
            column = f"column {i + 1}" + (f" ({title})" if title else "")
            raise UserError(f"{name} line {line}, {column}: a cell of {len(cell):,} characters, more than the "
                            f"{MAX_CELL:,} a cell may hold")


def check_xlsx(path: Path, name: str) -> None:
    """Refuse a workbook that would unpack to too much, from its zip directory alone (nothing is unpacked)."""
    limit = settings.current().import_max_bytes
    try:
        with zipfile.ZipFile(path) as z:
            parts = z.infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as e:
        raise UserError(f"{name}: not a readable XLSX workbook ({type(e).__name__})") from None
    packed = path.stat().st_size
    unpacked = sum(p.file_size for p in parts)
    if unpacked > limit:
        raise UserError(f"{name}: the workbook unpacks to {unpacked:,} bytes, above the {limit:,} limit "
                        "(save it as CSV, or split it)")
    if unpacked > RATIO_FROM and unpacked > MAX_RATIO * packed:
        raise UserError(f"{name}: the workbook unpacks to {unpacked:,} bytes from {packed:,} "
                        f"({unpacked // max(packed, 1):,} times its size): not a lead list (a zip bomb?)")
    strings = sum(p.file_size for p in parts if p.filename.lower().endswith("sharedstrings.xml"))
    if strings > MAX_SHARED_STRINGS:
        raise UserError(f"{name}: the workbook's shared strings unpack to {strings:,} bytes, above the "
                        f"{MAX_SHARED_STRINGS:,} read into memory (save it as CSV)")
