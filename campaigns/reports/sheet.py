"""A report as people open it in a spreadsheet: headers in words, rates as the percentage shown on the page
(rounded the same way), durations as h:mm:ss, reason codes in words, and the total row last.

``campaigns.reports.export`` keeps the raw form (keys, fractions, seconds) for scripts and CRMs (``dialer reports
--format csv``); the console's CSV download is this one.
"""

from __future__ import annotations

import csv
import io

from campaigns.reports.base import Column, Report
from campaigns.reports.export import safe_cell
from campaigns.reports.metrics import percent, whole_seconds

RATE_DECIMALS = 1  # the page shows "12.3 %"


def reason_words(code: str) -> str:
    """A suppression or refusal reason code in words (the dialable funnel's labels)."""
    from campaigns.funnel.result import LABELS

    return LABELS.get(code, code.replace("_", " "))


def header(c: Column) -> str:
    return f"{c.label} (%)" if c.kind == "rate" else c.label


def hms(seconds: float) -> str:
    s = whole_seconds(seconds)
    return f"{s // 3600}:{s % 3600 // 60:02d}:{s % 60:02d}"


def value(c: Column, v) -> object:
    """One cell as shown: None is empty, a rate is its rounded percentage, seconds are h:mm:ss."""
    if v is None:
        return ""
    if isinstance(v, dict):
        return "; ".join(f"{reason_words(str(k))}: {n}" for k, n in v.items())
    if isinstance(v, str):
        return safe_cell(v)
    if c.kind == "rate":
        return percent(v, RATE_DECIMALS)
    if c.kind == "seconds":
        return hms(v)
    if c.kind == "number":
        return round(v, 2)
    return v


def rows_of(report: Report) -> list[dict]:
    return report.rows + ([report.apart] if report.apart else []) + ([report.total] if report.total else [])


def sheet_csv(report: Report) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow([header(c) for c in report.columns])
    for row in rows_of(report):
        w.writerow([value(c, row.get(c.key)) for c in report.columns])
    return buf.getvalue()
