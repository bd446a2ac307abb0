"""The "talk-oracle" bound (B1 of docs/pacing.md §2.1): the predictive pacer told each busy agent's exact free time.

Only the simulator can send ``AgentWillBeFree`` (it sampled the talk and wrap durations), so this pacer measures
how much better pacing could get with perfect handle-time forecasts while dial outcomes stay random; the gap
between it and "predictive" is the value left in forecasting. Agents whose free time was not announced fall back
to the learned forecast.
"""

from __future__ import annotations

import numpy as np

from dialer.pacing.events import AgentWillBeFree
from dialer.pacing.floor import TALKING, WRAP
from dialer.pacing.predictive import PredictivePacer


class TalkOraclePacer(PredictivePacer):
    name = "talk-oracle"

    def __init__(self, **settings) -> None:
        super().__init__(**settings)
        self.free_at = np.full(16, np.nan)

    def on_will_be_free(self, ev: AgentWillBeFree) -> None:
        i = self.agent_slot.get(ev.agent_id)
        if i is None:
            return
        if i >= len(self.free_at):
            self.free_at = np.concatenate([self.free_at, np.full(max(i + 1, len(self.free_at)), np.nan)])
        self.free_at[i] = ev.free_at

    def _busy_agents_free(self, t: float) -> np.ndarray:
        n = len(self.agent_slot)
        if len(self.free_at) < n:
            self.free_at = np.concatenate([self.free_at, np.full(n - len(self.free_at), np.nan)])
        rows = []
        for code, table in ((TALKING, self.tables.talking), (WRAP, self.tables.wrapping)):
            mask = self.agent_state[:n] == code
            since = self.agent_since[:n][mask]
            free_at = self.free_at[:n][mask]
            model = table(t - since)
            known = free_at >= since  # announced for the current handle (not a stale one)
            exact = (free_at[:, None] - t <= self.taus[None, :] + self.grace).astype(float)
            rows.append(np.where(known[:, None], exact, model))
        return np.concatenate(rows)
