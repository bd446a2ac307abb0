"""A worker's own small HTTP listener (``dialer run --metrics-port``, ``dialer jobs serve --metrics-port``).

Load balancers never route to a worker, but Prometheus scrapes it and systemd or compose health checks ask it:

- ``GET /metrics``: the process's metrics (``dialer.observe.metrics``) and the database-derived gauges of its own
  leases and the callback inbox (``dialer.observe.cluster``);
- ``GET /healthz``: the process answers and its dialing loop has turned recently (no database);
- ``GET /readyz``: ``dialer.observe.health``'s checks for this worker (``?check=database`` picks some).

``/metrics`` and ``/readyz``'s details answer only ``DIALER_METRICS_ADDRESSES`` (``dialer.observe.access``), as the
console's do: ``--metrics-host 0.0.0.0`` opens the worker to a Prometheus on another host, not to everyone.

A daemon thread serves it; it never touches the dial loop's lock, so a slow scrape cannot delay dialing.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from socketserver import ThreadingMixIn
from urllib.parse import parse_qs
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from prometheus_client import REGISTRY, CollectorRegistry, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from dialer.observe.access import BareReadiness, may_scrape
from dialer.observe.cluster import ClusterCollector
from dialer.observe.health import CHECKS, ReadinessProbe
from dnc import settings
from dnc.settings import Network

log = logging.getLogger(__name__)
STUCK_AFTER_S = 120.0  # a loop that has not turned this long is stuck (start-up reconciliation included)


class Heartbeat:
    """Liveness from a counter the loop moves (its turn count): stuck when it has not moved for ``stuck_after_s``."""

    def __init__(self, beats: Callable[[], int], stuck_after_s: float = STUCK_AFTER_S,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        self.beats, self.stuck_after_s, self.monotonic = beats, stuck_after_s, monotonic
        self._last, self._at = beats(), monotonic()

    def still_s(self) -> float:
        """Seconds since the counter last moved."""
        value, now = self.beats(), self.monotonic()
        if value != self._last:
            self._last, self._at = value, now
        return now - self._at

    def alive(self) -> tuple[bool, str]:
        still = self.still_s()
        if still > self.stuck_after_s:
            return False, f"the dial loop has not turned for {still:.0f} s"
        return True, f"last turn {still:.1f} s ago"


class _Server(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args) -> None:  # scrapes every 15 s would drown the worker's log
        log.debug("metrics listener: " + format, *args)


class Listener:
    def __init__(self, probe: ReadinessProbe, cluster: ClusterCollector | None = None,
                 heartbeat: Heartbeat | None = None, scrapers: tuple[Network, ...] = ()) -> None:
        self.probe, self.heartbeat, self.scrapers = probe, heartbeat, scrapers
        self.bare = BareReadiness(probe)
        self.extra = CollectorRegistry(auto_describe=False)
        if cluster is not None:
            self.extra.register(cluster)
        self._server: WSGIServer | None = None
        self._thread: threading.Thread | None = None

    def __call__(self, environ: dict, start_response: Callable):
        path = environ.get("PATH_INFO", "")
        if environ.get("REQUEST_METHOD") not in ("GET", "HEAD"):
            return _answer(start_response, "405 Method Not Allowed", b"GET only\n", "text/plain")
        inside = may_scrape(environ.get("REMOTE_ADDR"), self.scrapers)
        if path == "/metrics":
            if not inside:
                return _answer(start_response, "403 Forbidden", b"/metrics answers only DIALER_METRICS_ADDRESSES.\n",
                               "text/plain")
            body = generate_latest(REGISTRY) + generate_latest(self.extra)
            return _answer(start_response, "200 OK", body, CONTENT_TYPE_LATEST)
        if path == "/healthz":
            ok, detail = self.heartbeat.alive() if self.heartbeat is not None else (True, "alive")
            return _json(start_response, ok, {"status": "alive" if ok else "stuck", "detail": detail})
        if path == "/readyz":
            only = parse_qs(environ.get("QUERY_STRING", "")).get("check")
            if not inside:
                body, ok = self.bare.answer(only)
                return _json(start_response, ok, body)
            result = self.probe.run(only)
            return _json(start_response, result.ok, result.to_dict())
        return _answer(start_response, "404 Not Found", b"/metrics, /healthz or /readyz\n", "text/plain")

    def start(self, host: str, port: int) -> int:
        """Listen on ``host:port`` (0: a free port) in a daemon thread; returns the port."""
        self._server = make_server(host, port, self, server_class=_Server, handler_class=_QuietHandler)
        self._thread = threading.Thread(target=self._server.serve_forever, name="metrics-listener", daemon=True)
        self._thread.start()
        return self._server.server_port

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None


def _json(start_response: Callable, ok: bool, body: dict) -> list[bytes]:
    return _answer(start_response, "200 OK" if ok else "503 Service Unavailable",
                   json.dumps(body).encode() + b"\n", "application/json")


def _answer(start_response: Callable, status: str, body: bytes, content_type: str) -> list[bytes]:
    start_response(status, [("Content-Type", content_type), ("Content-Length", str(len(body))),
                            ("Cache-Control", "no-store")])
    return [body]


def start_listener(sessions, clock, host: str, port: int, *, holder: str | None = None,
                   beats: Callable[[], int] | None = None, registry=None,
                   checks: tuple[str, ...] = CHECKS) -> tuple[Listener, int]:
    """A worker's listener, started: readiness of this worker (its own leases, this host's registry directory),
    its metrics, and liveness from ``beats`` (the loop's turn count), the metrics and details for
    ``DIALER_METRICS_ADDRESSES`` only (a bad value stops the process here, naming it). Returns it and its port."""
    scrapers = settings.current().metrics_addresses
    probe = ReadinessProbe(sessions, clock, registry=registry, holder=holder, checks=checks)
    listener = Listener(probe, ClusterCollector(sessions, clock, holder),
                        Heartbeat(beats) if beats is not None else None, scrapers)
    bound = listener.start(host, port)
    log.info("metrics, /healthz and /readyz on http://%s:%d", host, bound)
    return listener, bound
