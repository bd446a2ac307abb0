"""Each campaign's abandons in a scale run, as the law counts them, with the running rate over the run.

A run's final rate says little about a fresh campaign: the cap (3 % of live answers over 30 days, docs/pacing.md §0)
holds at every moment, and a campaign stopped after five minutes is judged on those five minutes. So beside the
totals the report gives the worst rate the campaign showed at any moment once ``1/target`` live answers were in
(the same reading as ``dialer bench pacing``, ``pacing_metrics.worst_running_rate``), and how many abandons were
answered after the campaign's last dial: a stopping worker (or a paused campaign) places nothing new and must let
its calls in flight reach agents, so anything there is the stop's doing, not the pacer's. (The last dial, not the
bench's clock at the stop: a worker short of CPU runs its simulated time behind the wall clock.)
"""

from __future__ import annotations

import math

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from campaigns.campaign.models import Campaign
from campaigns.dispatch.models import Call
from campaigns.reports import metrics
from dialer.bench.pacing_metrics import worst_running_rate


def campaign_abandons(session: Session, ids: list[int]) -> dict[str, dict]:
    """Per campaign (by name): live answers, abandons, the rate, the worst running rate after the first
    ``1/target`` live answers (and that count), and the abandons answered after the campaign's last dial."""
    out: dict[str, dict] = {}
    for c in session.scalars(select(Campaign).where(Campaign.id.in_(ids)).order_by(Campaign.id)):
        rows = session.execute(select(Call.placed_at, Call.answered_at, Call.outcome, Call.connected_at)
                               .where(Call.campaign_id == c.id)).all()
        live = [r for r in rows if metrics.is_live_answer(r.outcome, r.connected_at is not None)]
        placed = np.array([r.placed_at.timestamp() for r in live])
        abandoned = np.array([r.outcome == "abandoned" for r in live], dtype=bool)
        target = float(c.abandon_target)
        last_dial = max((r.placed_at for r in rows), default=None)
        after_stop = sum(1 for r in live if r.outcome == "abandoned" and r.answered_at is not None
                         and r.answered_at > last_dial)
        out[c.name] = {
            "live_answers": len(live), "abandoned": int(abandoned.sum()),
            "abandon_rate": round(metrics.abandon_rate(int(abandoned.sum()), len(live)) or 0.0, 4),
            "worst_running_rate": round(worst_running_rate(placed, abandoned, target), 4),
            "worst_running_after_lives": math.ceil(1.0 / target - 1e-9) if target > 0 else None,
            "abandoned_after_last_dial": after_stop,
        }
    return out
