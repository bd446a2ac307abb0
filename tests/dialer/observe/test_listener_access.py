"""Who may read a worker's own listener (``dialer run --metrics-host 0.0.0.0``, ``dialer jobs serve``): the same
``DIALER_METRICS_ADDRESSES`` the console's ``/metrics`` answers. A worker listening on every interface of a host
with a public address must not hand its metrics and its readiness details (campaigns, hosts) to anyone who asks."""

from __future__ import annotations

import requests

from dialer.observe.listener import start_listener


def _serve(sessions, clock, tmp_path):
    from dnc.registry.snapshot import Store

    return start_listener(sessions, clock, "127.0.0.1", 0, holder="host:1", beats=lambda: 0,
                          registry=Store(tmp_path / "dnc"))


def test_a_client_outside_the_metrics_addresses_gets_403_and_a_bare_readiness(sessions, clock, tmp_path, setenv):
    setenv(DIALER_METRICS_ADDRESSES="10.0.0.0/8")  # Prometheus on the private network; this client is 127.0.0.1
    listener, port = _serve(sessions, clock, tmp_path)
    try:
        base = f"http://127.0.0.1:{port}"
        metrics = requests.get(base + "/metrics", timeout=10)
        assert metrics.status_code == 403 and "dialer_" not in metrics.text
        assert "DIALER_METRICS_ADDRESSES" in metrics.text
        ready = requests.get(base + "/readyz", timeout=10).json()
        assert set(ready["checks"]) == {"database", "registry", "leases", "callbacks"}
        assert all(check == {"ok": check["ok"]} for check in ready["checks"].values()), ready  # no detail
        assert requests.get(base + "/healthz", timeout=10).status_code == 200  # liveness stays open
    finally:
        listener.stop()


def test_a_client_inside_the_metrics_addresses_reads_everything(sessions, clock, tmp_path, setenv):
    setenv(DIALER_METRICS_ADDRESSES="10.0.0.0/8,127.0.0.1")
    listener, port = _serve(sessions, clock, tmp_path)
    try:
        base = f"http://127.0.0.1:{port}"
        metrics = requests.get(base + "/metrics", timeout=10)
        assert metrics.status_code == 200 and "dialer_database_up" in metrics.text
        ready = requests.get(base + "/readyz", timeout=10).json()
        assert all("detail" in check for check in ready["checks"].values()), ready
    finally:
        listener.stop()
