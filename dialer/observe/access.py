"""Who may read a process's metrics and readiness details: ``DIALER_METRICS_ADDRESSES``, for every listener.

The console and the webhooks apply it on their ``/metrics`` (``web.observe``); a worker's own listener
(``dialer run --metrics-host 0.0.0.0``) applies the same list, so opening a worker to a Prometheus on another host
does not open it to the internet. Anyone else gets 403 from ``/metrics`` and each readiness check's ok alone (a
balancer needs no more; the details name campaigns and hosts), probed at most once a second.
"""

from __future__ import annotations

import ipaddress
import time
from collections.abc import Callable, Iterable

from dialer.observe.health import ReadinessProbe
from dnc.settings import Network

BARE_FOR_S = 1.0  # how long a readiness answer to a client outside the list is reused


def may_scrape(remote: str | None, scrapers: Iterable[Network]) -> bool:
    """Whether ``remote`` is in ``scrapers`` (an IPv4 client on an IPv6 socket counts as IPv4)."""
    try:
        address = ipaddress.ip_address(remote or "")
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return any(address in net for net in scrapers)


class BareReadiness:
    """The readiness anyone outside the list gets: each check's ok alone, probed at most once a second per set of
    checks (a probe is several queries; a public address could ask thousands of times a second)."""

    def __init__(self, probe: ReadinessProbe, monotonic: Callable[[], float] = time.monotonic) -> None:
        self.probe, self.monotonic = probe, monotonic
        self._kept: dict[tuple[str, ...] | None, tuple[float, dict, bool]] = {}

    def __len__(self) -> int:
        """How many sets of checks have an answer kept."""
        return len(self._kept)

    def answer(self, only: list[str] | None) -> tuple[dict, bool]:
        # only the checks that exist, so made-up names cannot grow what is kept
        key = None if only is None else tuple(sorted(set(only) & set(self.probe.checks)))
        now = self.monotonic()
        kept = self._kept.get(key)
        if kept is None or now - kept[0] >= BARE_FOR_S:
            result = self.probe.run(None if key is None else list(key))
            body = result.to_dict()
            body["checks"] = {name: {"ok": c["ok"]} for name, c in body["checks"].items()}
            kept = (now, body, result.ok)
            self._kept[key] = kept
        return kept[1], kept[2]
