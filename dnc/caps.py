"""State call caps (FL, OK, MD: 3 calls per 24 hours): what counts, over which period, and the per-number lock.

The statutes count calls made to the person on the subject, answered or not, whoever placed them. So the count is
taken from every call the product knows of to the number: any campaign, any worker, preview and imported calls,
any outcome. ``dnc`` knows nothing of the call records; its callers pass a ``CallTimes`` function that reads them
(``campaigns.dispatch.call_times``). Without one the gate falls back to its own earlier approvals.

The period is read where the rule says (``Cap.clock``): "local" also reads the hours on the called party's wall
clock in every candidate zone, and the longest of those periods counts (a DST change makes 24 local hours last
23 or 25). Two workers must not both place the third call: ``lock_number`` takes a per-number lock that lasts
until the transaction ends, before the calls are counted, so the second worker counts the first one's call.
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

# (e164, since, until) -> the start time of every call to the number placed in (since, until]
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
    """(reason, instant the cap clears) when the strictest state cap is used up by the ``recent`` calls."""
    found = rules.cap_for(states)
    if found is None:
        return None, None
    cap, state = found
    zones = tuple(zones)
    since = period_start(at, cap, zones)
    inside = sorted((t for t in recent if since < t <= at), reverse=True)
    if len(inside) < cap.calls:
        return None, None
    clears = period_end(inside[cap.calls - 1], cap, zones)
    where = " (read on the called party's clock)" if cap.clock == "local" else ""
    return Reason("state_cap", f"{len(inside)} call(s) to this number in the last {cap.hours} h{where}, counting "
                               f"every campaign and source: {state} allows at most {cap.calls} per {cap.hours} h "
                               f"(next at {clears:%Y-%m-%d %H:%M} UTC)"), clears


def ledger_call_times(session: Session) -> CallTimes:
    """The gate's own approvals as calls: the fallback when the caller has no call records to offer."""
    def read(e164: str, since: datetime, until: datetime) -> list[datetime]:
        return list(session.scalars(select(LedgerRecord.at).where(
            LedgerRecord.e164 == e164, LedgerRecord.kind == "gate", LedgerRecord.allowed.is_(True),
            LedgerRecord.at > since, LedgerRecord.at <= until)))
    return read


def recent_calls(calls: CallTimes, e164: str, states: Iterable[str], zones: Iterable[str], at: datetime,
                 rules: Rules) -> list[datetime]:
    """The calls to the number inside the strictest cap's period ending at ``at`` (none when no cap applies)."""
    found = rules.cap_for(states)
    if found is None:
        return []
    return list(calls(e164, period_start(at, found[0], zones), at))


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
