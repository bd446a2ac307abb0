"""The law's budget over modes that dial by a fixed rule: power (k per ready agent) and ratio (a dial level).

A manager may pick any rule, but the campaign's abandon rate over 30 days is capped whatever the rule says
(docs/pacing.md §0). So these modes dial what their rule asks *only up to* what the predictive pacer would allow
now: the same forecast of agents coming free and of live answers, the same marginal-risk threshold steered by the
abandon loop, the same 30-day budget arithmetic (a thin budget shrinks the threshold; a budget that cannot cover
the calls in flight means one call per ready agent). The rule is the ceiling the manager set; the budget is the
floor's legal limit; the pacer dials the lower of the two and never less than progressive would. Nothing waits for
a guard to notice an overdial after the fact.

The governor learns only from its own decisions: a live answer raises its threshold only while it was the binding
limit (otherwise a cautious rule would wind the loop up and a sudden change of rule would overdial), while every
abandon lowers it.
"""

from __future__ import annotations

from typing import Any

from dialer.pacing.base import Pacer, Setting
from dialer.pacing.predictive import PredictivePacer

#: the product's setting for every campaign in these modes (``dialer.loop.pacers``, the benchmark); the bare rule
#: (``"off"``, the default of the library and its fixed contract) is only a baseline for comparisons
HOLD = {"abandon_budget": "hold"}
BUDGET_SETTING = {"abandon_budget": Setting(str, "off", "hold = dial the rule only as far as the 30-day abandon "
                                             "budget allows (the product's setting); off = the bare rule",
                                             choices=("hold", "off"))}


class GovernedPacer(Pacer):
    """A fixed-rule pacer held to the abandon budget by an inner ``PredictivePacer`` fed the same events."""

    def __init__(self, **settings: Any) -> None:
        super().__init__(**settings)
        hold = self.settings["abandon_budget"] == "hold"
        self.governor = PredictivePacer(target_abandon_rate=self.target) if hold else None

    def observe(self, ev) -> None:
        super().observe(ev)
        if self.governor is not None:
            self.governor.observe(ev)

    def _rule(self, t: float, info: dict[str, Any]) -> int:
        raise NotImplementedError

    def _cold_allowance(self, rule: int) -> bool:
        """Where the forecasts cannot be used (a fresh or restarted pacer, a team under three agents), the rule may
        dial if the budget left covers, with one abandon to spare, every extra call turning out a live answer nobody
        takes: each call beyond one per ready agent at the live share seen so far (25 % before any dial). A fresh
        campaign has no budget, so it dials one call per ready agent; one with abandons to spare keeps its rule
        until they run short."""
        reason = self.governor._fallback()
        if reason is None or reason.startswith("abandon budget"):
            return False
        extra = max(0, rule + self.ringing + self.waiting - self.ready)
        return self.ledger.slack - 1.0 >= extra * self.governor.answers.p_live

    def _plan(self, t: float, info: dict[str, Any]) -> int:
        rule = self._rule(t, info)
        g = self.governor
        if g is None:
            return rule
        safe = g.plan(t)
        if rule > safe and self._cold_allowance(rule):
            safe = rule
        binding = rule > safe
        g.active = g.active and binding
        info["budget_allows"] = safe
        info["rule_asks"] = rule
        if not binding:
            info["held_by"] = "setting"
            return rule
        why = g.explain()
        info["mode"] = f"{self.name} held to the abandon budget ({why['mode']})"
        info["held_by"] = why.get("held_by", "risk")
        info["marginal_risk_now"] = why.get("marginal_risk_now", 0.0)
        return safe
