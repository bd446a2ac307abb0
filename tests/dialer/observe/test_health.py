"""Readiness checks, each made to fail for its own reason, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

from campaigns.campaign.service import create_campaign
from campaigns.db import make_engine, session_factory, session_scope
from campaigns.inbox.models import CarrierCallback
from campaigns.leases import ownership
from campaigns.leases import service as leases
from dialer.clock import ManualClock
from dialer.observe.health import CALLBACK_BACKLOG_MAX, ReadinessProbe
from dnc.registry.snapshot import Store
from tests.dialer.carriers.twilio.support import load_registry


def _checks(result) -> dict:
    return {name: c["ok"] for name, c in result.to_dict()["checks"].items()}


def _campaign(sessions, now, status="active") -> int:
    with session_scope(sessions) as s:
        c = create_campaign(s, "Spring" if status == "active" else "Autumn", "+12125550100", now)
        c.status = status
        s.flush()
        return c.id


def _callbacks(sessions, received_at, n=1) -> None:
    with session_scope(sessions) as s:
        for i in range(n):
            s.add(CarrierCallback(provider="twilio", call_sid=f"CA{i:032d}", event_key="status:ringing",
                                  kind="ringing", rank=2, status="ringing", payload={}, carrier_at=received_at,
                                  received_at=received_at))


def test_an_empty_installation_is_ready(sessions, clock, tmp_path):
    result = ReadinessProbe(sessions, clock, registry=Store(tmp_path / "dnc")).run()
    assert result.ok and _checks(result) == {"database": True, "registry": True, "leases": True, "callbacks": True}
    assert result.to_dict()["status"] == "ready"


def test_an_unreachable_database_fails_every_check_and_names_no_path(clock, tmp_path):
    sessions = session_factory(make_engine("postgresql+psycopg://someone:secret-pass@127.0.0.1:1/secret-name"))
    result = ReadinessProbe(sessions, clock, registry=Store(tmp_path / "dnc")).run()
    assert not result.ok and set(_checks(result).values()) == {False}
    body = str(result.to_dict())
    assert "OperationalError" in body and "secret" not in body and "not checked" in body


def test_the_registry_in_force_missing_on_this_host_or_stale_fails(sessions, session, clock, tmp_path):
    load_registry(session, tmp_path / "host-a", clock.now())
    here = ReadinessProbe(sessions, clock, registry=Store(tmp_path / "host-a"))
    assert _checks(here.run())["registry"]
    elsewhere = ReadinessProbe(sessions, clock, registry=Store(tmp_path / "host-b"))
    check = elsewhere.run(["registry"]).checks[0]
    assert not check.ok and "lacks the generation in force" in check.detail
    later = ReadinessProbe(sessions, ManualClock(clock.now() + timedelta(days=40)), registry=Store(tmp_path / "host-a"))
    check = later.run(["registry"]).checks[0]
    assert not check.ok and "40 days old" in check.detail


def test_a_process_that_never_reads_the_registry_skips_its_check(sessions, session, clock, tmp_path):
    load_registry(session, tmp_path / "host-a", clock.now())
    assert "registry" not in _checks(ReadinessProbe(sessions, clock, registry=None).run())


def test_an_active_campaign_without_a_live_worker_fails(sessions, clock):
    now = clock.now()
    cid = _campaign(sessions, now)
    _campaign(sessions, now, status="paused")  # needs nobody
    probe = ReadinessProbe(sessions, clock)
    check = probe.run(["leases"]).checks[0]
    assert not check.ok and "Spring" in check.detail
    with session_scope(sessions) as s:
        assert leases.acquire(s, f"dial:{cid}", "host-a:1", now, 15.0)
    assert not probe.run(["leases"]).checks[0].ok  # a lease, but no heartbeat: no live worker holds it
    with session_scope(sessions) as s:
        ownership.heartbeat(s, "host-a:1", "twilio", now, 15.0, 1)
    check = probe.run(["leases"]).checks[0]
    assert check.ok and "1 live workers" in check.detail
    clock.advance(20)  # the worker stopped renewing
    assert not probe.run(["leases"]).checks[0].ok


def test_a_workers_own_expired_lease_fails_its_probe(sessions, clock):
    now = clock.now()
    cid = _campaign(sessions, now)
    with session_scope(sessions) as s:
        leases.acquire(s, f"dial:{cid}", "host-a:1", now, 15.0)
        ownership.heartbeat(s, "host-a:1", "twilio", now, 30.0, 1)
    mine, other = ReadinessProbe(sessions, clock, holder="host-a:1"), ReadinessProbe(sessions, clock, holder="b:2")
    assert mine.run(["leases"]).ok and other.run(["leases"]).ok
    clock.advance(16)
    check = mine.run(["leases"]).checks[0]
    assert not check.ok and f"dial:{cid}" in check.detail
    assert other.run(["leases"]).ok  # holds nothing, so nothing of its own is late


def test_a_callback_backlog_fails(sessions, clock):
    now = clock.now()
    probe = ReadinessProbe(sessions, clock)
    _callbacks(sessions, now - timedelta(seconds=5), n=CALLBACK_BACKLOG_MAX + 5)  # just stored: not backlog
    assert probe.run(["callbacks"]).ok
    clock.advance(10)
    check = probe.run(["callbacks"]).checks[0]
    assert not check.ok and f"{CALLBACK_BACKLOG_MAX + 5} callbacks waiting" in check.detail


def test_one_old_undelivered_callback_fails(sessions, clock):
    _callbacks(sessions, clock.now() - timedelta(seconds=120))
    check = ReadinessProbe(sessions, clock).run(["callbacks"]).checks[0]
    assert not check.ok and "oldest 120 s" in check.detail
