"""The pre-dial gate's tables are read before a worker dials (``warm_gate``), not inside its first claim: that claim's
transaction holds SQLite's one write lock, and reading them there (~0.35 s of CPU, seconds on a loaded machine)
stalled the new worker's lease and decisions until the floor asked whether it was running (issue 16)."""

from __future__ import annotations

import pytest

from campaigns.db import session_scope
from dialer.loop.gating import dnc_gate, warm_gate
from dnc import zones
from tests.dialer.loop.conftest import build_floor

CACHED = (zones._zip_index, zones._state_zone_index, zones._prefix_zone_table, zones._npa_states,
          zones._area_code_zone_index, zones._tz_data, zones.zone_fixes)


@pytest.fixture
def cold_zones():
    """The zone tables as a process starts: nothing read yet (restored for the tests after)."""
    for f in CACHED:
        f.cache_clear()
    zones._nanp_zones.cache_clear()
    zones.with_state_zones.cache_clear()
    yield
    for f in CACHED:
        f.cache_clear()


def _floor(request, clock, setenv, tmp_path):
    """Three leads in New York at 10:00 on a Tuesday, a national registry loaded: the gate lets them through."""
    from tests.dialer.carriers.twilio.support import load_registry

    setenv(DIALER_DNC_DIR=str(tmp_path / "dnc"))
    floor = build_floor("sqlite", request, clock, leads=3)
    with session_scope(floor.sessions) as s:
        load_registry(s, tmp_path / "dnc", clock.now())
    return floor


def test_after_warm_gate_the_first_claim_reads_no_zone_table(cold_zones, request, clock, monkeypatch, setenv,
                                                             tmp_path):
    floor = _floor(request, clock, setenv, tmp_path)
    warm_gate()

    def no_file(name):
        raise AssertionError(f"dnc/data/{name} read inside the claim's transaction")

    monkeypatch.setattr(zones, "_data", no_file)
    with session_scope(floor.sessions) as s:
        from campaigns.campaign.models import Campaign
        from campaigns.dispatch import service as dispatch

        claims = dispatch.claim(s, s.get(Campaign, floor.campaign_id), 3, clock.now(), dnc_gate)
    assert len(claims) == 3  # the gate judged and passed every lead without reading a table


def test_without_it_the_first_claim_reads_them(cold_zones, request, clock, monkeypatch, setenv, tmp_path):
    floor = _floor(request, clock, setenv, tmp_path)
    read: list[str] = []
    real = zones._data
    monkeypatch.setattr(zones, "_data", lambda name: read.append(name) or real(name))
    with session_scope(floor.sessions) as s:
        from campaigns.campaign.models import Campaign
        from campaigns.dispatch import service as dispatch

        assert len(dispatch.claim(s, s.get(Campaign, floor.campaign_id), 3, clock.now(), dnc_gate)) == 3
    assert "zip_zones.csv" in read  # what warm_gate saves the first claim
