"""Why an import stored nothing: every row was a duplicate or rejected, said in one true sentence.

Such an import is refused whole (no list, no rejected rows, no scrub-ledger record): a stored list without a single
lead reads as an import that half-worked, and a manager told "it failed" retried and got a second empty list. The
sentence says what was found, so the manager knows there is nothing left to import (duplicates: which lists already
hold the numbers) or what to fix (rejected: the reasons and the first rejected line). It is built inside the
import's transaction, from the rejected rows it has just written, before they are rolled back.
"""

from __future__ import annotations

from collections import Counter

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from campaigns.campaign.models import Campaign
from campaigns.leadimport.receipt import reject_reasons
from campaigns.leads.models import Lead, LeadList, RejectedRow

SAMPLE = 1_000  # duplicate numbers looked up to name the lists that hold them
SHOWN = 3  # lists and reasons named in the sentence


def nothing_imported(session: Session, lead_list: LeadList, rows: int, duplicates: int, rejected: int,
                     display: str) -> str:
    """``x.csv: 0 leads imported: all 200 rows were duplicates of leads already in list 'May'; nothing was stored``."""
    parts = []
    if duplicates:
        parts.append(f"{_were(duplicates, rows)} duplicates of leads already in {_holders(session, lead_list)}")
    if rejected:
        parts.append(f"{_were(rejected, rows)} rejected ({_reasons(session, lead_list.id)})")
    text = f"{display}: 0 leads imported: " + " and ".join(parts)
    if rejected:
        first = session.execute(select(RejectedRow.line, RejectedRow.column, RejectedRow.reason)
                                .where(RejectedRow.list_id == lead_list.id, RejectedRow.kind == "rejected")
                                .order_by(RejectedRow.line).limit(1)).first()
        if first is not None:
            text += f"; first rejected: line {first.line}, column {first.column!r}: {first.reason}"
    return text + "; nothing was stored"


def _were(n: int, rows: int) -> str:
    if n == rows:
        return f"all {rows:,} rows were" if rows > 1 else "the only row was"
    return f"{n:,} of the {rows:,} rows were" if n > 1 else f"1 of the {rows:,} rows was"


def _holders(session: Session, lead_list: LeadList) -> str:
    """The lists (of this campaign, or of others for a system-wide dedupe) holding the duplicated numbers."""
    reasons = session.scalars(select(RejectedRow.reason).where(
        RejectedRow.list_id == lead_list.id, RejectedRow.kind == "duplicate",
        RejectedRow.reason.contains(" is already in ")).limit(SAMPLE)).all()
    phones = sorted({r.split(" ", 1)[0] for r in reasons})
    if not phones:
        return "this campaign"
    found = session.execute(
        select(LeadList.id, LeadList.name, Campaign.name, LeadList.campaign_id, func.count(func.distinct(Lead.phone)))
        .join(LeadList, LeadList.id == Lead.list_id).join(Campaign, Campaign.id == LeadList.campaign_id)
        .where(Lead.phone.in_(phones), Lead.list_id != lead_list.id)
        .group_by(LeadList.id, LeadList.name, Campaign.name, LeadList.campaign_id)).all()
    by_count = sorted(found, key=lambda r: (-r[4], r[0]))  # most duplicates first, then the oldest list
    names = [repr(name) if campaign_id == lead_list.campaign_id else f"{name!r} of campaign {campaign!r}"
             for _, name, campaign, campaign_id, _ in by_count[:SHOWN]]
    if not names:
        return "this campaign"
    more = len(by_count) - SHOWN
    listed = ", ".join(names) + (f" and {more} other list{'s' if more > 1 else ''}" if more > 0 else "")
    return ("list " if len(by_count) == 1 else "lists ") + listed


def _reasons(session: Session, list_id: int) -> str:
    counts: Counter[str] = Counter()
    for kind, reason, n in reject_reasons(session, list_id, limit=50):
        if kind == "rejected":
            counts[reason] += n
    top = [f"{n:,} {reason}" for reason, n in counts.most_common(SHOWN)]
    rest = sum(counts.values()) - sum(n for _, n in counts.most_common(SHOWN))
    return ", ".join(top) + (f", {rest:,} other" if rest > 0 else "")
