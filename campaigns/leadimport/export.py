"""The rejected-rows export: the original header and rows plus a ``reason`` column, safe to open in Excel.

A user fixes the rows in a spreadsheet and uploads the file again, so the export must never carry a live
formula: a cell that starts with ``= + - @``, a tab or a carriage return gets a leading single quote (OWASP's
CSV-injection advice). The importer strips exactly that quote again, so a fixed file round-trips.
"""

from __future__ import annotations

import csv
import re
from typing import TextIO

from sqlalchemy import select
from sqlalchemy.orm import Session

from campaigns.leadimport.mapping import EXPORT_REASON_COLUMN
from campaigns.leadimport.service import get_list
from campaigns.leads.models import RejectedRow

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


PLAIN_NUMBER = re.compile(r"\+?[0-9]+")  # "+12125550123": a spreadsheet shows it as a number, never runs it


def formula_safe(cell: str) -> str:
    """A leading ``'`` on what a spreadsheet would run as a formula; a phone number (``+`` and digits only) stays as
    it is, so the file re-imports and reads plainly."""
    if not cell or cell[:1] not in FORMULA_START or PLAIN_NUMBER.fullmatch(cell):
        return cell
    return "'" + cell


def export_rejects(session: Session, campaign_name: str, list_name: str, out: TextIO,
                   include_duplicates: bool = False) -> int:
    """Write the list's rejected (and optionally duplicate) rows as CSV to ``out``; return how many."""
    lst = get_list(session, campaign_name, list_name)
    kinds = ("rejected", "duplicate") if include_duplicates else ("rejected",)
    header = list(lst.header or [])
    ignored = set((lst.mapping or {}).get("ignored", []))
    keep = [i for i, h in enumerate(header) if h not in ignored]
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([formula_safe(header[i]) for i in keep] + [EXPORT_REASON_COLUMN])
    q = (select(RejectedRow.raw, RejectedRow.reason).where(RejectedRow.list_id == lst.id,
                                                         RejectedRow.kind.in_(kinds))
         .order_by(RejectedRow.line).execution_options(yield_per=10_000))
    n = 0
    for raw, reason in session.execute(q):
        cells = list(raw)
        row = [cells[i] if i < len(cells) else "" for i in keep] + cells[len(header):]
        writer.writerow([formula_safe(c) for c in row] + [formula_safe(reason)])
        n += 1
    return n
