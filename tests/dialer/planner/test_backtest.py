"""The back-test fits several truth runs, each as a campaign of its own, and judges the mean of their plans."""

from __future__ import annotations

import pytest

from dialer.planner.backtest import backtest


@pytest.mark.slow
def test_each_fitted_history_is_its_own_campaign_and_the_plans_mean_is_judged(sessions) -> None:
    out = backtest(sessions, agents=3, hours=1, days=3, fit_days=2, list_size=300, seeds=1, truth_seeds=2,
                   fit_seeds=2)
    assert [f["seed"] for f in out["fits"]] == [7, 8]
    assert [f["plan_seeds"] for f in out["fits"]] == [[1], [2]]  # each plan its own luck, averaged over the fits
    # two histories, two measurements: their luck differs (the same history twice would fit the same figures)
    assert out["fits"][0]["dials"] != out["fits"][1]["dials"]
    day = out["days"][0]
    for key in ("contacts", "closes", "leads_left"):
        plan = day[key]["plan"]
        assert len(plan["fits"]) == 2 and plan["min"] <= plan["mean"] <= plan["max"]
        assert plan["mean"] == pytest.approx(sum(plan["fits"]) / 2, abs=0.06)
        assert len(day[key]["fitted_runs"]) == 2
        truth = day[key]["truth"]
        assert truth["min"] <= truth["mean"] <= truth["max"]
        if truth["mean"]:
            mean = sum(plan["fits"]) / 2
            assert day[key]["error_vs_truth"] == pytest.approx((mean - truth["mean"]) / truth["mean"], abs=1e-3)
    close, true_close, error = out["fits"][0]["fit"]["close_share"]
    assert true_close == 0.1 and 0 < error < 0.1  # the sampling error of a close share measured on few contacts
