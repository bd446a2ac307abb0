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


def _counting(sessions):
    from sqlalchemy import event

    engine, count = sessions.kw["bind"], [0]

    def tick(*_args, **_kw) -> None:
        count[0] += 1

    event.listen(engine, "before_cursor_execute", tick)
    return count, lambda: event.remove(engine, "before_cursor_execute", tick)


def test_hammering_readiness_from_a_public_address_costs_the_database_one_probe_a_second(app, sessions, orphan,
                                                                                         monkeypatch):
    """Each probe is several queries: from the internet, 200 requests in a second must not be 200 probes. Scrapers
    and balancers on the private network still get a fresh answer each time."""
    import web.observe

    now = [1000.0]
    monkeypatch.setattr(web.observe, "_monotonic", lambda: now[0], raising=False)
    public, private = _client(app, PUBLIC_CLIENT), _client(app, "10.0.0.7")
    count, stop = _counting(sessions)
    try:
        private.get("/readyz")
        per_probe = count[0]
        assert per_probe >= 3
        count[0] = 0
        answers = {public.get("/readyz").status_code for _ in range(200)}
        assert answers == {503} and count[0] <= per_probe
        count[0] = 0
        for _ in range(3):
            private.get("/readyz")
        assert count[0] == 3 * per_probe
        now[0] += 1.5  # a second later the public answer is probed again
        count[0] = 0
        public.get("/readyz")
        assert count[0] == per_probe
    finally:
        stop()


def test_made_up_check_names_do_not_grow_the_public_answers_kept(app):
    public = _client(app, PUBLIC_CLIENT)
    for i in range(50):
        assert public.get(f"/readyz?check=database&check=x{i}").get_json()["checks"] == {"database": {"ok": True}}
    assert len(app.extensions["observe"]["bare"]) == 1
