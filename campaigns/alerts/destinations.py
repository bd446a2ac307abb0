"""Where an alert webhook may point: https to public addresses only, unless the operator allows otherwise.

The webhook URL is typed by a campaign manager, and the worker POSTs to it from inside the network: without a check
it reaches 127.0.0.1, the cloud's metadata service at 169.254.169.254 or any internal host (server-side request
forgery). The URL is checked when it is entered and again before every send (a name can change its address between
the two), and redirects are never followed (a public host could send the request inward). A name that changes its
address in the instant between the check and the connection is not caught (DNS rebinding). The operator setting
``DIALER_ALERT_WEBHOOK_PRIVATE=1`` allows http and internal addresses (a receiver inside your own network).
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable
from urllib.parse import urlsplit

from dnc import settings
from dnc.errors import UserError

Resolve = Callable[[str, int], list[str]]  # host, port -> the addresses it resolves to


def resolve(host: str, port: int) -> list[str]:
    return sorted({info[4][0] for info in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)})


def _internal(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return not ip.is_global or ip.is_multicast


def problem(url: str, *, resolver: Resolve | None = resolve, allow_private: bool | None = None) -> str | None:
    """Why ``url`` may not receive alerts, or None. ``resolver`` None: check the form only (a name that does not
    resolve now is checked again at send time)."""
    if allow_private is None:
        allow_private = settings.current().alert_webhook_private
    parts = urlsplit(url)
    schemes = ("http", "https") if allow_private else ("https",)
    if parts.scheme not in schemes or not parts.hostname or len(url) > 500:
        return (f"must be an {'http(s)' if allow_private else 'https'} URL such as https://hooks.example.com/dialer"
                f"{'' if allow_private else ' (http and internal addresses need DIALER_ALERT_WEBHOOK_PRIVATE=1)'}")
    if parts.username or parts.password:
        return "must not carry a user name or password"
    if allow_private:
        return None
    host = parts.hostname
    try:
        port = parts.port or 443
    except ValueError:
        return "has an invalid port"
    if host == "localhost" or host.endswith((".localhost", ".local", ".internal", ".home.arpa")):
        return f"points at an internal host ({host})"
    try:
        addresses = [str(ipaddress.ip_address(host))]
    except ValueError:
        if resolver is None:
            return None
        try:
            addresses = resolver(host, port)
        except OSError:
            return f"{host} does not resolve"
    inward = [a for a in addresses if _internal(a)]
    if inward:
        return f"points at an internal address ({host} is {inward[0]})"
    return None


def check_entered(url: str) -> None:
    """At entry: refuse an internal or non-https URL; a name that does not resolve now is accepted (checked at
    every send)."""
    def lenient(host: str, port: int) -> list[str]:
        try:
            return resolve(host, port)
        except OSError:
            return []

    why = problem(url, resolver=lenient)
    if why:
        raise UserError(f"alert_webhook_url: {why}, got {url!r}")
