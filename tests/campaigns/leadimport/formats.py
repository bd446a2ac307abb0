"""One small lead list written in every format the README lists (CSV, TSV, pipe, semicolon, UTF-8 with BOM,
UTF-16 LE/BE with and without BOM, Windows-1252, XLSX), for the CLI, service, console and browser tests alike."""

from __future__ import annotations

import codecs
from pathlib import Path

from openpyxl import Workbook

HEADER = ["First Name", "Last Name", "Phone", "State", "Note"]
ROWS = [["Zoë", "Müller", "(212) 736-4421", "NY", "likes calls, after 5"],  # a quoted delimiter in Note
        ["Renée", "Brontë", "+1 415 392 7700", "CA", "ok"],
        ["Ann", "Lee", "312.588.0100", "IL", "x"]]
PHONES = {"+12127364421": ("Zoë", "Müller"), "+14153927700": ("Renée", "Brontë"), "+13125880100": ("Ann", "Lee")}

# name -> (file name, delimiter, encoding, BOM); every text encoding here can write "Zoë" and "Renée"
TEXT_FORMATS = {
    "csv": ("leads.csv", ",", "utf-8", b""),
    "tsv": ("leads.tsv", "\t", "utf-8", b""),
    "pipe": ("leads.txt", "|", "utf-8", b""),
    "semicolon": ("leads.csv", ";", "utf-8", b""),
    "utf8-bom": ("leads.csv", ",", "utf-8", codecs.BOM_UTF8),
    "utf16-le-bom": ("leads.csv", ",", "utf-16-le", codecs.BOM_UTF16_LE),
    "utf16-be-bom": ("leads.csv", ",", "utf-16-be", codecs.BOM_UTF16_BE),
    "utf16-le": ("leads.csv", ",", "utf-16-le", b""),
    "utf16-be": ("leads.csv", ",", "utf-16-be", b""),
    "windows-1252": ("leads.csv", ",", "cp1252", b""),
}
FORMATS = [*TEXT_FORMATS, "xlsx"]
# what the reader reports for each (the mapping page shows it)
SOURCES = {"csv": "comma-separated text, utf-8", "tsv": "tab-separated text, utf-8",
           "pipe": "pipe-separated text, utf-8", "semicolon": "semicolon-separated text, utf-8",
           "utf8-bom": "comma-separated text, utf-8", "utf16-le-bom": "comma-separated text, utf-16",
           "utf16-be-bom": "comma-separated text, utf-16", "utf16-le": "comma-separated text, utf-16-le",
           "utf16-be": "comma-separated text, utf-16-be", "windows-1252": "comma-separated text, cp1252",
           "xlsx": "XLSX"}


def _cell(value: str, delimiter: str) -> str:
    return f'"{value}"' if delimiter in value or '"' in value else value


def write(fmt: str, directory: Path) -> Path:
    """Write the list in format ``fmt`` under ``directory/fmt/`` and return its path."""
    folder = directory / fmt
    folder.mkdir(parents=True, exist_ok=True)
    if fmt == "xlsx":
        wb = Workbook()
        ws = wb.active
        for row in [HEADER, *ROWS]:
            ws.append(row)
        path = folder / "leads.xlsx"
        wb.save(path)
        return path
    name, delimiter, encoding, bom = TEXT_FORMATS[fmt]
    text = "".join(delimiter.join(_cell(c, delimiter) for c in row) + "\r\n" for row in [HEADER, *ROWS])
    path = folder / name
    path.write_bytes(bom + text.encode(encoding))
    return path
