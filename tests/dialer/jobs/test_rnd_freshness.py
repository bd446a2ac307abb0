"""The hourly warning about the age of the Reassigned Numbers Database data, for operators that call on consent."""

from __future__ import annotations

import logging
from datetime import timedelta

from dialer.jobs.catalog import worker_jobs
from dialer.jobs.compliance import rnd_freshness
from dnc import consent
from dnc.reassigned import load_rnd


def test_rnd_freshness_warns_a_week_ahead_and_says_when_calls_on_consent_wait(session, clock, tmp_path, caplog):
    now = clock.now()
    caplog.set_level(logging.WARNING, logger="dialer.jobs.compliance")
    assert rnd_freshness(session, now) == {"limit_days": 31, "required": True, "loaded": False}
    assert not caplog.records  # nobody's consent on record: nothing waits for RND data
    consent.add(session, "+12125554123", kind="pewc", granted_at=now - timedelta(days=9), evidence_ref="form",
                added_by="t", recorded_at=now - timedelta(days=9))
    rnd_freshness(session, now)
    assert "no Reassigned Numbers Database data are loaded" in caplog.text
    empty = tmp_path / "rnd.csv"
    empty.write_text("")
    load_rnd(session, empty, version_date=(now - timedelta(days=25)).date(), loaded_by="t", now=now)
    caplog.clear()
    out = rnd_freshness(session, now)
    assert (out["age_days"], out["warn"], out["expired"]) == (25, True, False) and "in 6 days" in caplog.text
    caplog.clear()
    out = rnd_freshness(session, now + timedelta(days=7))
    assert out["expired"] and "past the 31-day limit" in caplog.text
    assert "rnd-freshness" in {j.name for j in worker_jobs()}
