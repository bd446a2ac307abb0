"""The predictive pacer: forecast agents coming free, forecast live answers, dial while one more call is safe.

Each plan (docs/pacing.md §1.6, the myopic Lagrangian of step 4 in its marginal form):

1. for every busy agent, the chance it is back in ready within τ + grace, from its elapsed talk or wrap time and
   the campaign's learned talk/wrap curves (``handle.HandleModel``);
2. for every ringing call, the chance it answers live within τ given how long it has rung, and the same for a new
   dial (``answers.DialOutcomeModel``), at a few answer times τ spread over the live answer-time distribution;
3. keep adding dials while the marginal one, if it answers live, finds no agent with probability ≤ α
   (``risk``): maximising connects − λ·abandons gives exactly this threshold, α = 1/(1+λ).

α is not a knob. It starts from a team-size baseline (found by simulation) and a closed loop learns a
multiplicative correction on every outcome: each live answer raises log α by η·r*, each abandon lowers it by η, so
abandons settle at r* = 90 % of the target (the margin absorbs day-to-day noise). Above that loop sits the budget
of the legal rule: abandons still allowed over the rolling 30 days = target × live answers − abandons. While few
abandons are to spare, α shrinks in proportion (a cluster of abandons must not exhaust a thin budget); when the
budget left cannot cover the calls already in flight plus one, at cold start (too few observed dials and handles
to trust the curves: 20 finished talks, 100 resolved dials, 10 live answers), and on teams too small for
prediction to pay, the pacer dials progressively (one call per ready agent). Once the answers are trusted but the
talks not yet, it dials for the ready agents only (no busy agent counted as coming free). ``explain()`` says which
mode and why.
"""

from __future__ import annotations

import math
from collections import deque
from typing import Any

import numpy as np

from dialer.pacing import kernel
from dialer.pacing.answers import DialOutcomeModel, FittedAnswers
from dialer.pacing.base import Pacer, Setting
from dialer.pacing.floor import OFFLINE, PAUSED, READY, TALKING, WRAP
from dialer.pacing.handle import HandleModel, HandleTables, LazyTable, elapsed_index
from dialer.pacing.risk import (
    EXACT_MAX_TERMS,
    choose_exact,
    choose_normal,
    expected_excess,
    moments_of_terms,
    with_terms,
)

HORIZONS = 8  # answer times τ_k at which the surplus is checked (equal-mass quantiles of the live answer time)
REFIT_EVERY = 30.0  # seconds of event time between refits of the curves and tables (a refit costs ~3 ms)
RING_STEP = 0.25  # resolution of the ringing-call table (s)
# finished talks before the handle curve is trusted, whatever the floor's size. A floor that logs in at once first
# hears its quickest calls end (100 agents: 20 talks in the first minute, every one a refusal of 10-30 s); the calls
# still running, censored, keep the curve honest (survival: KM, and a lognormal fitted to finished and running talks
# together where the KM stops short of its quartiles). Fitted to the finished talks alone, that curve once said the
# agents still talking would be free within seconds (199 calls for 52 ready agents, 7.7 % of the lives abandoned);
# waiting for one finished talk per agent instead kept a fresh 100-agent floor progressive for 6 minutes.
COLD_TALKS = 20
COLD_CHECK_EVERY = 5.0  # seconds between looks at whether the talk curve reaches its median (a KM fit each)
COLD_DIALS = 100  # resolved dials (with COLD_LIVES live ones) before the answer model is trusted
COLD_LIVES = 10
ETA = 0.1  # step of the abandon loop on log α while it is learning ...
ETA_MIN, ETA_SETTLE = 0.05, 30.0  # ... shrinking as ETA·k/(k + abandons seen) down to ETA_MIN (k = ETA_SETTLE)
ALPHA_MIN, ALPHA_MAX = 0.001, 0.6
GAIN_MIN, GAIN_MAX = -4.0, 2.5  # the loop may scale the baseline threshold by e^-4 .. e^2.5
CAUTION_SPAN, CAUTION_MIN = 30.0, 0.1  # full α only with this many abandons of budget to spare (at most) ...
CAUTION_HOURS = 0.25  # ... or with as many as the target allows over this many hours of live answers, if fewer
CAUTION_SPAN_MIN = 2.0
SETPOINT = 0.9  # aim at 90 % of the target rate
ALPHA_BASE, ALPHA_SIZE = 0.025, 60.0  # base_alpha = ALPHA_BASE / (1 + agents / ALPHA_SIZE)


