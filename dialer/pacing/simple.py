"""The non-forecasting modes: preview, progressive, power (k per ready agent) and a fixed dial level (ratio).

They are both product modes a campaign manager can choose and the floors of the benchmark (docs/pacing.md §1.1-1.2).
"""

from __future__ import annotations

import math
from typing import Any

from dialer.pacing.base import Pacer, Setting
from dialer.pacing.governed import BUDGET_SETTING, GovernedPacer


class PreviewPacer(Pacer):
    """Preview: the agent sees the lead and dials it; the pacer never places a call by itself."""

    name = "preview"

    def _plan(self, t: float, info: dict[str, Any]) -> int:
        info["mode"], info["held_by"] = "preview: agents dial themselves", "preview"
        return 0


class ProgressivePacer(Pacer):
    """One call per ready agent: n = ready − (calls ringing + live answers waiting). Never abandons by design
    except when an agent leaves between dial and answer."""

    name = "progressive"

    def _plan(self, t: float, info: dict[str, Any]) -> int:
        return self.ready - self.ringing - self.waiting


class PowerPacer(GovernedPacer):
    """k calls per ready agent: n = ⌊k·ready − (ringing + waiting)⌋ (GnuDialer ``power()``), held to the 30-day
    abandon budget (``governed``)."""

    name = "power"
    SETTINGS = {"k": Setting(float, 2.0, "calls kept ringing per ready agent", 0.1, 20.0), **BUDGET_SETTING}

    def _rule(self, t: float, info: dict[str, Any]) -> int:
        info["k"], info["held_by"] = self.settings["k"], "setting"
        return math.floor(self.settings["k"] * self.ready - self.ringing - self.waiting + 1e-9)


class RatioPacer(GovernedPacer):
    """VICIdial RATIO: a fixed dial level DL; goal = round(DL·agents), n = goal − calls existing.

    Agents are ready + talking + wrap (READY/QUEUE/INCALL/DONE), or only ready with ``available_only`` = 1; calls
    existing are ringing, waiting and connected (SENT/RINGING/LIVE/XFER/CLOSER), as in ``AST_VDauto_dial.pl``;
    held to the 30-day abandon budget (``governed``).
    """

    name = "ratio"
    SETTINGS = {
        "dial_level": Setting(float, 1.0, "calls per agent (VICIdial auto_dial_level)", 0.0, 20.0),
        "available_only": Setting(int, 0, "1 = count only ready agents (available_only_ratio_tally)", 0, 1),
        **BUDGET_SETTING,
    }

    def _rule(self, t: float, info: dict[str, Any]) -> int:
        dl = self.settings["dial_level"]
        info["dial_level"], info["held_by"] = dl, "setting"
        if self.settings["available_only"]:
            # VICIdial adds the connected calls to the goal because it counts them as existing below
            return _round_half_up(dl * self.ready) - self.ringing - self.waiting
        return _round_half_up(dl * self.staffed) - self.ringing - self.waiting - self.connected


def _round_half_up(x: float) -> int:
    """Perl's sprintf-style rounding as VICIdial uses it (0.5 rounds up), not Python's banker's rounding."""
    return math.floor(x + 0.5)
