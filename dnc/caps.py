"""State call caps (FL, OK, MD: 3 calls per 24 h; ME: 1 per 8 h): what counts, over which period, the number lock.

The statutes count calls made to the person on the subject, answered or not, whoever placed them. So the count is
taken from every call the product knows of to the called party: any campaign, any worker, preview and imported
calls, any outcome, and (when the caller knows the lead) the calls to the lead's other numbers too, since a lead
that moved on to its next number is still the same person. ``dnc`` knows nothing of the call records; its callers
pass a ``CallTimes`` function that reads them (``campaigns.dispatch.call_times``). Without one the gate falls back
to its own earlier approvals of the number.

The period is read where the rule says (``Cap.clock``): "local" also reads the hours on the called party's wall
clock in every candidate zone, and the longest of those periods counts (a DST change makes 24 local hours last
23 or 25). Two workers must not both place the third call: ``lock_number`` takes a per-number lock that lasts
until the transaction ends, before the calls are counted, so the second worker counts the first one's call.
When several candidate states have caps, every one of them holds (``cap_check``), not only the strictest-looking.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from dnc.reasons import Reason
from dnc.rules import Cap, Rules
from dnc.tables import LedgerRecord

# (e164, since, until) -> the start time of every call to the called party at that number (the number, and the
# lead's other numbers when the reader knows the lead) placed in (since, until]
CallTimes = Callable[[str, datetime, datetime], Sequence[datetime]]
_LOCK_SPACE = 0x444E43 << 36  # "DNC" in the high bits: these advisory lock keys collide with no other use


@lru_cache(maxsize=256)
def _tz(name: str) -> ZoneInfo | None:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


def _wall_shift(t: datetime, hours: int, zone: ZoneInfo) -> list[datetime]:
    """``t`` moved by ``hours`` on the wall clock of ``zone`` (both readings of an ambiguous or skipped time)."""
    wall = t.astimezone(zone).replace(tzinfo=None) + timedelta(hours=hours)
    return [wall.replace(tzinfo=zone, fold=f).astimezone(UTC) for f in (0, 1)]


def period_start(at: datetime, cap: Cap, zones: Iterable[str]) -> datetime:
    """The earliest start of the cap period ending at ``at`` (elapsed hours, and each zone's wall clock)."""
    starts = [at - timedelta(hours=cap.hours)]
    if cap.clock == "local":
        starts += [s for z in zones if (tz := _tz(z)) is not None for s in _wall_shift(at, -cap.hours, tz)]
    return min(starts)


def period_end(call: datetime, cap: Cap, zones: Iterable[str]) -> datetime:
    """The first instant whose cap period no longer contains ``call``."""
    ends = [call + timedelta(hours=cap.hours)]
    if cap.clock == "local":
        ends += [e for z in zones if (tz := _tz(z)) is not None for e in _wall_shift(call, cap.hours, tz)]
    return max(ends)


def cap_check(recent: Sequence[datetime], states: Iterable[str], at: datetime, rules: Rules,
              zones: Iterable[str] = ()) -> tuple[Reason | None, datetime | None]:
    """(reason, instant every cap clears) when any candidate state's cap is used up by the ``recent`` calls.

    Every cap holds at once: a Florida lead on a Maine number is under both 1 call per 8 h and 3 per 24 h, and no
    one cap implies the other (three calls 9 h apart keep Maine's and break Florida's).
    """
    zones = tuple(zones)
    over: list[tuple[Cap, str, int, datetime]] = []
    for cap, state in rules.caps_for(states):
        since = period_start(at, cap, zones)
        inside = sorted((t for t in recent if since < t <= at), reverse=True)
        if len(inside) >= cap.calls:
            over.append((cap, state, len(inside), period_end(inside[cap.calls - 1], cap, zones)))
    if not over:
        return None, None
    clears = max(o[3] for o in over)
    local = " (read on the called party's clock)"
    parts = "; ".join(f"{n} call(s) to this called party in the last {cap.hours} h"
                      f"{local if cap.clock == 'local' else ''}, counting every campaign and source, and every "
                      f"number of the lead: {state} allows at most {cap.calls} per {cap.hours} h"
                      for cap, state, n, _ in over)
    return Reason("state_cap", f"{parts} (next at {clears:%Y-%m-%d %H:%M} UTC)"), clears


def ledger_call_times(session: Session) -> CallTimes:
    """The gate's own approvals as calls: the fallback when the caller has no call records to offer."""
    def read(e164: str, since: datetime, until: datetime) -> list[datetime]:
        return list(session.scalars(select(LedgerRecord.at).where(
            LedgerRecord.e164 == e164, LedgerRecord.kind == "gate", LedgerRecord.allowed.is_(True),
            LedgerRecord.at > since, LedgerRecord.at <= until)))
    return read


def recent_calls(calls: CallTimes, e164: str, states: Iterable[str], zones: Iterable[str], at: datetime,
                 rules: Rules) -> list[datetime]:
    """The calls to the number inside the longest period of the candidate states' caps ending at ``at`` (none when
    no cap applies)."""
    caps = rules.caps_for(states)
    if not caps:
        return []
    zones = tuple(zones)
    return list(calls(e164, min(period_start(at, cap, zones) for cap, _ in caps), at))


def lock_number(session: Session, e164: str) -> None:
    """Hold the number until the transaction ends, so a concurrent gate for it waits and then sees this call.

    PostgreSQL: a transaction-scoped advisory lock. SQLite has one writer at a time (the product begins every
    transaction IMMEDIATE), which serializes the count and the call it allows by itself.
    """
    if session.get_bind().dialect.name != "postgresql":
        return
    digits = e164[2:] if e164.startswith("+1") and e164[2:].isdigit() else None
    key = _LOCK_SPACE | (int(digits) if digits else zlib.crc32(e164.encode()))
    session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})