def base_alpha(agents: int, target: float) -> float:
    """The threshold that gives about the target rate on a typical floor of this size (from simulation of the
    base mix). The abandon loop learns a multiplicative correction on top, so a floor that changes size keeps
    what was learned instead of restarting from scratch."""
    return ALPHA_BASE / (1.0 + max(agents, 1) / ALPHA_SIZE) * (target / 0.03)


class PredictivePacer(Pacer):
    name = "predictive"
    SETTINGS = {
        "abandon_grace": Setting(float, 2.0, "seconds a live answer may wait for an agent (TSR: 2 s)", 0.0, 30.0),
        "min_agents": Setting(int, 3, "below this many staffed agents dial progressively", 1, 1000),
        "max_calls_per_agent": Setting(float, 8.0, "safety cap on calls ringing per staffed agent", 1.0, 100.0),
    }

    def __init__(self, **settings: Any) -> None:
        super().__init__(**settings)
        self.grace = self.settings["abandon_grace"]
        self.handle = HandleModel()
        self.answers = DialOutcomeModel()
        self.tables: HandleTables | None = None
        self.fitted: FittedAnswers | None = None
        self.ring_table = np.zeros((1, HORIZONS))
        self.taus = np.zeros(HORIZONS)
        self.q_new = np.zeros(HORIZONS)
        self.next_fit = -math.inf
        self.gain = 0.0  # the abandon loop's learned log-correction of base_alpha
        self.abandons_seen = 0
        self.active = False  # the last plan used the model (the loop only learns from its own decisions)
        self.inflight_excess = 0.0
        self.live_times: deque[float] = deque()  # live answers of the last CAUTION_HOURS
        self._last_normal = 0  # the normal scan's last answer (risk.choose_normal's hint)
        # at most this many dials can be placed now, when the caller knows (the planner's simulated list: the leads
        # due); the normal scan stops there, as a larger answer places no more (speed only: the same calls)
        self.most: int | None = None
        self._warm = False  # the cold start is over (once over, for good: ``_cold``)
        self._next_cold_check = -math.inf
        # the plan as compiled loops (kernel), unless a subclass forecasts agents or decides its own way
        self._compiled = (type(self)._busy_agents_free is PredictivePacer._busy_agents_free
                          and type(self)._decide is PredictivePacer._decide)

    # -- learning hooks ------------------------------------------------------------------------------------------
    def on_agent_period(self, agent_id: str, old: int, since: float, t: float, new: int) -> None:
        d = t - since
        if old == TALKING:
            if new == OFFLINE:  # logged out mid-call: we never saw the talk end
                self.handle.add_talk(d, False)
                self.handle.add_return(False)
                return
            self.handle.add_talk(d, True)
            if new == READY:  # no wrap at all
                self.handle.add_wrap(0.0)
                self.handle.add_return(True)
            elif new == PAUSED:
                self.handle.add_return(False)
        elif old == WRAP:
            self.handle.add_wrap(d)
            self.handle.add_return(new in (READY, TALKING))

    def on_dial_resolved(self, kind: int, elapsed: float | None, t: float) -> None:
        self.answers.add(kind, elapsed, None if elapsed is None else t - elapsed)


    def on_live_answer(self, t: float, placed: float | None = None) -> None:
        super().on_live_answer(t, placed)
        self.live_times.append(t)
        if self.active:
            self.gain = min(GAIN_MAX, self.gain + self._credit())

    def on_live_retracted(self, t: float, placed: float | None = None) -> None:
        super().on_live_retracted(t, placed)
        if self.active:
            self.gain = max(GAIN_MIN, self.gain - self._credit())

    def _credit(self) -> float:
        """What one live answer earns the abandon loop, scaled by the budget caution (anti-windup): while the
        caution holds α down, abandons are held off by the caution, not by the loop, so full credit would wind
        the gain up and release a burst of abandons once the caution lifts (a 1 % campaign ended at 1.01 %)."""
        return self.eta * SETPOINT * self.target * self.budget_caution

    def on_abandon(self, t: float, placed: float | None = None) -> None:
        super().on_abandon(t, placed)
        self.gain = max(GAIN_MIN, self.gain - self.eta)
        self.abandons_seen += 1

    # -- the plan --------------------------------------------------------------------------------------------------
    @property
    def eta(self) -> float:
        """The loop's step: bold while it has seen few abandons, steadier once it has (less noise in α)."""
        return max(ETA_MIN, ETA * ETA_SETTLE / (ETA_SETTLE + self.abandons_seen))

    @property
    def alpha(self) -> float:
        """The marginal-risk threshold now: team-size baseline × learned correction × budget caution."""
        a = base_alpha(self.staffed, self.target) * math.exp(self.gain) * self.budget_caution
        return min(max(a, ALPHA_MIN), ALPHA_MAX)

    @property
    def budget_caution(self) -> float:
        """Shrinks α while the 30-day budget left is thin (a fresh campaign, a bad spell), so a cluster of
        abandons cannot exhaust it and force progressive dialing; 1 once a few abandons are to spare."""
        spare = self.ledger.slack - 1.0 - self.inflight_excess
        return min(1.0, max(CAUTION_MIN, spare / self.caution_span))

    @property
    def caution_span(self) -> float:
        """Budget to spare before the caution lifts: what the target allows over an hour of this floor's live
        answers, between 2 and 10 abandons (a 5-agent floor never has 10 to spare; 500 agents burn 10 fast)."""
        q = self.live_times
        if not q:
            return CAUTION_SPAN_MIN
        window = CAUTION_HOURS * 3600.0
        while q and q[0] < self.last_t - window:
            q.popleft()
        if not q:
            return CAUTION_SPAN_MIN
        seen = max(self.last_t - q[0], 60.0)
        per_window = len(q) * window / min(seen, window)
        return min(CAUTION_SPAN, max(CAUTION_SPAN_MIN, self.target * per_window))

    def budget_word(self) -> str:
        """``held_by`` when the budget stops over-dialing: spent (at the target) or not built up yet."""
        return "budget-spent" if self.ledger.slack <= 0.0 and self.ledger.abandons > 0 else "budget-thin"

    def _fallback(self) -> str | None:
        thin = self.ledger.slack < 1.0 + self.inflight_excess
        if thin and self.budget_word() == "budget-spent":  # said first: it is what a manager must act on
            return "abandon budget nearly spent"
        if self.staffed < self.settings["min_agents"]:
            return f"small team ({self.staffed} < {self.settings['min_agents']} agents)"
        if self._cold():
            return "cold start"
        return "abandon budget nearly spent" if thin else None

    def _cold(self) -> bool:
        """Too little seen to trust the curves: 20 finished talks, 100 resolved dials with 10 live, and then (once)
        100 outcomes counted in placement order and a talk curve that reaches its median within the talks seen.
        A floor that logs in at once hears its first wave of dials resolve lives first and no-answers together at
        the ring timeout, and its quickest talks end first: counted as they came, the live share and the talk
        curve both said more answers and sooner-free agents than the floor had (a fresh 300-agent floor dialed 403
        calls for 199 ready agents 24 s in; 7.4 % of its live answers abandoned)."""
        if self._warm:
            return False
        if self.handle.talk.count < COLD_TALKS or self._answers_cold():
            return True
        t = self.last_t
        if t < self._next_cold_check:
            return True
        self._next_cold_check = t + COLD_CHECK_EVERY
        talk = self.handle.talk.fit(t - self.agents_in(TALKING))
        self._warm = talk.quantile(0.75) <= talk.tail_from
        return not self._warm

    def _answers_cold(self) -> bool:
        """Too few dials resolved, counted in placement order, to trust the live share and the answer times."""
        if self.answers.count < COLD_DIALS or self.answers.lives < COLD_LIVES:
            return True
        ringing = self.ringing_placed_times()
        self.answers.settle(float(ringing.min()) if len(ringing) else math.inf)
        return self.answers.shared < COLD_DIALS

    def _warming(self, reason: str | None) -> bool:
        """Cold only on the talk side: the answers are trusted and the budget can pay for an abandon. Then the ready
        agents are dialed for as the answer model allows, and no busy agent is counted as coming free: one call
        per ready agent left a fresh 500-agent floor 64 % busy over its first five minutes (80 % this way), while
        the talk curve's tail, still a guess, is exactly what the busy agents' forecast would rest on. Only the
        pacer's own forecast and rule (a subclass that forecasts or decides its own way keeps its cold start)."""
        return (reason == "cold start" and self._compiled and self.ledger.slack >= 1.0 + self.inflight_excess
                and not self._answers_cold())

    def _refit(self, t: float) -> None:
        self._refit_answers(t)
        self.tables = self.handle.fit(self.taus + self.grace, t - self.agents_in(TALKING), t - self.agents_in(WRAP))
        # the same tables with the moments' terms beside them (risk.with_terms): a plan gathers and sums them once
        tables = self.tables
        self._talk_terms = LazyTable(tables.talk_rows.rows, 3 * HORIZONS,
                                     lambda lo, hi: with_terms(tables.talk_rows.upto(hi)[lo:hi]))
        self._wrap_terms = LazyTable(tables.wrap_rows.rows, 3 * HORIZONS,
                                     lambda lo, hi: with_terms(tables.wrap_rows.upto(hi)[lo:hi]))
        self.next_fit = t + REFIT_EVERY

    def _refit_answers(self, t: float) -> None:
        ringing = self.ringing_placed_times()
        self.answers.settle(float(ringing.min()) if len(ringing) else math.inf)
        # While the budget is thin an under-counted live share costs abandons the campaign cannot pay for: a burst
        # of dials resolves lives first and no-answers together at the ring timeout, which change detection can
        # read as a fall in the live share (a fresh 300-agent floor: 0.09-0.12 for a true 0.25, then 500-770
        # dials for 57-115 ready agents). So then the share is never below what all dials so far show.
        self.fitted = self.answers.fit(self.answers.lifetime_live if self.budget_caution < 1.0 else 0.0)
        live = self.fitted.live
        levels = (np.arange(HORIZONS) + 0.5) / HORIZONS
        self.taus = np.array([live.quantile(x) for x in levels])
        self.q_new = self.fitted.p_live * live.cdf(self.taus)
        e = np.arange(0.0, self.answers.times[0].bins * self.answers.times[0].width, RING_STEP)[:, None]
        self.ring_table = np.clip(self.fitted.live_within(e, self.taus[None, :]), 0.0, 1.0)
        self.posterior_table = np.clip(self.fitted.posterior_live(e[:, 0]), 0.0, 1.0)
        self._ring_terms = with_terms(self.ring_table)

    def _busy_agents_free(self, t: float) -> np.ndarray:
        """(busy agents, K): P(agent back in ready within τ_k + grace) from elapsed talk or wrap time."""
        talk = self.tables.talking(t - self.agents_in(TALKING))
        wrap = self.tables.wrapping(t - self.agents_in(WRAP))
        return np.concatenate([talk, wrap]) if len(wrap) else talk

    def _busy_agents_terms(self, t: float) -> np.ndarray:
        """``_busy_agents_free`` with the moments' terms beside it (busy agents, 3K), gathered from the tables
        made at the refit; a subclass that forecasts agents its own way gets its forecast's terms."""
        if type(self)._busy_agents_free is not PredictivePacer._busy_agents_free:
            return with_terms(self._busy_agents_free(t))
        talk, wrap = self._talk_terms, self._wrap_terms
        talk = talk.take(elapsed_index(t - self.agents_in(TALKING), talk.rows))
        wrap = wrap.take(elapsed_index(t - self.agents_in(WRAP), wrap.rows))
        return np.concatenate([talk, wrap]) if len(wrap) else talk

    def _plan(self, t: float, info: dict[str, Any]) -> int:
        reason = self._fallback()
        warming = self._warming(reason)
        if warming:
            reason = None
            if self.fitted is None or t >= self.next_fit:
                self._refit_answers(t)
                self.tables = None  # the handle tables are made once the talks are trusted
                self.next_fit = t + REFIT_EVERY
        elif reason is None and (self.tables is None or t >= self.next_fit):
            self._refit(t)
        progressive = self.ready - self.ringing - self.waiting
        if reason is not None:
            self.active = False
            info["mode"] = f"fallback-progressive: {reason}"
            info["held_by"] = {"cold start": "cold",
                               "abandon budget nearly spent": self.budget_word()}.get(reason, "small")
            info["abandon_loop_alpha"] = self.alpha
            return progressive
        base = self.ready - self.waiting
        cap = max(int(self.settings["max_calls_per_agent"] * self.staffed) - self.ringing - self.waiting, 0)
        self.active = True
        decided = self._compiled_decide(t, base, cap, info) if self._compiled and not warming else None
        if decided is None:
            self._agent_terms = np.zeros((0, 3 * HORIZONS)) if warming else self._busy_agents_terms(t)
            agents = self._agent_terms[:, :HORIZONS]
            ring_e = t - self.ringing_placed_times()
            idx = np.minimum((np.maximum(ring_e, 0.0) / RING_STEP).astype(np.int64), len(self.ring_table) - 1)
            self._call_terms = self._ring_terms[idx]
            calls = self._call_terms[:, :HORIZONS]
            decided = self._decide(t, agents, calls, base, cap, idx, info)
            info["agents_expected_free"] = float(agents[:, HORIZONS // 2].sum()) + self.ready
            info["live_expected_from_ringing"] = float(calls[:, -1].sum())
        n = max(decided, progressive)  # never below progressive
        if decided >= cap:
            info["held_by"] = "cap"
        elif decided < progressive:
            info["held_by"] = "ready"
        elif warming:
            info["held_by"] = "warming"
        else:
            info["held_by"] = "budget" if self.budget_caution < 1.0 else "risk"
        info.update({
            "mode": f"{self.name}: ready agents only (talks not yet trusted)" if warming else self.name,
            "live_probability": self.fitted.p_live,
            "median_answer_s": float(self.taus[HORIZONS // 2]),
        })
        return n

    def _compiled_decide(self, t: float, base: int, cap: int, info: dict[str, Any]) -> int | None:
        """``_decide`` on the moments gathered and the candidates scanned by the compiled kernels (``kernel``):
        the same moments bit for bit, the same answer; None when the floor is small enough for the exact laws
        (the numpy path decides it)."""
        talk, wrap, n_agents = self._talk_terms, self._wrap_terms, len(self.agent_slot)
        talk_rows, top = kernel.busy_rows(self.agent_state, self.agent_since, n_agents, TALKING, t, talk.rows)
        talk.upto(top + 1)
        wrap_rows, top = kernel.busy_rows(self.agent_state, self.agent_since, n_agents, WRAP, t, wrap.rows)
        wrap.upto(top + 1)
        mu, var, k3, free_mid, live_ringing, ringing, in_flight_excess = kernel.floor_moments(
            base, talk.values, talk_rows, wrap.values, wrap_rows, self._ring_terms, self.ring.values, t, RING_STEP,
            HORIZONS)
        if len(talk_rows) + len(wrap_rows) + ringing <= EXACT_MAX_TERMS:
            return None
        alpha = self.alpha
        n, r0 = kernel.normal_scan(mu, var, k3, self.q_new, alpha, cap if self.most is None else min(cap, self.most))
        self._last_normal = n
        self.inflight_excess = in_flight_excess
        info.update({"abandon_loop_alpha": alpha, "marginal_risk_now": r0,
                     "expected_abandons_in_flight": self.inflight_excess,
                     "agents_expected_free": free_mid + self.ready, "live_expected_from_ringing": live_ringing})
        return n

    def _decide(self, t: float, agents: np.ndarray, calls: np.ndarray, base: int, cap: int, ring_idx: np.ndarray,
                info: dict[str, Any]) -> int:
        """Largest n whose marginal abandon risk stays under α (the myopic Lagrangian in marginal form)."""
        alpha = self.alpha
        mu, var, k3 = moments_of_terms(base, self._agent_terms, self._call_terms)  # = moments(base, agents, calls)
        if len(agents) + len(calls) <= EXACT_MAX_TERMS:
            n, r0 = choose_exact(base, agents, calls, self.q_new, alpha, cap)
        else:
            n, r0 = choose_normal(mu, var, k3, self.q_new, alpha, cap, self._last_normal)
            self._last_normal = n  # the next plan's scan sizes its chunks on it (speed only, never the answer)
        self.inflight_excess = expected_excess(mu, var)
        info.update({"abandon_loop_alpha": alpha, "marginal_risk_now": r0,
                     "expected_abandons_in_flight": self.inflight_excess})
        return n
