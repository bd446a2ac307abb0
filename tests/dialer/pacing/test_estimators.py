"""Each estimator against a known distribution (seeded draws, tolerances sized to the sample)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from dialer.pacing.answers import BernoulliCusum, DialOutcomeModel
from dialer.pacing.floor import DEAD_KIND, LIVE_KIND, MACHINE_KIND
from dialer.pacing.handle import HandleModel
from dialer.pacing.ledger import AbandonLedger
from dialer.pacing.survival import Lognormal, SurvivalEstimator, erf, norm_cdf


def test_erf_matches_math_erf() -> None:
    xs = np.linspace(-4, 4, 81)
    assert np.max(np.abs(erf(xs) - np.array([math.erf(x) for x in xs]))) < 2e-7
    assert norm_cdf(0.0) == pytest.approx(0.5) and norm_cdf(1.959964) == pytest.approx(0.975, abs=1e-6)


def test_kaplan_meier_recovers_a_lognormal_under_heavy_censoring() -> None:
    rng = np.random.default_rng(7)
    truth = Lognormal(math.log(100), 0.8)
    x = rng.lognormal(truth.mu, truth.sigma, 20_000)
    c = rng.exponential(300, 20_000)  # about a quarter of the durations are censored
    est = SurvivalEstimator(1.0, 3600, half_life=1e9)
    for xi, ci in zip(x, c, strict=True):
        est.add(min(xi, ci), finished=xi <= ci)
    fit = est.fit()
    for q in (20, 60, 100, 200, 400):
        assert float(fit.sf(q)) == pytest.approx(float(truth.sf(q)), abs=0.015)
    # the naive estimate from finished durations only would be badly biased; KM is not
    assert fit.mean() == pytest.approx(truth.mean, rel=0.05)
    assert fit.tail is not None
    assert fit.tail.mu == pytest.approx(truth.mu, abs=0.05) and fit.tail.sigma == pytest.approx(truth.sigma, abs=0.06)
    assert float(fit.sf(3000)) == pytest.approx(float(truth.sf(3000)), abs=2e-5)  # lognormal tail beyond the data


def test_durations_in_progress_are_censored_not_ignored() -> None:
    est = SurvivalEstimator(1.0, 3600, half_life=1e9)
    for _ in range(50):
        est.add(30.0)  # short calls finished
    biased = est.fit()
    fair = est.fit(in_progress=np.full(50, 200.0))  # as many long calls still running at 200 s
    assert float(biased.sf(100)) == pytest.approx(0.0, abs=1e-9)
    assert float(fair.sf(100)) == pytest.approx(0.5, abs=1e-6)


def test_a_curve_of_quick_refusals_and_calls_still_running_says_the_running_calls_last() -> None:
    """A fresh floor's first minute: 20 talks ended within 8-30 s (refusals), 80 are still running at 60 s. The KM
    stops at 20 % ended, so the tail decides when the 80 end; fitted to the finished talks alone it said within
    seconds (the first forecast of a fresh floor then dialed for agents who stayed busy). Fitted to the finished and
    the running talks together (maximum likelihood with censoring) it says what the data say: most run long."""
    est = SurvivalEstimator(2.0, 4 * 3600, half_life=1000.0)
    for k in range(20):
        est.add(8.0 + 22.0 * k / 19)
    fit = est.fit(in_progress=np.full(80, 60.0))
    assert fit.quantile(0.5) > 60.0
    ends_soon = (float(fit.sf(60.0)) - float(fit.sf(75.0))) / float(fit.sf(60.0))
    assert ends_soon < 0.35, f"P(a call running for 60 s ends within 15 s) = {ends_soon:.2f}"


def test_forgetting_tracks_a_change_of_distribution() -> None:
    rng = np.random.default_rng(3)
    est = SurvivalEstimator(1.0, 3600, half_life=200)
    for d in rng.exponential(60, 3000):
        est.add(d)
    for d in rng.exponential(180, 1500):
        est.add(d)
    assert est.fit().mean() == pytest.approx(180, rel=0.12)
    assert est.effective_n == pytest.approx(200 / math.log(2), rel=0.05)


def test_answer_model_shares_and_posterior_match_bayes() -> None:
    rng = np.random.default_rng(11)
    model = DialOutcomeModel(half_life=1e9)
    shares = {LIVE_KIND: 0.25, MACHINE_KIND: 0.2, DEAD_KIND: 0.55}
    draw = {LIVE_KIND: lambda: 2 + rng.gamma(2, 4), MACHINE_KIND: lambda: 2 + rng.gamma(2, 4),
            DEAD_KIND: lambda: 25.0}
    kinds = rng.choice([LIVE_KIND, MACHINE_KIND, DEAD_KIND], p=[0.25, 0.2, 0.55], size=20_000)
    for k in kinds:
        model.add(int(k), draw[int(k)]())
    fit = model.fit()
    for k, p in shares.items():
        assert fit.shares[k] == pytest.approx(p, abs=0.01)
    # after 15 s a live or machine answer is rare (Gamma(2,4) > 13 s: ~15 %); the posterior must say so
    s_live = math.exp(-13 / 4) * (1 + 13 / 4)
    expect = 0.25 * s_live / (0.25 * s_live + 0.2 * s_live + 0.55)
    assert float(fit.posterior_live(np.array([15.0]))[0]) == pytest.approx(expect, abs=0.01)
    # at 0 s the posterior is the prior; after 20 s of ringing a live answer in the next 5 s is unlikely
    assert float(fit.posterior_live(np.array([0.0]))[0]) == pytest.approx(0.25, abs=0.01)
    s20, s25 = math.exp(-4.5) * 5.5, math.exp(-5.75) * 6.75  # P(Gamma(2, 4) > 18), P(... > 23)
    expect = 0.25 * (s20 - s25) / (0.45 * s20 + 0.55)
    assert float(fit.live_within(np.array([20.0]), np.array([5.0]))[0]) == pytest.approx(expect, abs=0.004)
    # a fresh dial answers live within 10 s with p·F_L(10) = 0.25·P(Gamma(2,4) <= 8)
    f = 1 - math.exp(-2) * 3
    assert float(fit.live_within(np.array([0.0]), np.array([10.0]))[0]) == pytest.approx(0.25 * f, abs=0.01)


def test_cusum_detects_a_step_quickly_and_stays_quiet_otherwise() -> None:
    rng = np.random.default_rng(5)
    quiet = BernoulliCusum()
    assert sum(abs(quiet.update(bool(x), 0.3)) for x in rng.random(3000) < 0.3) == 0
    step = BernoulliCusum()
    alarms = [step.update(bool(x), 0.3) for x in rng.random(400) < 0.12]
    first = next(i for i, a in enumerate(alarms) if a)
    assert alarms[first] == -1 and first < 120


def test_answer_model_follows_a_step_in_the_live_rate() -> None:
    rng = np.random.default_rng(9)
    model = DialOutcomeModel()
    for x in rng.random(3000) < 0.30:
        model.add(LIVE_KIND if x else DEAD_KIND, 10.0)
    assert model.p_live == pytest.approx(0.30, abs=0.04)
    for x in rng.random(150) < 0.12:
        model.add(LIVE_KIND if x else DEAD_KIND, 10.0)
    assert model.changes >= 1
    assert model.p_live < 0.2  # the change detector made the old evidence give way within 150 dials


def test_residual_handle_time_of_a_memoryless_talk_ignores_elapsed_time() -> None:
    rng = np.random.default_rng(2)
    model = HandleModel(half_life=1e9)
    for d in rng.exponential(100, 20_000):
        model.add_talk(d, True)
        model.add_wrap(0.0)
        model.add_return(True)
    horizons = np.array([10.0, 30.0])
    tables = model.fit(horizons, np.array([]), np.array([]))
    expect = 1 - np.exp(-horizons / 100)
    for elapsed in (0.0, 50.0, 200.0):
        got = tables.talking(np.array([elapsed]))[0] / tables.p_return
        assert got == pytest.approx(expect, abs=0.02)


def test_residual_handle_time_of_lognormal_talk_plus_wrap_matches_monte_carlo() -> None:
    rng = np.random.default_rng(4)
    model = HandleModel(half_life=1e9)
    talk = rng.lognormal(math.log(120), 0.8, 30_000)
    wrap = rng.lognormal(math.log(12), 0.5, 30_000)
    for t_, w_ in zip(talk, wrap, strict=True):
        model.add_talk(t_, True)
        model.add_wrap(w_)
        model.add_return(True)
    horizon = 20.0
    tables = model.fit(np.array([horizon]), np.array([]), np.array([]))
    for a in (30.0, 120.0, 300.0):
        alive = talk > a
        mc = float(np.mean(talk[alive] - a + wrap[alive] <= horizon))
        assert tables.talking(np.array([a]))[0, 0] / tables.p_return == pytest.approx(mc, abs=0.02)
    for b in (5.0, 15.0):
        alive = wrap > b
        mc = float(np.mean(wrap[alive] <= b + horizon))
        assert tables.wrapping(np.array([b]))[0, 0] / tables.p_return == pytest.approx(mc, abs=0.02)


def test_return_to_ready_share_is_learned() -> None:
    model = HandleModel(half_life=1e9)
    for i in range(1000):
        model.add_return(i % 10 != 0)  # one handle in ten ends in a break
    assert model.p_return == pytest.approx(0.9, abs=0.01)


def test_ledger_rolls_thirty_days_and_reports_slack() -> None:
    led = AbandonLedger(0.03)
    for day in range(40):
        for _ in range(100):
            led.live(day * 86_400.0 + 3600)
        led.abandon(day * 86_400.0 + 3600)
    assert led.lives == 3100 and led.abandons == 31  # day 9's calls were placed exactly 30 days ago: still in
    led.advance(39 * 86_400.0 + 3601)
    assert led.lives == 3000 and led.abandons == 30  # only the last 30 days count
    assert led.rate == pytest.approx(0.01) and led.slack == pytest.approx(60.0)
    assert led.today(39 * 86_400.0 + 7200) == (100, 1)


def test_the_live_share_in_plain_floats_is_the_shares_arrays_value_exactly() -> None:
    """``p_live`` (asked at every resolved dial) skips the arrays, not a rounding: over a long stream with
    forgetting, change resets and renormalisation it equals ``shares[live]`` bit for bit."""
    rng = np.random.default_rng(8)
    model = DialOutcomeModel(half_life=50)
    renormalised = False
    for i in range(20_000):
        kind = int(rng.choice(3, p=[0.3, 0.2, 0.5] if i < 10_000 else [0.05, 0.25, 0.7]))
        unit = model.unit
        model.add(kind, float(rng.uniform(1, 30)))
        renormalised = renormalised or model.unit < unit
        assert model.p_live == float(model.shares[LIVE_KIND])
    assert model.changes >= 1 and renormalised  # the shift was detected; the weights were renormalised
