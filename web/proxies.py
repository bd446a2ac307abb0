"""Behind a TLS-terminating proxy: trust ``X-Forwarded-*`` only when the request comes from a configured proxy.

``ProxyFix`` believes the headers of whoever sends them. With ``DIALER_PROXY_HOPS`` set, a client reaching the
app directly (around the proxy) could choose its own address (defeating the sign-in throttle and the logs) and its
scheme and host (what webhook signatures are checked against). The headers are honoured only when the connection's
peer is one of ``DIALER_PROXY_ADDRESSES``; from anyone else they are removed before the app sees them.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

from werkzeug.middleware.proxy_fix import ProxyFix

FORWARDED = ("HTTP_X_FORWARDED_FOR", "HTTP_X_FORWARDED_PROTO", "HTTP_X_FORWARDED_HOST", "HTTP_X_FORWARDED_PORT",
             "HTTP_X_FORWARDED_PREFIX", "HTTP_FORWARDED")


class TrustedProxies:
    """WSGI middleware: ``ProxyFix`` with ``hops`` for requests from ``proxies``, the headers dropped otherwise."""

    def __init__(self, app, hops: int, proxies: Iterable[ipaddress.IPv4Network | ipaddress.IPv6Network]) -> None:
        self.app = app
        self.fixed = ProxyFix(app, x_for=hops, x_proto=hops, x_host=hops)
        self.proxies = tuple(proxies)

    def trusted(self, peer: str) -> bool:
        try:
            address = ipaddress.ip_address(peer)
        except ValueError:
            return False
        return any(address in net for net in self.proxies)

    def __call__(self, environ, start_response):
        if self.trusted(environ.get("REMOTE_ADDR", "")):
            return self.fixed(environ, start_response)
        for key in FORWARDED:
            environ.pop(key, None)
        return self.app(environ, start_response)
