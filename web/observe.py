"""``/healthz``, ``/readyz`` and ``/metrics`` on both web apps, and the request metrics behind ``/metrics``.

- ``/healthz``: the process answers (no database): what a load balancer's liveness check or a restart policy asks;
- ``/readyz``: ``dialer.observe.health``'s named checks, 503 when one fails; ``?check=database`` asks only some (a
  load balancer in front of the console may want the console served while the dialing floor is down);
- ``/metrics``: Prometheus text. Under gunicorn each worker process counts its own requests in prometheus_client's
  multiprocess files (``dialer serve`` sets the directory up, ``DIALER_METRICS_DIR``), and whichever process
  answers the scrape adds every process's files up; the cluster's state (leases per worker, the callback backlog)
  is read from the database at the scrape (``dialer.observe.cluster``), so every process agrees on it.

None asks for a login (probes and the scraper have none) and none carries a secret: no URL, no error text, no
number. Still, the webhooks app faces the internet (Twilio must reach it), so ``/metrics`` answers only
``DIALER_METRICS_ADDRESSES`` (loopback and private networks by default; 403 for anyone else) and ``/readyz`` gives
anyone else each check's ok alone, not its detail (which names campaigns). The client's address is the connection's
own, or ``X-Forwarded-For`` from a trusted proxy only (``web.proxies``): a forged header gets nobody in. Block
``/metrics`` at the proxy as well (docs/deploy.md).
"""

from __future__ import annotations

import time
from functools import cache

from flask import Blueprint, Flask, Response, current_app, g, jsonify, request
from sqlalchemy.orm import Session, sessionmaker

from dialer.clock import Clock
from dialer.observe.access import BareReadiness, may_scrape
from dialer.observe.health import ReadinessProbe
from dnc import settings
from dnc.registry.snapshot import Store
from dnc.settings import Network

bp = Blueprint("health", __name__)
_monotonic = time.monotonic  # the edge's clock for reusing a bare readiness answer (tests move it)


@cache
def _request_metrics():
    """Created once per process, when the first app is built: in a gunicorn worker that is after gunicorn set the
    multiprocess directory, so the values go to this process's files."""
    from prometheus_client import Counter, Histogram

    return (Counter("dialer_http_requests", "Requests answered, by app, route, method and status",
                    ["app", "endpoint", "method", "status"]),
            Histogram("dialer_http_request_seconds", "Time to answer a request, by app and route",
                      ["app", "endpoint"], buckets=(.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30)))


def _exposition(app: Flask) -> bytes:
    from prometheus_client import REGISTRY, CollectorRegistry, generate_latest, multiprocess, values

    registry = REGISTRY
    if values.ValueClass is not values.MutexValue:  # multiprocess mode: add up every worker's files
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    cluster = app.extensions["observe"]["cluster"]
    return generate_latest(registry) + generate_latest(cluster)


@bp.get("/healthz")
def healthz():
    return jsonify(status="alive")


def _may_scrape() -> bool:
    """Whether the client is one of ``DIALER_METRICS_ADDRESSES`` (``dialer.observe.access``, as a worker's listener)."""
    return may_scrape(request.remote_addr, current_app.extensions["observe"]["scrapers"])


@bp.get("/readyz")
def readyz():
    only = request.args.getlist("check") or None
    if not _may_scrape():  # a balancer needs ok or not; the details name campaigns and hosts' generations
        body, ok = current_app.extensions["observe"]["bare"].answer(only)
        return jsonify(body), 200 if ok else 503
    probe: ReadinessProbe = current_app.extensions["observe"]["probe"]
    result = probe.run(only)
    return jsonify(result.to_dict()), 200 if result.ok else 503


@bp.get("/metrics")
def metrics():
    from prometheus_client.exposition import CONTENT_TYPE_LATEST

    if not _may_scrape():
        return Response("/metrics answers only DIALER_METRICS_ADDRESSES.\n", status=403, mimetype="text/plain")
    return Response(_exposition(current_app), content_type=CONTENT_TYPE_LATEST)


def _started() -> None:
    g.observe_started = time.perf_counter()


def _answered(name: str):
    def record(response: Response) -> Response:
        started = g.pop("observe_started", None)
        endpoint = request.endpoint or "unmatched"  # the route, never the path: paths carry ids and numbers
        if started is not None and endpoint != "health.metrics":
            requests, seconds = _request_metrics()
            requests.labels(name, endpoint, request.method, str(response.status_code)).inc()
            seconds.labels(name, endpoint).observe(time.perf_counter() - started)
        return response

    return record


def init_observe(app: Flask, name: str, sessions: sessionmaker[Session], clock: Clock,
                 registry: Store | None, scrapers: tuple[Network, ...] | None = None) -> None:
    """Add the three routes and the request metrics to ``app`` (``name``: console or webhooks; ``registry``: this
    host's snapshot directory, None for the webhooks, which never read it; ``scrapers``: who may read the metrics,
    by default ``DIALER_METRICS_ADDRESSES``)."""
    from prometheus_client import CollectorRegistry

    from dialer.observe.cluster import ClusterCollector

    cluster = CollectorRegistry(auto_describe=False)
    cluster.register(ClusterCollector(sessions, clock))
    probe = ReadinessProbe(sessions, clock, registry=registry)
    app.extensions["observe"] = {"probe": probe, "cluster": cluster,
                                 "scrapers": settings.current().metrics_addresses if scrapers is None else scrapers,
                                 "bare": BareReadiness(probe, lambda: _monotonic())}
    _request_metrics()  # now, not under the first burst of concurrent requests (a second creation would fail)
    app.register_blueprint(bp)
    app.before_request_funcs.setdefault(None, []).insert(0, _started)  # first: a login redirect is timed too
    app.after_request(_answered(name))
