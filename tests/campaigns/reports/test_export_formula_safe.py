"""Finding 4 of issue 15: every text cell of every export is formula-safe (the XLSX About sheet too), and phone
numbers stay plain numbers a spreadsheet shows and a re-import reads (no leading apostrophe)."""

from __future__ import annotations

import io

from openpyxl import load_workbook

from campaigns.leadimport.export import formula_safe
from campaigns.reports.export import append_text, safe_cell


def test_phone_numbers_are_not_prefixed_but_formulas_are():
    for number in ("+12125550123", "2125550123", "+447911123456"):
        assert safe_cell(number) == number and formula_safe(number) == number
    for formula in ("=HYPERLINK(\"http://evil\")", "+cmd|' /C calc'!A0", "-2+3", "@SUM(1+1)", "+1 212 555 0123",
                    "=1+1", "\t=1"):
        assert safe_cell(formula) == "'" + formula and formula_safe(formula) == "'" + formula


def test_the_about_sheet_keeps_a_formula_looking_name_as_text():
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    append_text(ws, ["campaign", '=HYPERLINK("http://evil","click")', 3])
    out = io.BytesIO()
    wb.save(out)
    cell = load_workbook(io.BytesIO(out.getvalue())).active["B1"]
    assert cell.data_type == "s" and cell.value == '=HYPERLINK("http://evil","click")'
