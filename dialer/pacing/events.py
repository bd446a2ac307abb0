"""What a pacer observes: the events of a dialing floor, each stamped with ``t`` (seconds, float).

The pacer never reads a clock, so the live dial loop, the simulator and outside evaluators all drive it the same
way. Events are frozen dataclasses built by keyword with exactly these field names; ids are strings. Values are
checked at construction (a misspelt state is the sender's bug and must not silently count as "offline"), but the
*order* of events is never trusted: the floor model copes with duplicates, gaps and reordering.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

AGENT_STATES = ("ready", "talking", "wrap", "paused", "offline")
ANSWERED_BY = ("human", "machine")
OUTCOMES = ("completed", "abandoned", "no_answer", "busy", "failed", "machine")


def _check_t(ev, *fields: str) -> None:
    for name in fields:
        v = getattr(ev, name)
        if type(v) is float and v - v == 0.0:  # already a finite float (most events): nothing to check or convert
            continue
        if isinstance(v, bool) or not isinstance(v, int | float):
            raise ValueError(f"{type(ev).__name__}.{name} must be seconds as a number, got {v!r}")
        v = float(v)
        if not math.isfinite(v):
            raise ValueError(f"{type(ev).__name__}.{name} must be finite, got {v!r}")
        object.__setattr__(ev, name, v)


def _check_id(ev, name: str) -> None:
    v = getattr(ev, name)
    if not isinstance(v, str):
        raise ValueError(f"{type(ev).__name__}.{name} must be a string id, got {v!r}")


def _check_choice(ev, name: str, allowed: tuple[str, ...]) -> None:
    v = getattr(ev, name)
    if v not in allowed:
        raise ValueError(f"{type(ev).__name__}.{name} must be one of {', '.join(allowed)}; got {v!r}")


@dataclass(frozen=True, slots=True)
class AgentState:
    """An agent entered ``state`` at ``t``: ready, talking, wrap, paused or offline."""

    t: float
    agent_id: str
    state: str

    def __post_init__(self) -> None:
        _check_t(self, "t")
        _check_id(self, "agent_id")
        _check_choice(self, "state", AGENT_STATES)


@dataclass(frozen=True, slots=True)
class CallPlaced:
    """A new outbound call left for the carrier at ``t``."""

    t: float
    call_id: str

    def __post_init__(self) -> None:
        _check_t(self, "t")
        _check_id(self, "call_id")


@dataclass(frozen=True, slots=True)
class CallAnswered:
    """The callee picked up at ``t``; ``answered_by`` is the (detected) human or machine."""

    t: float
    call_id: str
    answered_by: str

    def __post_init__(self) -> None:
        _check_t(self, "t")
        _check_id(self, "call_id")
        _check_choice(self, "answered_by", ANSWERED_BY)


@dataclass(frozen=True, slots=True)
class CallConnected:
    """An answered call was bridged to ``agent_id`` at ``t``."""

    t: float
    call_id: str
    agent_id: str

    def __post_init__(self) -> None:
        _check_t(self, "t")
        _check_id(self, "call_id")
        _check_id(self, "agent_id")


@dataclass(frozen=True, slots=True)
class CallEnded:
    """The call is over at ``t``: completed, abandoned, no_answer, busy, failed or machine."""

    t: float
    call_id: str
    outcome: str

    def __post_init__(self) -> None:
        _check_t(self, "t")
        _check_id(self, "call_id")
        _check_choice(self, "outcome", OUTCOMES)


@dataclass(frozen=True, slots=True)
class HistorySummary:
    """The campaign's stored counts over the last 30 days, sent once by the live loop at start.

    A restarted worker must not forget abandons it already spent: the pacer seeds its 30-day budget with these
    counts instead of starting from a clean slate. ``live_placed`` and ``abandoned_placed`` (optional, one
    placement time per live answer and per abandon) make the budget exact as those calls leave the window; without
    them the counts are spread evenly over the 30 days ending at ``t``.
    """

    t: float
    live_answers: int
    abandoned: int
    live_placed: tuple[float, ...] | None = None
    abandoned_placed: tuple[float, ...] | None = None

    def __post_init__(self) -> None:
        _check_t(self, "t")
        for name in ("live_answers", "abandoned"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int) or v < 0:
                raise ValueError(f"HistorySummary.{name} must be a non-negative int, got {v!r}")
        for name, count in (("live_placed", self.live_answers), ("abandoned_placed", self.abandoned)):
            v = getattr(self, name)
            if v is None:
                continue
            times = tuple(float(x) for x in v)
            if len(times) != count or not all(math.isfinite(x) for x in times):
                raise ValueError(f"HistorySummary.{name} must hold {count} finite placement times, got {len(times)}")
            object.__setattr__(self, name, times)


@dataclass(frozen=True, slots=True)
class AgentWillBeFree:
    """Simulator-only knowledge: ``agent_id`` will be ready again at ``free_at`` (its sampled talk + wrap end).

    Only the "talk-oracle" bound uses it; every real pacer ignores it, because no live floor can know it.
    """

    t: float
    agent_id: str
    free_at: float

    def __post_init__(self) -> None:
        _check_t(self, "t", "free_at")
        _check_id(self, "agent_id")


Event = AgentState | CallPlaced | CallAnswered | CallConnected | CallEnded | HistorySummary | AgentWillBeFree
