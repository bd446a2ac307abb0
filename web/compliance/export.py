"""A compliance ``Sheet`` as CSV and as PDF, with the same columns, words and counts as the page.

PDF is drawn with fpdf2 (pure Python, no browser or system library needed by the server): landscape A4, the title,
the period and its zone, the summary counts and notes, then the table with its headings repeated on every page,
and "page N of M" with the time it was produced on every footer. Text is set in DejaVu Sans, which matplotlib
(already a dependency, for the report charts) ships, so dashes and accented names print as they are.
"""

from __future__ import annotations

import csv
import io
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import matplotlib
from fpdf import FPDF
from fpdf.fonts import FontFace

from campaigns.compliance.auditor import Column, Sheet, flat
from dnc.reports import safe_cell

FONT_DIR = Path(matplotlib.get_data_path()) / "fonts" / "ttf"
# relative widths of the columns by kind (text columns share the rest)
WIDTH = {"num": 0.8, "when": 1.35, "hash": 1.5, "reasons": 3.2, "text": 1.0}


def to_csv(sheet: Sheet) -> str:
    """UTF-8 with a BOM (spreadsheets then read accents right), a header of the column labels, formula-safe cells;
    the summary follows the rows after an empty line, so the counts travel with the data."""
    out = io.StringIO()
    out.write("\ufeff")
    w = csv.writer(out)
    w.writerow([c.label for c in sheet.columns])
    for r in sheet.rows:
        w.writerow([safe_cell(flat(c, r.get(c.key))) for c in sheet.columns])
    w.writerow([])
    w.writerow([sheet.title, sheet.period])
    for label, value in sheet.summary:
        w.writerow([safe_cell(label), safe_cell(value)])
    for note in sheet.notes:
        w.writerow([safe_cell(note)])
    return out.getvalue()


def _pdf_text(col: Column, value) -> str:
    text = flat(col, value)
    if col.kind == "hash" and len(text) > 32:  # a 64-digit hash breaks in two halves instead of running off
        return " ".join(text[i:i + 16] for i in range(0, len(text), 16))
    return text


class _Doc(FPDF):
    def __init__(self, sheet: Sheet, produced: str) -> None:
        super().__init__(orientation="L", unit="mm", format="A4")
        self.sheet, self.produced = sheet, produced
        self.add_font("DejaVu", "", str(FONT_DIR / "DejaVuSans.ttf"))
        self.add_font("DejaVu", "B", str(FONT_DIR / "DejaVuSans-Bold.ttf"))
        self.set_auto_page_break(True, margin=14)
        self.set_title(sheet.title)
        self.set_creator("opendialer")

    def footer(self) -> None:
        self.set_y(-11)
        self.set_font("DejaVu", size=7)
        self.cell(0, 5, f"{self.sheet.title} · {self.sheet.period} · produced {self.produced} · page "
                        f"{self.page_no()} of {{nb}}", align="C")


def to_pdf(sheet: Sheet, produced: datetime, zone: str, by: str) -> bytes:
    stamp = f"{produced.astimezone(ZoneInfo(zone)):%Y-%m-%d %H:%M %Z} by {by}"
    pdf = _Doc(sheet, stamp)
    pdf.add_page()
    pdf.set_font("DejaVu", "B", 15)
    pdf.multi_cell(0, 8, sheet.title, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("DejaVu", size=9)
    pdf.multi_cell(0, 5, sheet.period, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    for label, value in sheet.summary:
        pdf.set_font("DejaVu", "B", 9)
        pdf.cell(70, 5, label)
        pdf.set_font("DejaVu", size=9)
        pdf.cell(0, 5, value, new_x="LMARGIN", new_y="NEXT")
    for note in sheet.notes:
        pdf.ln(1)
        pdf.multi_cell(0, 4.5, note, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)
    if not sheet.rows:
        pdf.set_font("DejaVu", "B", 10)
        pdf.multi_cell(0, 6, sheet.empty, new_x="LMARGIN", new_y="NEXT")
        return bytes(pdf.output())
    pdf.set_font("DejaVu", size=7)
    widths = [c.width or WIDTH.get(c.kind, 1.0) for c in sheet.columns]
    heading = FontFace(emphasis="BOLD", fill_color=(230, 230, 230))
    with pdf.table(col_widths=widths, headings_style=heading, line_height=3.6, repeat_headings=1,
                   text_align="LEFT") as table:
        row = table.row()
        for c in sheet.columns:
            row.cell(c.label)
        for r in sheet.rows:
            row = table.row()
            for c in sheet.columns:
                row.cell(_pdf_text(c, r.get(c.key)))
    return bytes(pdf.output())
