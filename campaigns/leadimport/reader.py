"""Read a lead file as rows of text cells with the line each row starts on, streaming, whatever its format.

CSV/TSV/pipe/semicolon text in UTF-8 (with or without BOM), UTF-16 or Windows-1252, and XLSX through
openpyxl's read-only mode. Nothing here holds the whole file: memory stays flat however large it is. Every
problem becomes a ``UserError`` naming the file and, where there is one, the line.
"""

from __future__ import annotations

import codecs
import csv
import io
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time
from itertools import islice
from pathlib import Path

from campaigns.leadimport.bounds import (
    MAX_CELL,
    MAX_COLUMNS,
    MAX_ROW_BYTES,
    RowGuard,
    check_cells,
    check_xlsx,
    max_rows,
    too_many_rows,
)
from campaigns.leadimport.mapping import is_header
from dnc import settings
from dnc.errors import UserError

DEFAULT_MAX_BYTES = 2 * 1024**3
SNIFF_BYTES = 256 * 1024
DELIMITERS = (",", "\t", "|", ";")
DELIMITER_NAMES = {",": "comma", "\t": "tab", "|": "pipe", ";": "semicolon"}
FIELD_LIMIT = 1024 * 1024

csv.field_size_limit(FIELD_LIMIT)


def max_bytes() -> int:
    """Largest file accepted (``DIALER_IMPORT_MAX_BYTES``): beyond it an upload is refused up front."""
    return settings.current().import_max_bytes


@dataclass
class Table:
    """An open lead file: its detected shape and a one-shot iterator of ``(line, cells)``."""

    path: Path
    display_name: str
    kind: str  # csv | xlsx
    total_bytes: int
    encoding: str | None = None
    delimiter: str | None = None
    rows: Iterator[tuple[int, list[str]]] = field(default_factory=lambda: iter(()))
    position: Callable[[], int] | None = None
    closer: Callable[[], None] | None = None

    def bytes_done(self) -> int:
        return int(self.position()) if self.position else 0

    def close(self) -> None:
        if self.closer:
            self.closer()

    def describe(self) -> str:
        if self.kind == "xlsx":
            return "XLSX"
        return f"{DELIMITER_NAMES.get(self.delimiter or ',', 'comma')}-separated text, {self.encoding}"


def open_table(path: str | os.PathLike, display_name: str | None = None, limit: int | None = None) -> Table:
    """Detect the format of ``path`` and return a streaming ``Table``; raise ``UserError`` on unreadable input."""
    path = Path(path)
    name = display_name or path.name
    try:
        size = path.stat().st_size
        if path.is_dir():
            raise UserError(f"{name}: is a directory, not a lead file")
    except FileNotFoundError:
        raise UserError(f"{name}: no such file") from None
    except PermissionError:
        raise UserError(f"{name}: permission denied") from None
    limit = max_bytes() if limit is None else limit
    if size == 0:
        raise UserError(f"{name}: the file is empty")
    if size > limit:
        raise UserError(f"{name}: the file is {_human(size)}, above the {_human(limit)} limit "
                        "(split it, or raise DIALER_IMPORT_MAX_BYTES)")
    with path.open("rb") as f:
        head = f.read(SNIFF_BYTES)
    if head.startswith(b"PK\x03\x04"):
        return _open_xlsx(path, name, size)
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        raise UserError(f"{name}: this is a legacy Excel .xls workbook; save it as .xlsx or CSV and upload that")
    encoding = _detect_encoding(head, name)
    sample = _decode_sample(head, encoding, size <= SNIFF_BYTES)
    _refuse_binary(sample, name)
    delimiter = _detect_delimiter(sample, path.suffix.lower())
    return _open_text(path, name, size, encoding, delimiter)


def _human(n: int) -> str:
    for unit in ("bytes", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.1f} {unit}" if unit != "bytes" else f"{n} bytes"
        n /= 1024
    return f"{n} bytes"


