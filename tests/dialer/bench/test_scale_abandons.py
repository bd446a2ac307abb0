"""The scale bench's per-campaign abandons: totals, the worst running rate and what the stop abandoned."""

from __future__ import annotations

from datetime import timedelta

from campaigns.campaign.service import create_campaign
from campaigns.db import session_scope
from campaigns.dispatch.models import Call
from dialer.bench.scale_abandons import campaign_abandons


def test_running_rate_and_the_stops_abandons(sessions, clock):
    now = clock.now()
    with session_scope(sessions) as s:
        c = create_campaign(s, "Spring", "+12125550100", now)
        c.abandon_target = 0.03
        s.flush()
        cid = c.id
        # 42 live answers, the 2nd and 3rd abandoned: 2/42 at the end, but 2/34 once 34 (1/target) were in;
        # 2 machines are no live answers; the 3rd call was answered after the last dial (+86 s)
        outcomes = ["completed", "abandoned", "abandoned"] + ["completed"] * 39 + ["machine"] * 2
        for i, outcome in enumerate(outcomes):
            placed = now + timedelta(seconds=i * 2)
            answered = now + timedelta(seconds=100) if i == 2 else placed + timedelta(seconds=5)
            s.add(Call(campaign_id=cid, phone=f"+1212555{i:04d}", placed_at=placed, answered_at=answered,
                       ended_at=answered + timedelta(seconds=30), outcome=outcome, status="ended",
                       connected_at=answered if outcome == "completed" else None))
    with session_scope(sessions) as s:
        got = campaign_abandons(s, [cid])["Spring"]
    assert got == {"live_answers": 42, "abandoned": 2, "abandon_rate": round(2 / 42, 4),
                   "worst_running_rate": round(2 / 34, 4), "worst_running_after_lives": 34,
                   "abandoned_after_last_dial": 1}
