"""Time is injected: only the edges (CLI, web, worker) construct a ``SystemClock``; tests and the simulator
drive a ``ManualClock`` so the same code runs in virtual time."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Protocol

from dnc import settings


class Clock(Protocol):
    def now(self) -> datetime: ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class ManualClock:
    """A clock that moves only when told to."""

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("ManualClock needs an aware datetime")
        self._now = start

    def now(self) -> datetime:
        return self._now

    def advance(self, seconds: float) -> datetime:
        self._now += timedelta(seconds=seconds)
        return self._now

    def set(self, when: datetime) -> None:
        self._now = when


class ScaledClock:
    """Wall-clock time running ``speed`` times faster from ``anchor`` on.

    The demo's worker (``dialer run --speed N``) writes accelerated times; the console and every CLI command of the
    demo must read the same clock, or every "for how long" and every "today" would be off.
    """

    def __init__(self, anchor: datetime, speed: float, start: datetime | None = None) -> None:
        if anchor.tzinfo is None or (start is not None and start.tzinfo is None):
            raise ValueError("the clock anchor and start need a UTC offset")
        self.anchor, self.speed = anchor, speed
        self.start = anchor if start is None else start  # what the clock read at the wall-clock instant ``anchor``

    def now(self) -> datetime:
        return self.start + (datetime.now(UTC) - self.anchor) * self.speed


def clock_from_env(environ: Mapping[str, str] | None = None) -> Clock:
    """``DIALER_CLOCK_ANCHOR`` (ISO instant) with ``DIALER_CLOCK_SPEED`` (and optionally ``DIALER_CLOCK_START``, what
    the clock reads at the anchor): a ``ScaledClock``; otherwise the system's.

    Raises ``ValueError`` naming the variable when a value is malformed (callers turn it into a user error).
    """
    env = settings.current() if environ is None else environ
    anchor, speed = env.get("DIALER_CLOCK_ANCHOR"), env.get("DIALER_CLOCK_SPEED")
    if not anchor or not speed:
        return SystemClock()
    when = _instant("DIALER_CLOCK_ANCHOR", anchor)
    start = _instant("DIALER_CLOCK_START", env["DIALER_CLOCK_START"]) if env.get("DIALER_CLOCK_START") else None
    return ScaledClock(when, parse_speed(speed), start)


def parse_speed(raw: str) -> float:
    """``DIALER_CLOCK_SPEED`` as a factor; ``ValueError`` naming the variable when it is not one we accept."""
    try:
        factor = float(raw)
    except ValueError:
        raise ValueError(f"DIALER_CLOCK_SPEED={raw!r} is not a number") from None
    if not 0.1 <= factor <= 1000:
        raise ValueError(f"DIALER_CLOCK_SPEED={factor}: must be between 0.1 and 1000")
    return factor


def _instant(name: str, raw: str) -> datetime:
    try:
        when = datetime.fromisoformat(raw)
    except ValueError:
        raise ValueError(f"{name}={raw!r} is not an ISO instant (2030-01-08T15:00:00+00:00)") from None
    if when.tzinfo is None:
        raise ValueError(f"{name}={raw!r} needs a UTC offset")
    return when