def _detect_encoding(head: bytes, name: str) -> str:
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    sample = head[:4096]
    if len(sample) >= 4 and sample.count(0):
        even, odd = sample[0::2].count(0), sample[1::2].count(0)
        if odd > len(sample) * 0.35 and even == 0:
            return "utf-16-le"
        if even > len(sample) * 0.35 and odd == 0:
            return "utf-16-be"
        raise UserError(f"{name}: binary data, not a CSV, TSV or XLSX lead list")
    try:
        codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
        return "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        head.decode("cp1252")
        return "cp1252"
    except UnicodeDecodeError as e:
        line = head[: e.start].count(b"\n") + 1
        raise UserError(f"{name} line {line}: byte 0x{head[e.start]:02x} is neither UTF-8 nor Windows-1252; "
                        "save the file as UTF-8") from None


def _decode_sample(head: bytes, encoding: str, complete: bool) -> str:
    dec = codecs.getincrementaldecoder(encoding)(errors="replace")
    text = dec.decode(head, final=complete)
    if not complete and "\n" in text:
        text = text[: text.rindex("\n") + 1]
    return text


def _refuse_binary(sample: str, name: str) -> None:
    if "\x00" in sample:
        raise UserError(f"{name}: binary data, not a CSV, TSV or XLSX lead list")
    controls = sum(1 for ch in sample if ord(ch) < 32 and ch not in "\t\r\n")
    if controls > max(3, len(sample) // 100) or sample.count("\ufffd") > max(3, len(sample) // 50):
        raise UserError(f"{name}: binary data, not a CSV, TSV or XLSX lead list")


def _detect_delimiter(sample: str, suffix: str) -> str:
    """The delimiter that splits the first rows into the most, most consistent, columns."""
    if suffix == ".tsv":
        preferred = "\t"
    elif suffix == ".psv":
        preferred = "|"
    else:
        preferred = ","
    best, best_score = preferred, (0.0, 0)
    for d in DELIMITERS:
        try:
            widths = [len(r) for _, r in enumerate(islice(csv.reader(io.StringIO(sample), delimiter=d), 50)) if any(r)]
        except csv.Error:
            continue
        if not widths:
            continue
        top = max(set(widths), key=widths.count)
        if top < 2:
            continue
        score = (widths.count(top) / len(widths), top + (0.5 if d == preferred else 0))
        if score > best_score:
            best, best_score = d, score
    return best


def _open_text(path: Path, name: str, size: int, encoding: str, delimiter: str) -> Table:
    raw = path.open("rb")
    table = Table(path, name, "csv", size, encoding=encoding.replace("-sig", ""), delimiter=delimiter)
    table.position, table.closer = raw.tell, raw.close
    guard = RowGuard(name)
    if encoding.startswith("utf-16"):
        text = io.TextIOWrapper(raw, encoding=encoding, errors="strict", newline="")
        # the table owns the wrapper: left to the row generator, it was collected when the rows ran out and closed
        # the file under ``position`` (an import's last progress report failed: "I/O operation on closed file")
        table.closer = text.close
        lines: Iterator[str] = _bounded_lines(text.readline, guard)
    else:
        lines = _decoded_lines(raw, encoding, name, guard)
    table.rows = _text_rows(lines, name, delimiter, guard)
    return table


def _bounded_lines(readline: Callable[[int], str], guard: RowGuard) -> Iterator[str]:
    while line := readline(MAX_ROW_BYTES + 1):
        guard.take(len(line))
        yield line


def _decoded_lines(raw: io.BufferedReader, encoding: str, name: str, guard: RowGuard) -> Iterator[str]:
    """Decode line by line (``\n`` is one byte in UTF-8 and Windows-1252) so a bad byte names its own line; no line
    is read longer than a row may be (``bounds``)."""
    first = encoding == "utf-8-sig"
    readline, most = raw.readline, MAX_ROW_BYTES
    number = 0
    while data := readline(most + 1):
        number += 1
        guard.size += len(data)
        if guard.size > most:
            guard.take(0)  # raises, naming the row's first line
        try:
            yield data.decode("utf-8-sig" if first else encoding)
        except UnicodeDecodeError as e:
            label = "UTF-8" if encoding.startswith("utf-8") else "Windows-1252"
            raise UserError(f"{name} line {number}: byte 0x{data[e.start]:02x} is not valid {label} "
                            "(the file changes encoding mid-way?); save it as UTF-8") from None
        first = False


def _text_rows(lines: Iterator[str], name: str, delimiter: str, guard: RowGuard) -> Iterator[tuple[int, list[str]]]:
    reader = csv.reader(lines, delimiter=delimiter)
    line = 1
    header: list[str] | None = None
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return
        except UnicodeDecodeError as e:
            raise UserError(f"{name} near line {reader.line_num + 1}: undecodable byte 0x{e.object[e.start]:02x} "
                            f"as {e.encoding}; save it as UTF-8") from None
        except csv.Error as e:
            raise UserError(f"{name} line {line}: {_csv_problem(e)}") from None
        guard.row_done(line, reader.line_num + 1, cells, header)
        if header is None:  # names the column of an oversized cell
            header = cells if is_header(cells) else []
        yield line, cells
        line = reader.line_num + 1


def _csv_problem(e: csv.Error) -> str:
    msg = str(e)
    if "field larger" in msg:
        return f"a cell longer than {FIELD_LIMIT} characters (an unbalanced quote?)"
    if "NUL" in msg:
        return "binary data (NUL byte) in a text file"
    return msg


def _open_xlsx(path: Path, name: str, size: int) -> Table:
    import zipfile

    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    check_xlsx(path, name)
    raw = path.open("rb")
    try:
        # an open file, not the path: openpyxl refuses a path whose name does not end in .xlsx, and the content
        # (a zip, checked above) is what makes a workbook, whatever the upload was saved or named as
        wb = load_workbook(raw, read_only=True, data_only=False)
    except (InvalidFileException, zipfile.BadZipFile, KeyError, OSError, ValueError) as e:
        raw.close()
        raise UserError(f"{name}: not a readable XLSX workbook ({type(e).__name__})") from None
    ws = wb.active if wb.active is not None else wb.worksheets[0]
    total_rows = ws.max_row or 0
    try:
        _check_dimensions(ws, name)
    except UserError:
        wb.close()
        raw.close()
        raise
    table = Table(path, name, "xlsx", size)
    done = [0]
    table.position = lambda: size * min(done[0], total_rows) // total_rows if total_rows else 0

    def close() -> None:
        wb.close()
        raw.close()

    table.closer = close
    table.rows = _xlsx_rows(ws, name, done)
    return table


def _check_dimensions(ws, name: str) -> None:
    """The size the sheet declares, refused before a row is read (each row is read as wide as it says)."""
    if (ws.max_column or 0) > MAX_COLUMNS:
        raise UserError(f"{name}: the sheet is {ws.max_column:,} columns wide, more than the {MAX_COLUMNS:,} a lead "
                        "list may have (delete the unused columns, or save it as CSV)")
    if (ws.max_row or 0) > max_rows() + 1:
        too_many_rows(name, max_rows() + 2)


def _xlsx_rows(ws, name: str, done: list[int]) -> Iterator[tuple[int, list[str]]]:
    header: list[str] | None = None
    limit = max_rows() + 1
    try:
        for line, values in enumerate(ws.iter_rows(values_only=True), start=1):
            done[0] = line
            if len(values) > MAX_COLUMNS:  # a sheet without a declared size: each row is as wide as its last cell
                raise UserError(f"{name} line {line}: {len(values):,} columns, more than the {MAX_COLUMNS:,} a lead "
                                "list may have")
            if line > limit:
                too_many_rows(name, line)
            cells = [xlsx_text(v) for v in values]
            while cells and cells[-1] == "":
                cells.pop()
            if cells and max(map(len, cells)) > MAX_CELL:
                check_cells(name, line, cells, header)
            if header is None:
                header = cells if is_header(cells) else []
            yield line, cells
    except (KeyError, ValueError, TypeError) as e:
        raise UserError(f"{name}: the workbook is damaged near row {done[0] + 1} ({type(e).__name__})") from None


def xlsx_text(value) -> str:
    """A spreadsheet cell as the text a user sees: whole numbers without ``.0``, dates in ISO form."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    return str(value)
