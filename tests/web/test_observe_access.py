"""Who may read ``/metrics`` and ``/readyz``'s details: the webhooks app faces the internet (Twilio must reach it),
so its probes do too unless the proxy blocks them. ``DIALER_METRICS_ADDRESSES`` (loopback and private networks by
default) says who may scrape and read the checks' details; anyone else gets 403 from ``/metrics`` and bare ok/not
ok from ``/readyz`` (a balancer needs no more), also when it forges ``X-Forwarded-For``."""

from __future__ import annotations

import pytest

from campaigns.campaign.service import create_campaign
from campaigns.db import session_scope

PUBLIC_CLIENT = "203.0.113.9"
SECRET_NAME = "Acme - Florida seniors"


def _client(app, remote: str):
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = remote
    return client


@pytest.fixture
def orphan(sessions, clock) -> None:
    """An active campaign no worker holds: /readyz names it in the leases check's detail."""
    with session_scope(sessions) as s:
        create_campaign(s, SECRET_NAME, "+12125550100", clock.now()).status = "active"


@pytest.mark.parametrize("remote", ["127.0.0.1", "10.0.0.7", "192.168.1.20", "::1"])
def test_metrics_and_readiness_details_answer_the_private_network(app, orphan, remote):
    client = _client(app, remote)
    assert client.get("/metrics").status_code == 200
    ready = client.get("/readyz")
    assert ready.status_code == 503 and SECRET_NAME in ready.get_data(as_text=True)


def test_from_a_public_address_metrics_are_refused_and_readiness_is_bare(app, orphan):
    client = _client(app, PUBLIC_CLIENT)
    metrics = client.get("/metrics")
    assert metrics.status_code == 403 and "dialer_" not in metrics.get_data(as_text=True)
    ready = client.get("/readyz")
    assert ready.status_code == 503
    assert ready.get_json() == {"status": "not ready", "checks": {"database": {"ok": True}, "registry": {"ok": True},
                                                                  "leases": {"ok": False}, "callbacks": {"ok": True}}}
    assert client.get("/healthz").status_code == 200


def test_an_operator_may_open_metrics_to_every_address(app_config, seed_users, setenv):
    from web import create_app

    setenv(DIALER_METRICS_ADDRESSES="0.0.0.0/0,::/0")
    client = _client(create_app(app_config), PUBLIC_CLIENT)
    assert client.get("/metrics").status_code == 200


def test_the_webhooks_app_behind_its_proxy_refuses_public_scrapes_and_forged_forwarding(db_url, setenv):
    from web.wsgi import webhook_app

    setenv(DIALER_DATABASE_URL=db_url, DIALER_PROXY_HOPS="1", DIALER_PROXY_ADDRESSES="10.0.0.2")
    app = webhook_app(db_url)
    via_proxy = _client(app, "10.0.0.2")
    assert via_proxy.get("/metrics", headers={"X-Forwarded-For": PUBLIC_CLIENT}).status_code == 403
    assert via_proxy.get("/metrics", headers={"X-Forwarded-For": "10.0.0.50"}).status_code == 200  # Prometheus
    around = _client(app, PUBLIC_CLIENT)  # straight to the app, claiming to be on the private network
    assert around.get("/metrics", headers={"X-Forwarded-For": "10.0.0.50"}).status_code == 403
