"""``/healthz``, ``/readyz`` and ``/metrics`` on the console and the webhooks app: public, no secrets, 503 when a
check fails; under gunicorn the request counts of every worker process add up on ``/metrics``."""

from __future__ import annotations

import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests

from campaigns.campaign.service import create_campaign
from campaigns.db import session_scope
from campaigns.leases import ownership
from campaigns.leases import service as leases
from dnc import settings


def _active_campaign(sessions, now) -> int:
    with session_scope(sessions) as s:
        c = create_campaign(s, "Spring", "+12125550100", now)
        c.status = "active"
        s.flush()
        return c.id


def test_health_routes_are_public_and_readiness_names_each_check(client):
    assert client.get("/healthz").get_json() == {"status": "alive"}
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert set(ready.get_json()["checks"]) == {"database", "registry", "leases", "callbacks"}
    assert client.get("/metrics").status_code == 200
    assert client.post("/readyz").status_code == 405  # read-only; no CSRF token asked, no login page


def test_readiness_is_503_while_an_active_campaign_has_no_live_worker(client, sessions, clock):
    cid = _active_campaign(sessions, clock.now())
    ready = client.get("/readyz")
    assert ready.status_code == 503
    body = ready.get_json()
    assert body["status"] == "not ready" and not body["checks"]["leases"]["ok"]
    assert body["checks"]["database"]["ok"]
    assert client.get("/readyz?check=database").status_code == 200  # a balancer that only asks about the database
    with session_scope(sessions) as s:
        leases.acquire(s, f"dial:{cid}", "worker-1", clock.now(), 15.0)
        ownership.heartbeat(s, "worker-1", "twilio", clock.now(), 15.0, 1)
    assert client.get("/readyz").status_code == 200


def test_metrics_count_requests_by_route_and_read_the_cluster_from_the_database(client, sessions, clock):
    cid = _active_campaign(sessions, clock.now())
    with session_scope(sessions) as s:
        leases.acquire(s, f"dial:{cid}", "worker-1", clock.now(), 15.0)
        ownership.heartbeat(s, "worker-1", "twilio", clock.now(), 15.0, 1)
    client.get("/login")
    client.get("/campaigns/1/upload")  # a redirect to sign in: counted under its route, never its path
    text = client.get("/metrics").text
    assert 'dialer_http_requests_total{app="console",endpoint="auth.login",method="GET",status="200"}' in text
    assert 'endpoint="lists.upload"' in text or 'status="302"' in text
    assert "/campaigns/1" not in text
    assert 'dialer_campaign_leases{worker="worker-1"} 1.0' in text
    assert "dialer_campaigns_active 1.0" in text and "dialer_callbacks_pending 0.0" in text
    assert "dialer_workers_alive 1.0" in text and "dialer_workers_draining 0.0" in text


def test_metrics_count_the_workers_draining(client, sessions, clock):
    """A worker draining after SIGTERM still holds campaigns but takes none: operations see how many are, so a
    rolling restart is watched to its end."""
    with session_scope(sessions) as s:
        ownership.heartbeat(s, "worker-1", "twilio", clock.now(), 15.0, 1, draining=True)
        ownership.heartbeat(s, "worker-2", "twilio", clock.now(), 15.0, 0)
    text = client.get("/metrics").text
    assert "dialer_workers_alive 2.0" in text and "dialer_workers_draining 1.0" in text


def test_the_webhooks_app_has_the_same_routes_without_the_registry(db_url, setenv):
    from web.wsgi import webhook_app

    setenv(DIALER_DATABASE_URL=db_url)
    client = webhook_app(db_url).test_client()
    assert client.get("/healthz").status_code == 200
    assert set(client.get("/readyz").get_json()["checks"]) == {"database", "leases", "callbacks"}
    client.get("/readyz")
    assert 'app="webhooks",endpoint="health.readyz"' in client.get("/metrics").text


@pytest.mark.slow
def test_gunicorn_workers_add_their_request_counts_up(tmp_path):
    url = f"sqlite:///{tmp_path / 'dialer.sqlite3'}"
    metrics_dir = tmp_path / "metrics"
    env = settings.child_environ(DIALER_DATABASE_URL=url, DIALER_VAR_DIR=str(tmp_path / "var"),
                                 DIALER_COOKIE_SECURE="0", DIALER_METRICS_DIR=str(metrics_dir))
    subprocess.run([sys.executable, "-m", "dialer", "db", "upgrade"], env=env, check=True, capture_output=True)
    with (tmp_path / "console.log").open("w") as log:
        proc = subprocess.Popen([sys.executable, "-m", "dialer", "serve", "console", "--bind", "127.0.0.1:0",
                                 "--workers", "2", "--threads", "4", "--no-access-log"], env=env,
                                stdout=subprocess.PIPE, stderr=log, text=True)
    try:
        ready = proc.stdout.readline().strip()
        assert "listening on" in ready, (tmp_path / "console.log").read_text()
        base = ready.rsplit(" ", 1)[-1]
        sent, pids = 0, set()
        with ThreadPoolExecutor(16) as pool:  # concurrent, until both worker processes have answered some
            while len(pids) < 2 and sent < 5000:
                codes = list(pool.map(lambda _: requests.get(base + "/healthz", timeout=10).status_code,
                                      range(100)))
                assert codes == [200] * 100, (tmp_path / "console.log").read_text()[-3000:]
                sent += 100
                pids = {p.name.rsplit("_", 1)[-1] for p in Path(metrics_dir / "console").glob("counter_*.db")}
        assert len(pids) == 2, pids  # each process counts in its own file
        for _ in range(4):  # whichever process answers the scrape adds every process's files up
            text = requests.get(base + "/metrics", timeout=10).text
            line = next(x for x in text.splitlines() if x.startswith("dialer_http_requests_total{")
                        and 'endpoint="health.healthz"' in x)
            assert float(line.rsplit(" ", 1)[-1]) == sent, line
    finally:
        proc.terminate()
        proc.wait(30)
