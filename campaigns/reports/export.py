"""A report as CSV (formula-safe), XLSX, JSON or display text, from its typed columns.

CSV and JSON carry raw values (rates as fractions, empty/null where the denominator was zero) for scripts and
CRMs; XLSX stores the same numbers with number formats (rates as percentages) and a sheet of definitions;
display text shows rates as percentages and "—" where there is nothing to measure.
"""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path
from typing import IO

from campaigns.reports.base import Column, Report
from campaigns.reports.metrics import GLOSSARY, percent

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
DASH = "—"
PLAIN_NUMBER = re.compile(r"\+?[0-9]+")
XLSX_FORMATS = {"rate": "0.0%", "seconds": "[h]:mm:ss", "number": "0.00", "int": "0"}


def safe_cell(value: str) -> str:
    """Quote text a spreadsheet would run as a formula (= + - @, tab, CR) with a leading apostrophe."""
    if not value.startswith(FORMULA_START) or PLAIN_NUMBER.fullmatch(value):
        return value  # a phone number ("+" and digits) is no formula: it stays as it is
    return "'" + value


def plain(value) -> object:
    """A value as CSV/XLSX holds it: dicts (suppressed by reason) become ``reason=n; reason=n``."""
    if isinstance(value, dict):
        return "; ".join(f"{k}={v}" for k, v in value.items())
    return value


def to_csv(report: Report, out: IO[str]) -> None:
    w = csv.writer(out, lineterminator="\n")
    w.writerow([c.key for c in report.columns])
    for row in report.rows:
        cells = []
        for c in report.columns:
            v = plain(row.get(c.key))
            if v is None:
                cells.append("")
            elif isinstance(v, str):
                cells.append(safe_cell(v))
            elif isinstance(v, float):
                cells.append(repr(v))
            else:
                cells.append(v)
        w.writerow(cells)


def csv_text(report: Report) -> str:
    buf = io.StringIO()
    to_csv(report, buf)
    return buf.getvalue()


def to_json(report: Report) -> str:
    return json.dumps(report.payload(), default=str, ensure_ascii=False)


def to_xlsx(report: Report | list[Report], target: str | Path | IO[bytes]) -> None:
    """A sheet per report (typed cells, never formulas) and an "About" sheet with the range and the definitions."""
    from openpyxl import Workbook

    reports = report if isinstance(report, list) else [report]
    wb = Workbook()
    wb.remove(wb.active)
    for rep in reports:
        _sheet(wb, rep)
    about = wb.create_sheet("About")
    for rep in reports:
        for line in about_lines(rep):
            append_text(about, list(line))  # a campaign named "=HYPERLINK(...)" stays a name
        about.append([])
    wb.save(target)


def append_text(ws, values: list) -> None:
    """Append a row whose text cells stay text: openpyxl stores a string starting with "=" as a live formula."""
    ws.append(values)
    for cell in ws[ws.max_row]:
        if isinstance(cell.value, str):
            cell.data_type = "s"


def _sheet(wb, report: Report) -> None:
    from openpyxl.styles import Font

    from campaigns.reports.sheet import rows_of

    ws = wb.create_sheet(report.name[:31])
    ws.append([c.label for c in report.columns])
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for r, row in enumerate(rows_of(report), start=2):
        for i, c in enumerate(report.columns, start=1):
            v = xlsx_value(c, row.get(c.key))
            cell = ws.cell(row=r, column=i)
            cell.value = v
            if isinstance(v, str):
                cell.data_type = "s"  # text stays text: openpyxl would otherwise store "=..." as a formula
            elif v is not None and c.kind in XLSX_FORMATS:
                cell.number_format = XLSX_FORMATS[c.kind]
    for i, c in enumerate(report.columns, start=1):
        ws.column_dimensions[ws.cell(row=1, column=i).column_letter].width = max(10, min(40, len(c.label) + 2))


def xlsx_value(c: Column, v) -> object:
    """As the page shows it: rates rounded to 0.1 % (the cell formats them as a percentage), durations as a
    spreadsheet time (days, formatted h:mm:ss), reason codes in words."""
    if isinstance(v, dict):
        from campaigns.reports.sheet import reason_words

        return "; ".join(f"{reason_words(str(k))}: {n}" for k, n in v.items())
    if v is None or isinstance(v, str):
        return v
    if c.kind == "rate":
        return round(v, 3)
    if c.kind == "seconds":
        return round(v) / 86400
    return v


def about_lines(report: Report) -> list[tuple[str, str]]:
    p = report.period
    lines: list[tuple[str, str]] = [("report", report.title), ("campaign", report.campaign),
                   ("range", f"{p.first_day} .. {p.last_day} ({p.tz})")]
    lines += [("note", n) for n in report.notes]
    for c in report.columns:
        if c.key in GLOSSARY:
            lines.append((c.label, GLOSSARY[c.key]))
    return lines


def display(column: Column, value) -> str:
    """How a value reads in a terminal table or on the console."""
    if value is None:
        return DASH
    if isinstance(value, dict):
        return ", ".join(f"{k} {v}" for k, v in value.items()) or "-"
    if column.kind == "rate":
        return f"{percent(value):.1f}%"
    if column.kind == "seconds":
        return f"{value:.1f}"
    if column.kind == "number":
        return f"{value:.2f}"
    return str(value)


def display_rows(report: Report) -> list[dict[str, str]]:
    return [{c.label: display(c, row.get(c.key)) for c in report.columns} for row in report.rows]
