"""Why rows of a list did not become dialable leads: rejected and duplicate rows by reason.

The console's list page shows these next to the counts, so "342 rejected" comes with "310 invalid phone number,
32 row has only 2 cells" instead of a number nobody can act on (suppressed leads by source:
``campaigns.reports.lists.suppression_reasons``).
"""

from __future__ import annotations

from collections import Counter

from sqlalchemy import select
from sqlalchemy.orm import Session

from campaigns.leads.models import RejectedRow


def _reason_kind(reason: str) -> str:
    """``invalid phone number: no such area code or exchange: '555-1234'`` -> without the cell's value."""
    head, sep, tail = reason.rpartition(": ")
    if sep and tail[:1] in ("'", '"'):
        return head
    if " duplicates line " in reason:
        return "duplicates an earlier row of the file"
    if " is already in " in reason:
        return "already in " + reason.split(" is already in ", 1)[1]
    return reason


def reject_reasons(session: Session, list_id: int, limit: int = 12) -> list[tuple[str, str, int]]:
    """``(kind, reason, rows)`` for a list's rejected and duplicate rows, most frequent first."""
    counts: Counter[tuple[str, str]] = Counter()
    q = (select(RejectedRow.kind, RejectedRow.reason).where(RejectedRow.list_id == list_id)
         .execution_options(yield_per=10_000))
    for kind, reason in session.execute(q):
        counts[(kind, _reason_kind(reason))] += 1
    return [(kind, reason, n) for (kind, reason), n in counts.most_common(limit)]
