"""What an upload looks like before it is imported: the detected columns and the first rows.

The console shows this so a manager can check (and change) which column is the phone, the name, the state …
before anything is stored. It reads only the head of the file, through the same reader and mapping rules as
``import_leads``, so what the preview shows is what the import will do with the same mapping.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path

from campaigns.leadimport.mapping import FIELDS, _unique, build_map, is_header
from campaigns.leadimport.reader import open_table
from campaigns.leadimport.service import SAMPLE_ROWS, NonBlank, _first_row
from dnc.errors import UserError

FIELD_LABELS = {"phone": "Phone number", "first_name": "First name", "last_name": "Last name",
                "name": "Full name", "state": "State", "postal_code": "ZIP / postal code"}


@dataclass
class Preview:
    source: str  # e.g. "comma-separated text, utf-8"
    header: list[str]  # column names (``column_N`` when the file has no header line)
    has_header: bool
    fields: dict[str, str]  # lead field -> column name, as the import would map it
    custom: list[str]  # columns kept as custom fields
    rows: list[list[str]] = field(default_factory=list)  # the first data rows, padded to the header's width
    problem: str | None = None  # e.g. no phone column found: the user must pick one


def preview_file(path: str | os.PathLike, display_name: str | None = None, mapping: dict[str, str] | None = None,
                 show: int = 8) -> Preview:
    """The mapping ``import_leads`` would use for this file (with ``mapping`` applied) and its first rows.

    A file without a recognisable phone column still previews (``problem`` says why) so the user can choose one;
    an unreadable file raises ``UserError`` like the import.
    """
    display = display_name or Path(path).name
    table = open_table(path, display)
    try:
        rows = NonBlank(table.rows)
        _, first = _first_row(rows, display)
        sample = [cells for _, cells in islice(rows, SAMPLE_ROWS)]
        has_header = is_header(first)
        if not sample and has_header:
            raise UserError(f"{display}: only a header line, no lead rows")
        problem = None
        try:
            columns = build_map(first, sample, display, mapping)
            header, fields = list(columns.header), columns.describe()
            custom = [name for _, name in columns.custom]
        except UserError as e:
            width = len(first) if has_header else max([len(first), *(len(r) for r in sample)])
            header = _unique([c.strip() for c in first] if has_header else [], width)
            fields, custom, problem = {}, list(header), str(e)
        data = sample if has_header else [first, *sample]
        shown = [(r + [""] * (len(header) - len(r)))[:len(header)] for r in data[:show]]
        return Preview(table.describe(), header, has_header, {f: fields[f] for f in FIELDS if f in fields},
                       custom, shown, problem)
    finally:
        table.close()
