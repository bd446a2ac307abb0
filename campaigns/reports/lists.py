"""List close: what became of every prospect a list brought, as of a moment.

Each lead is counted in the list it belongs to now (a lead moved between lists takes its outcome with it);
invalid and duplicate rows stay with the file that brought them. The breakdown adds up:
``prospects = invalid + suppressed + never_reached + reached_not_closed + closed`` (duplicates are shown but are
not prospects: the same person was already counted once).
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime

from sqlalchemy import exists, func, or_, select
from sqlalchemy.orm import Session

from campaigns.campaign.models import Campaign
from campaigns.leads.models import Lead, LeadList, RejectedRow
from campaigns.reports import metrics as m
from campaigns.reports.models import GRAIN_LIST, CallRollup, LeadCallStats
from campaigns.reports.queries import final_since, lead_outcomes
from dnc.reasons import stored_codes


def list_close_rows(session: Session, campaign: Campaign, as_of: datetime, now: datetime | None = None
                    ) -> list[dict]:
    """A list counts from its upload, or from its first call when history imported from another dialer is older
    than the upload (the hit-rate and pass reports show those dials; so must this one). Each lead counts with the
    status it had at ``as_of`` (``queries.final_since``), so a past range does not move when a lead closes later."""
    dialed = exists().where(CallRollup.campaign_id == campaign.id, CallRollup.grain == GRAIN_LIST,
                            CallRollup.list_id == LeadList.id, CallRollup.bucket < as_of)
    lists = session.execute(select(LeadList.id, LeadList.name).where(LeadList.campaign_id == campaign.id,
                                                                     or_(LeadList.uploaded_at < as_of, dialed))
                            .order_by(LeadList.id)).all()
    ids = [i for i, _ in lists]
    outcomes = lead_outcomes(session, campaign, as_of, now)
    rejected: dict[tuple[int, str], int] = {}
    if ids:
        for list_id, kind, n in session.execute(select(RejectedRow.list_id, RejectedRow.kind, func.count())
                                                .where(RejectedRow.list_id.in_(ids))
                                                .group_by(RejectedRow.list_id, RejectedRow.kind)):
            rejected[(list_id, kind)] = n
    reasons = suppression_reasons(session, campaign, as_of if now is None or as_of <= now else None)
    rows = []
    for list_id, name in lists:
        o = outcomes.get(list_id, {"leads": 0, "suppressed": 0, "final": 0, "reached": 0, "closed": 0})
        invalid = rejected.get((list_id, "rejected"), 0)
        prospects = m.prospects(o["leads"] - o["suppressed"], o["suppressed"], invalid)
        never = o["leads"] - o["suppressed"] - o["reached"]
        rows.append({"list": name, "list_id": list_id, "prospects": prospects, "invalid": invalid,
                     "duplicate": rejected.get((list_id, "duplicate"), 0), "suppressed": o["suppressed"],
                     "suppressed_by": dict(sorted(reasons.get(list_id, Counter()).items())),
                     "never_reached": never, "reached_not_closed": o["reached"] - o["closed"],
                     "closed": o["closed"], "close_rate": m.list_close_rate(o["closed"], prospects),
                     "leads": o["leads"], "final_leads": o["final"],
                     "penetration": m.penetration(o["final"], o["leads"])})
    return rows


def suppression_reasons(session: Session, campaign: Campaign, as_of: datetime | None = None
                        ) -> dict[int, Counter]:
    """Suppressed leads per list and reason (those already suppressed at ``as_of`` when given); a lead suppressed
    for two reasons counts under each."""
    out: dict[int, Counter] = {}
    q = (select(Lead.list_id, Lead.suppression, func.count()).where(Lead.campaign_id == campaign.id,
                                                                    Lead.status == "suppressed")
         .group_by(Lead.list_id, Lead.suppression))
    if as_of is not None:
        q = q.outerjoin(LeadCallStats, LeadCallStats.lead_id == Lead.id).where(final_since(as_of))
    for list_id, reasons, n in session.execute(q):
        c = out.setdefault(list_id, Counter())
        for reason in stored_codes(reasons) or ["unspecified"]:
            c[reason] += n
    return out


def several_reasons(session: Session, list_id: int) -> int:
    """Suppressed leads of the list held back by more than one rule: each counts under every one of its reasons in
    ``suppression_reasons``, so a receipt must say why its sources add up to more than its suppressed rows."""
    q = (select(Lead.suppression, func.count()).where(Lead.list_id == list_id, Lead.status == "suppressed")
         .group_by(Lead.suppression))
    return sum(n for reasons, n in session.execute(q) if len(stored_codes(reasons)) > 1)
