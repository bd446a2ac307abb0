"""Pacing: how many calls to place now. Pure and clock-free; the dial loop, the simulator and evaluators drive
every pacer through one contract::

    from dialer.pacing import make_pacer, AgentState, CallPlaced, CallAnswered, CallConnected, CallEnded
    pacer = make_pacer(name, **settings)   # settings: plain str/float/int keywords; unknown ones raise
    pacer.observe(event)                   # every event carries t (seconds, float); the pacer never reads a clock
    n = pacer.plan(t)                      # a plain int >= 0: how many new calls to place now

Compatible extensions:

- ``pacer.explain() -> dict``: the inputs behind the last ``plan()`` (agents ready/busy/staffed, calls in flight,
  answered waiting, 30-day abandon rate and budget left, and for the forecasting pacers agents expected free,
  live probability, the mode actually used such as ``"fallback-progressive: cold start"``, and ``n``).
- ``HistorySummary(t, live_answers, abandoned)``: the campaign's stored 30-day counts, sent by the live loop at
  start so a restarted worker keeps the abandon budget it already spent.
- ``AgentWillBeFree(t, agent_id, free_at)``: simulator-only; only the ``"talk-oracle"`` bound uses it.
- ``pacer.calls_in_flight() -> list[str]``: the ids of the calls it counts placed and not ended.
- ``PACER_NAMES``: every name ``make_pacer`` accepts; ``pacer_settings(name)`` describes each one's settings.
"""

from __future__ import annotations

from typing import Any

from dialer.pacing.base import Pacer, PacerSettingError, Setting
from dialer.pacing.eis import EisPacer
from dialer.pacing.events import (
    AgentState,
    AgentWillBeFree,
    CallAnswered,
    CallConnected,
    CallEnded,
    CallPlaced,
    Event,
    HistorySummary,
)
from dialer.pacing.oracle import TalkOraclePacer
from dialer.pacing.predictive import PredictivePacer
from dialer.pacing.simple import PowerPacer, PreviewPacer, ProgressivePacer, RatioPacer
from dialer.pacing.threshold import ThresholdPacer
from dialer.pacing.vicidial import VicidialAdaptivePacer

_PACERS: dict[str, type[Pacer]] = {
    cls.name: cls
    for cls in (PredictivePacer, ProgressivePacer, PowerPacer, RatioPacer, VicidialAdaptivePacer, TalkOraclePacer,
                EisPacer, ThresholdPacer, PreviewPacer)
}
PACER_NAMES: tuple[str, ...] = tuple(_PACERS)


def make_pacer(name: str = "predictive", **settings: Any) -> Pacer:
    """A fresh pacer by name; raises ``PacerSettingError`` (a ValueError) naming a bad name or setting."""
    cls = _PACERS.get(name)
    if cls is None:
        raise PacerSettingError(f"unknown pacer {name!r}; valid: {', '.join(PACER_NAMES)}")
    return cls(**settings)


def pacer_settings(name: str) -> dict[str, Setting]:
    """The settings ``name`` accepts, with defaults and meanings (for CLI help and the console)."""
    cls = _PACERS.get(name)
    if cls is None:
        raise PacerSettingError(f"unknown pacer {name!r}; valid: {', '.join(PACER_NAMES)}")
    return cls.describe_settings()


__all__ = [
    "PACER_NAMES", "AgentState", "AgentWillBeFree", "CallAnswered", "CallConnected", "CallEnded", "CallPlaced",
    "Event", "HistorySummary", "Pacer", "PacerSettingError", "Setting", "make_pacer", "pacer_settings",
]
