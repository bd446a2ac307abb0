"""``dialer bench import``: a small run end to end, with the scrub, leaves its database as it found it."""

from __future__ import annotations

import json

from sqlalchemy import func, select

from campaigns.campaign.models import Campaign
from campaigns.leads.models import Lead


def test_bench_import_scrubs_and_cleans_up(dialer, db_url, sessions):
    assert dialer("db", "upgrade").code == 0
    r = dialer("bench", "import", "--rows", "3000", "--database-url", db_url, "--json")
    assert r.code == 0, r.err
    out = json.loads(r.out)
    assert out["rows"] == 3000 and out["scrubbed"] is True
    assert out["rows"] == out["accepted"] + out["duplicates"] + out["rejected"] + out["suppressed"]
    assert out["suppressed"] > 0 and out["rejected"] > 0 and out["duplicates"] > 0
    assert out["rows_per_s"] > 0 and out["peak_rss_mb"] > 0
    with sessions() as s:
        assert s.scalar(select(func.count()).select_from(Campaign)) == 0
        assert s.scalar(select(func.count()).select_from(Lead)) == 0


def test_bench_import_without_scrub_and_refusals(dialer):
    r = dialer("bench", "import", "--rows", "500", "--no-scrub", "--format", "tsv", "--json")
    assert r.code == 0, r.err
    out = json.loads(r.out)
    assert out["suppressed"] == 0 and out["scrubbed"] is False and out["backend"] == "sqlite"
    r = dialer("bench", "import", "--rows", "500", "--format", "xlsx")
    assert r.code == 2 and "use --no-scrub with --format xlsx" in r.err
