"""Formats, encodings, delimiters, line numbers and every kind of bad input the reader must name."""

import pytest
from openpyxl import Workbook

from campaigns.leadimport.mapping import build_map, parse_map_option
from campaigns.leadimport.reader import open_table
from dnc.errors import UserError

ROWS = [["name", "phone", "note"], ["Zoë", "(212) 555-0123", "multi\nline, quoted"], ["Ann", "2125550124", "x"]]


def _text(rows, delimiter=","):
    out = []
    for r in rows:
        out.append(delimiter.join(f'"{c}"' if ("\n" in c or delimiter in c or "," in c) else c for c in r))
    return "\r\n".join(out) + "\r\n"


def _read(path):
    t = open_table(path)
    try:
        return t, list(t.rows)
    finally:
        t.close()


@pytest.mark.parametrize("encoding, label", [
    ("utf-8", "utf-8"), ("utf-8-sig", "utf-8"), ("utf-16", "utf-16"), ("cp1252", "cp1252"),
])
def test_encodings(tmp_path, encoding, label):
    p = tmp_path / "l.csv"
    p.write_bytes(_text(ROWS).encode(encoding))
    t, rows = _read(p)
    assert t.encoding == label
    assert rows[1] == (2, ["Zoë", "(212) 555-0123", "multi\nline, quoted"])
    assert rows[2][0] == 4  # the quoted newline made row 2 span two lines


@pytest.mark.parametrize("delimiter, suffix", [("\t", ".tsv"), ("|", ".txt"), (";", ".csv"), (",", ".csv")])
def test_delimiters(tmp_path, delimiter, suffix):
    p = tmp_path / f"l{suffix}"
    p.write_text(_text(ROWS, delimiter), encoding="utf-8")
    t, rows = _read(p)
    assert t.delimiter == delimiter and rows[0][1] == ROWS[0]


def test_xlsx_numbers_dates_and_formulas_come_back_as_text(tmp_path):
    wb = Workbook()
    ws = wb.active
    ws.append(["Phone", "ZIP", "Note"])
    ws.append([2125550123, 2134, '=HYPERLINK("http://x")'])
    ws.append([None, None, None])
    ws.append([2125550124.0, "02134", "ok"])
    p = tmp_path / "l.xlsx"
    wb.save(p)
    t, rows = _read(p)
    assert t.kind == "xlsx"
    assert rows[1] == (2, ["2125550123", "2134", '=HYPERLINK("http://x")'])
    assert rows[2] == (3, [])
    assert rows[3] == (4, ["2125550124", "02134", "ok"])


@pytest.mark.parametrize("content, message", [
    (b"", "the file is empty"),
    (b"\x00\x01\x02\x03binary\xff\xfe\x00\x00" * 50, "binary data"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100, "legacy Excel"),
    (b"PK\x03\x04garbage", "not a readable XLSX"),
    (b"name,phone\nA,2125550123\nB,\x81\x8d\x8f\n", "neither UTF-8 nor Windows-1252"),
])
def test_bad_files_are_named(tmp_path, content, message):
    p = tmp_path / "bad.csv"
    p.write_bytes(content)
    with pytest.raises(UserError, match=message) as e:
        open_table(p)
    assert "bad.csv" in str(e.value)


def test_encoding_change_midway_names_the_line(tmp_path):
    head = "name,phone\n" + "".join(f"A,212555{i:04d}\n" for i in range(30_000))
    p = tmp_path / "mixed.csv"
    p.write_bytes(head.encode() + "Zoë,2125550000\n".encode("cp1252"))
    t = open_table(p)
    with pytest.raises(UserError, match=r"mixed.csv line 30002: byte 0xeb is not valid UTF-8"):
        list(t.rows)
    t.close()


def test_missing_file_directory_and_size_limit(tmp_path):
    with pytest.raises(UserError, match="nope.csv: no such file"):
        open_table(tmp_path / "nope.csv")
    with pytest.raises(UserError, match="is a directory"):
        open_table(tmp_path)
    p = tmp_path / "big.csv"
    p.write_text("phone\n" + "2125550123\n" * 100)
    with pytest.raises(UserError, match="above the 100 bytes limit"):
        open_table(p, limit=100)


def test_unbalanced_quote_names_the_line(tmp_path):
    p = tmp_path / "q.csv"
    p.write_text('name,phone\nA,2125550123\n"B,2125550124\n' + "x" * (1024 * 1024 + 10) + "\n")
    t = open_table(p)
    with pytest.raises(UserError, match=r"q.csv line 3: .*unbalanced quote"):
        list(t.rows)
    t.close()


def test_mapping_by_name_by_content_and_explicit():
    m = build_map(["First Name", "Surname", "Tel.", "ST", "Zip Code", "Email"], [], "f")
    assert m.fields == {"first_name": 0, "last_name": 1, "phone": 2, "state": 3, "postal_code": 4}
    assert m.custom == ((5, "Email"),)
    m = build_map(["who", "digits"], [["A", "(212) 555-0123"], ["B", "212 555 0124"]], "f")
    assert m.fields["phone"] == 1
    m = build_map(["A", "2125550123"], [["B", "2125550124"]], "f")  # no header at all
    assert not m.has_header and m.fields["phone"] == 1 and m.header == ("column_1", "column_2")
    m = build_map(["Phone", "Alt"], [], "f", parse_map_option(["phone=alt", "state=1"]))
    assert m.fields == {"phone": 1, "state": 0}
    with pytest.raises(UserError, match="no column 'Mobile'"):
        build_map(["Phone"], [], "f", {"phone": "Mobile"})
    with pytest.raises(UserError, match="unknown field 'fax'"):
        build_map(["Phone"], [], "f", {"fax": "Phone"})
    with pytest.raises(UserError, match="no phone column"):
        build_map(["name", "city"], [["A", "Boston"]], "f")
    with pytest.raises(UserError, match="write FIELD=COLUMN"):
        parse_map_option(["phone"])
