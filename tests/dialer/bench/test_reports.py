"""``dialer bench reports``: a small history end to end times every report it names and cleans up after itself.

The 10 M-call run takes an hour to generate; a report whose groupings changed once failed it only at the end.
"""

from __future__ import annotations

import json

from sqlalchemy import func, select

from campaigns.campaign.models import Campaign
from campaigns.dispatch.models import Call
from dialer.bench.reports import TIMED


def test_bench_reports_times_every_report_and_cleans_up(dialer, db_url, sessions):
    assert dialer("db", "upgrade").code == 0
    r = dialer("bench", "reports", "--calls", "3000", "--leads", "400", "--days", "30", "--lists", "2",
               "--database-url", db_url, "--json")
    assert r.code == 0, r.err
    out = json.loads(r.out)
    assert out["calls"] >= 3000
    timed = {name + (f" --by {by}" if by else "") for name, by in TIMED}
    assert timed <= set(out["reports"])
    assert out["slowest_report_s"] >= max(t["max_s"] for t in out["reports"].values())
    with sessions() as s:
        assert s.scalar(select(func.count()).select_from(Campaign)) == 0
        assert s.scalar(select(func.count()).select_from(Call)) == 0
