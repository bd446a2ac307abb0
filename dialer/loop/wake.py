"""The worker's side of ``campaigns.wake``: a thread LISTENing on PostgreSQL that wakes the carrier thread.

A notification sets a ``threading.Event`` the worker's carrier thread waits on between passes, so a stored callback
or an agent going ready is acted on within milliseconds wherever it was written; without notifications (SQLite, or
while the listening connection is down and being re-made) the thread's own poll interval is the bound.
"""

from __future__ import annotations

import logging
import threading

from sqlalchemy import Engine

from campaigns.wake import CHANNEL

log = logging.getLogger(__name__)


class Waker:
    def __init__(self) -> None:
        self._event = threading.Event()
        self.notified = 0

    def set(self) -> None:
        self.notified += 1
        self._event.set()

    def wait(self, timeout: float) -> bool:
        """Sleep up to ``timeout`` or until woken; True when woken."""
        got = self._event.wait(timeout)
        self._event.clear()
        return got


class PgListener(threading.Thread):
    """LISTEN on ``dialer_wake`` with a connection of its own (autocommit), re-made after a failure."""

    def __init__(self, url: str, waker: Waker) -> None:
        super().__init__(name="pg-listen", daemon=True)
        self.url, self.waker = url, waker
        self.stopping = threading.Event()
        self.listening = threading.Event()

    def run(self) -> None:
        import psycopg

        while not self.stopping.is_set():
            try:
                with psycopg.connect(self.url, autocommit=True) as conn:
                    conn.execute(f"LISTEN {CHANNEL}")
                    self.listening.set()
                    while not self.stopping.is_set():
                        for _ in conn.notifies(timeout=0.5):
                            self.waker.set()
            except Exception as e:  # the database restarted or the network dropped: polling covers the gap
                self.listening.clear()
                log.warning("listening for wake-ups failed (%s); polling meanwhile, retrying in 1 s", e)
                self.stopping.wait(1.0)

    def stop(self) -> None:
        self.stopping.set()


def listen(engine: Engine, waker: Waker) -> PgListener | None:
    """Start a listener for ``engine``'s database (None on SQLite: nothing to listen to)."""
    if engine.dialect.name != "postgresql":
        return None
    url = engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
    listener = PgListener(url, waker)
    listener.start()
    return listener
