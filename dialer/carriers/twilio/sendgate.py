"""A hook run at the moment a request's first byte is written to the socket.

Twilio counts a call against the account's calls per second when its create *arrives*. Stamping "sent" before the
twilio library and ``requests`` have built the request leaves their work (and, on a busy host, the wait for a core)
between the stamp and the wire, so two creates stamped a slot apart can leave together. The adapter arms a hook
(``armed``) around each create instead; the HTTP connection runs it just before it writes the request, and the
hook waits for the send pacer's guard and records the send moment there.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool


class _Armed(threading.local):
    hook: Callable[[], Callable[[], None] | None] | None = None


ARMED = _Armed()


@contextmanager
def armed(hook: Callable[[], Callable[[], None] | None]) -> Iterator[None]:
    """Run ``hook`` right before this thread's next request is written (once), within the block; what it returns
    (if anything) is called once that first write is done."""
    ARMED.hook = hook
    try:
        yield
    finally:
        ARMED.hook = None


class _Gated:
    """Mixin for urllib3's connections: the first write of each request runs the armed hook, and what the hook
    returned runs once the whole request (headers and body, which urllib3 writes apart) is written."""

    _fresh = False
    _finish: Callable[[], None] | None = None

    def putrequest(self, *args, **kwargs):
        self._fresh = True
        return super().putrequest(*args, **kwargs)

    def send(self, data) -> None:
        if self._fresh:
            self._fresh = False
            hook, ARMED.hook = ARMED.hook, None
            if hook is not None:
                self._finish = hook()
        return super().send(data)

    def request(self, *args, **kwargs):
        try:
            return super().request(*args, **kwargs)
        finally:
            finish, self._finish = self._finish, None
            if finish is not None:
                finish()


class GatedHTTPConnection(_Gated, HTTPConnection):
    pass


class GatedHTTPSConnection(_Gated, HTTPSConnection):
    pass


class GatedHTTPPool(HTTPConnectionPool):
    ConnectionCls = GatedHTTPConnection


class GatedHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = GatedHTTPSConnection


class GatedAdapter(HTTPAdapter):
    """``requests``' adapter whose connections run the armed hook."""

    def init_poolmanager(self, *args, **kwargs) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {"http": GatedHTTPPool, "https": GatedHTTPSPool}
