"""Calls the carrier took whose reference the database refused to store, kept until the same worker records them.

Between the carrier's "yes" (a reference) and ``LoopStore.placed`` there is a write that can fail: SQLite locked past
its busy timeout, a lost connection. Without the reference the call's callbacks find no row and are set aside, and
an answered person waits in silence until a sweep or the next worker start adopts the call. The worker knows the
reference, so it keeps it here and writes it on its next pass (``DialLoop`` does so before it applies any carrier
event): the call is recorded within a turn of the database coming back.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from dialer.loop.store import LoopStore

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Unrecorded:
    call_id: int
    provider: str
    ref: str
    sent_at: datetime


class UnrecordedPlacements:
    """Placements to write again, by carrier reference (the loop's thread only)."""

    def __init__(self) -> None:
        self._by_ref: dict[str, Unrecorded] = {}

    def __len__(self) -> int:
        return len(self._by_ref)

    def __contains__(self, ref: object) -> bool:
        return ref in self._by_ref

    def add(self, call_id: int, provider: str, ref: str, sent_at: datetime) -> None:
        self._by_ref[ref] = Unrecorded(call_id, provider, ref, sent_at)

    def record(self, store: LoopStore, *, strict: bool = False) -> None:
        """Write each kept placement; one the database still refuses stays for the next pass (``strict``: its error
        is raised, so whoever delivers a carrier event for it tries the event again later)."""
        for ref, p in list(self._by_ref.items()):
            try:
                store.placed(p.call_id, p.provider, p.ref, p.sent_at)
            except Exception:
                if strict:
                    raise
                log.warning("call %s (%s) still not recorded: the database refused it again", p.call_id, ref)
                return
            del self._by_ref[ref]
            log.info("call %s (%s) recorded on a later pass", p.call_id, ref)
