"""Finding 5 of issue 15: columns, cell sizes, row length, row count and an XLSX's unpacked size are bounded while
the file is read, each refused with one line naming the file, the line and the column; memory stays small; nothing
of a refused import is stored (CLI: exit status 2)."""

from __future__ import annotations

import json
import tracemalloc
import zipfile

import pytest
from openpyxl import Workbook

from campaigns.leadimport import bounds
from campaigns.leadimport.reader import open_table
from campaigns.leadimport.service import import_leads
from dnc.errors import UserError

LEADS = "Name,Phone,Note\nAnn,2127364421,a\nBob,2127364422,b\n"


def _read_all(path) -> int:
    table = open_table(path)
    try:
        return sum(1 for _ in table.rows)
    finally:
        table.close()


def _refused(path) -> str:
    with pytest.raises(UserError) as e:
        _read_all(path)
    return str(e.value)


def test_a_ten_megabyte_header_line_is_refused_at_line_1_in_little_memory(tmp_path):
    path = tmp_path / "wide.csv"
    path.write_text(",".join(f"c{i}" for i in range(1_300_000)) + "\n2127364421\n")
    assert path.stat().st_size > 10_000_000
    tracemalloc.start()
    try:
        msg = _refused(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert msg.startswith("wide.csv line 1: a row longer than 1,048,576 bytes")
    assert peak < 8 << 20  # one bounded line read, not the 10 MB line and its 1.3 M cells


@pytest.mark.parametrize("encoding", ["utf-8", "utf-16"])
def test_more_columns_than_a_lead_list_has_are_refused(tmp_path, encoding):
    path = tmp_path / "cols.csv"
    path.write_bytes((",".join(f"c{i}" for i in range(1_500)) + "\n2127364421\n").encode(encoding))
    assert _refused(path) == "cols.csv line 1: 1,500 columns, more than the 1,000 a lead list may have"


def test_a_row_that_never_ends_is_refused_at_the_line_it_starts(tmp_path):
    path = tmp_path / "quote.csv"  # an unbalanced quote on line 4 swallows the rest of the file, line by line
    path.write_text(LEADS + 'Cy,2127364423,"open\n' + "".join(f"Dee,21273{i:05d},x\n" for i in range(90_000)))
    assert _refused(path).startswith("quote.csv line 4: a row longer than 1,048,576 bytes")


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_a_cell_over_excels_limit_names_its_line_and_column(tmp_path, fmt):
    rows = [["Name", "Phone", "Note"], ["Ann", "2127364421", "ok"], ["Bob", "2127364422", "x" * 40_000]]
    if fmt == "csv":
        path = tmp_path / "big.csv"
        path.write_text("".join(",".join(r) + "\n" for r in rows))
    else:  # openpyxl (like Excel) cuts a cell at 32,767 characters: this sheet is written by hand
        path = tmp_path / "big.xlsx"
        cells = "".join(f'<row r="{n}">' + "".join(f'<c r="{c}{n}" t="inlineStr"><is><t>{v}</t></is></c>'
                                                  for c, v in zip("ABC", r, strict=True)) + "</row>"
                        for n, r in enumerate(rows, start=1))
        _workbook_with_sheet(path, [SHEET_HEAD, cells.encode(), SHEET_TAIL])
    assert _refused(path) == (f"big.{fmt} line 3, column 3 (Note): a cell of 40,000 characters, more than the 32,767 "
                              "a cell may hold")


def test_a_sheet_wider_than_a_lead_list_is_refused_before_a_row_is_read(tmp_path):
    wb = Workbook()
    wb.active.append(["Name", "Phone"])
    wb.active.cell(row=2, column=2_000, value="far away")
    path = tmp_path / "wide.xlsx"
    wb.save(path)
    assert _refused(path) == ("wide.xlsx: the sheet is 2,000 columns wide, more than the 1,000 a lead list may have "
                              "(delete the unused columns, or save it as CSV)")


SHEET_HEAD = (b'<?xml version="1.0"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
              b"<sheetData>")
SHEET_TAIL = b"</sheetData></worksheet>"


def _workbook_with_sheet(path, sheet_xml_chunks, extra: dict[str, bytes] | None = None) -> None:
    """A valid workbook whose first sheet is replaced by the given XML, written in chunks (never whole in memory)."""
    src = path.with_suffix(".src.xlsx")
    wb = Workbook()
    wb.active.append(["Phone"])
    wb.save(src)
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zout:
        for item in zin.infolist():
            if item.filename == "xl/worksheets/sheet1.xml":
                with zout.open(item.filename, "w", force_zip64=True) as f:
                    for chunk in sheet_xml_chunks:
                        f.write(chunk)
            else:
                zout.writestr(item, zin.read(item.filename))
        for name, data in (extra or {}).items():
            zout.writestr(name, data)


def test_an_xlsx_zip_bomb_is_refused_from_its_directory(tmp_path):
    path = tmp_path / "bomb.xlsx"
    _workbook_with_sheet(path, [SHEET_HEAD, b"<!--", *([b" " * (1 << 20)] * 100), b"-->", SHEET_TAIL])
    assert path.stat().st_size < 1 << 20
    msg = _refused(path)
    assert msg.startswith("bomb.xlsx: the workbook unpacks to ") and msg.endswith("not a lead list (a zip bomb?)")


def test_an_xlsx_unpacking_past_the_size_limit_or_with_huge_shared_strings_is_refused(tmp_path, setenv, monkeypatch):
    path = tmp_path / "list.xlsx"
    strings = b'<?xml version="1.0"?><sst>' + b"".join(b"<si><t>Lead %d</t></si>" % i for i in range(300)) + b"</sst>"
    _workbook_with_sheet(path, [SHEET_HEAD, SHEET_TAIL], {"xl/sharedStrings.xml": strings})
    monkeypatch.setattr(bounds, "MAX_SHARED_STRINGS", 1_000)
    assert _refused(path).startswith("list.xlsx: the workbook's shared strings unpack to ")
    setenv(DIALER_IMPORT_MAX_BYTES=str(path.stat().st_size + 10))
    assert _refused(path).startswith("list.xlsx: the workbook unpacks to ")


@pytest.mark.parametrize("parallel", [False, True], ids=["inline", "child-parser"])
def test_more_rows_than_allowed_store_nothing(sessions, clock, tmp_path, setenv, parallel):
    from campaigns.campaign.service import create_campaign
    from tests.campaigns.leadimport.test_nothing_imported import _stored

    with sessions.begin() as s:
        create_campaign(s, "Spring", "+12125550100", clock.now())
    setenv(DIALER_IMPORT_MAX_ROWS="5")
    path = tmp_path / "seven.csv"
    path.write_text("Phone\n" + "".join(f"212736{i:04d}\n" for i in range(7)))
    with pytest.raises(UserError, match="^seven.csv line 7: more than 5 rows; split the file"):
        import_leads(sessions, "Spring", path, now=clock.now(), parallel=parallel)
    assert _stored(sessions) == (0, 0, 0, 0)
    path.write_text("Phone\n" + "".join(f"212736{i:04d}\n" for i in range(5)))
    assert import_leads(sessions, "Spring", path, now=clock.now(), parallel=parallel).accepted == 5


def test_the_cli_refuses_with_one_line_and_status_2(dialer, tmp_path):
    assert dialer("campaigns", "create", "Spring", "--caller-id", "+12125550100").code == 0
    path = tmp_path / "cols.csv"
    path.write_text(",".join(f"c{i}" for i in range(1_001)) + "\n2127364421\n")
    r = dialer("leads", "import", path, "--campaign", "Spring")
    assert (r.code, r.err) == (2, "error: cols.csv line 1: 1,001 columns, more than the 1,000 a lead list may have\n")
    assert json.loads(dialer("leads", "lists", "--campaign", "Spring", "--json").out)["lists"] == []
