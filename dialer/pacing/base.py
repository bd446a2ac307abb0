"""What every pacer shares: settings checked by name, the floor model, the abandon ledger and ``explain()``.

A pacer is a ``Floor`` (it sees every event) that answers ``plan(t)`` with a plain ``int >= 0``. Settings are
declared per class so ``make_pacer`` can reject a misspelt or out-of-range one with a message that names it and
lists the valid ones; nothing here reads a clock.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, ClassVar

from dialer.pacing.floor import Floor
from dialer.pacing.ledger import AbandonLedger
from dialer.pacing.sentence import sentence
from dnc.errors import UserError


class PacerSettingError(UserError, ValueError):
    """A pacer setting the user can fix (unknown name, wrong type, out of range)."""


@dataclass(frozen=True)
class Setting:
    """One keyword setting: its type, default, allowed range and what it means."""

    kind: type  # float, int or str
    default: Any
    doc: str
    low: float | None = None
    high: float | None = None
    choices: tuple[str, ...] = ()

    def coerce(self, pacer: str, name: str, value: Any) -> Any:
        if self.kind is str:
            if not isinstance(value, str):
                raise PacerSettingError(f"pacer {pacer!r}: setting {name} must be a string, got {value!r}")
            v = value.strip()
            if self.choices and v not in self.choices:
                raise PacerSettingError(f"pacer {pacer!r}: setting {name} must be one of "
                                        f"{', '.join(self.choices)}; got {value!r}")
            return v
        if isinstance(value, bool):
            value = int(value)
        if isinstance(value, str):
            try:
                value = float(value.strip())
            except ValueError:
                raise PacerSettingError(f"pacer {pacer!r}: setting {name} must be a number, got {value!r}") from None
        if not isinstance(value, int | float) or not math.isfinite(value):
            raise PacerSettingError(f"pacer {pacer!r}: setting {name} must be a finite number, got {value!r}")
        if self.kind is int:
            if value != int(value):
                raise PacerSettingError(f"pacer {pacer!r}: setting {name} must be a whole number, got {value!r}")
            value = int(value)
        else:
            value = float(value)
        if (self.low is not None and value < self.low) or (self.high is not None and value > self.high):
            raise PacerSettingError(f"pacer {pacer!r}: setting {name} = {value!r} is outside "
                                    f"[{self.low}, {self.high}]")
        return value


COMMON_SETTINGS: dict[str, Setting] = {
    "target_abandon_rate": Setting(float, 0.03, "cap on abandoned ÷ live answers over 30 days", 0.0, 0.5),
}


class Pacer(Floor):
    """Base of every pacer: ``observe(event)``, ``plan(t) -> int``, ``explain() -> dict``."""

    name: ClassVar[str] = ""
    SETTINGS: ClassVar[dict[str, Setting]] = {}

    def __init__(self, **settings: Any) -> None:
        super().__init__()
        known = {**COMMON_SETTINGS, **self.SETTINGS}
        unknown = sorted(set(settings) - set(known))
        if unknown:
            raise PacerSettingError(f"pacer {self.name!r}: unknown setting{'s' if len(unknown) > 1 else ''} "
                                    f"{', '.join(unknown)}; valid: {', '.join(sorted(known))}")
        self.settings = {k: s.coerce(self.name, k, settings.get(k, s.default)) for k, s in known.items()}
        self.target = self.settings["target_abandon_rate"]
        self.ledger = AbandonLedger(self.target)
        self._explain: dict[str, Any] | tuple = {"mode": self.name, "n": 0, "held_by": "nobody",
                                                 "sentence": "Not dialing yet: it has not been asked to plan."}

    @classmethod
    def describe_settings(cls) -> dict[str, Setting]:
        return {**COMMON_SETTINGS, **cls.SETTINGS}

    # -- ledger hooks ------------------------------------------------------------------------------------------
    # the ledger books each call under its placement time, as the legal count does (the event time when unknown)
    def on_live_answer(self, t: float, placed: float | None = None) -> None:
        self.ledger.live(t if placed is None else placed)

    def on_live_retracted(self, t: float, placed: float | None = None) -> None:
        self.ledger.unlive(t if placed is None else placed)

    def on_abandon(self, t: float, placed: float | None = None) -> None:
        self.ledger.abandon(t if placed is None else placed)

    def on_history(self, ev) -> None:
        self.ledger.seed(ev.t, ev.live_answers, ev.abandoned, ev.live_placed, ev.abandoned_placed)

    # -- the contract ------------------------------------------------------------------------------------------
    def plan(self, t: float) -> int:
        """How many new calls to place now: always a plain ``int >= 0``."""
        t = float(t)
        if t > self.last_t:
            self.last_t = t
        self.ledger.advance(t)
        info: dict[str, Any] = {}
        if self.staffed == 0:
            n, info["mode"], info["held_by"] = 0, "idle: no agent logged in and unpaused", "nobody"
        else:
            n = self._plan(t, info)
            info.setdefault("mode", self.name)
        n = max(0, int(n))
        # raw values only: rounding and the dict are built by explain(), which is asked far less often
        self._explain = (t, n, self.ready, self.busy, self.staffed, self.ringing, self.waiting, self.ledger.rate,
                         self.ledger.lives, self.ledger.slack, info)
        return n

    def _plan(self, t: float, info: dict[str, Any]) -> int:
        raise NotImplementedError  # each pacer defines its rule

    def explain(self) -> dict[str, Any]:
        """The inputs behind the last ``plan()`` and the mode actually used, for the console and the logs."""
        if isinstance(self._explain, dict):
            return dict(self._explain)
        t, n, ready, busy, staffed, ringing, waiting, rate, lives, slack, info = self._explain
        extra = {k: round(v, 4) if isinstance(v, float) else v for k, v in info.items() if k != "mode"}
        d = {"t": t, "mode": info["mode"], "n": n, "agents_ready": ready, "agents_busy": busy,
             "agents_staffed": staffed, "calls_in_flight": ringing, "answered_waiting": waiting,
             "abandon_rate_30d": round(rate, 5), "live_answers_30d": round(lives),
             "abandon_budget_left": round(slack, 2), **extra}
        d.setdefault("held_by", "ready")
        d["sentence"] = sentence(d, self.target)
        return d
