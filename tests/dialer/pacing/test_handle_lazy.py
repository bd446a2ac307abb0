"""The handle tables' rows are computed when a lookup first reaches them (``handle.LazyTable``): a faster way to
the same tables, so every row looked up, in any order, must equal the whole table made at once, bit for bit."""

from __future__ import annotations

import math

import numpy as np

from dialer.pacing.handle import WRAP_QUANTILES, HandleModel, elapsed_grid, elapsed_index


def _eager(tables) -> tuple[np.ndarray, np.ndarray]:
    """The tables as HandleTables made them before: every row at construction."""
    talk, wrap, horizons, p_return = tables.talk_curve, tables.wrap_curve, tables.horizons, tables.p_return
    q = (np.arange(WRAP_QUANTILES) + 0.5) / WRAP_QUANTILES
    w_points = np.array([wrap.quantile(x) for x in q]) if wrap is not None else np.zeros(1)
    a = elapsed_grid(max(talk.quantile(0.9999), 60.0) + float(horizons.max(initial=0.0)))[:, None]
    s_a = np.maximum(talk.sf(a), 1e-12)
    f_a = 1.0 - s_a
    acc = np.zeros((len(a), len(horizons)))
    for w in w_points:
        acc += np.maximum(talk.cdf(a + horizons[None, :] - w) - f_a, 0.0)
    talk_table = np.clip(acc / len(w_points) / s_a, 0.0, 1.0) * p_return
    if wrap is None:
        return talk_table, np.full((1, len(horizons)), p_return)
    b = elapsed_grid(max(wrap.quantile(0.9999), 30.0) + float(horizons.max(initial=0.0)))[:, None]
    s_b = np.maximum(wrap.sf(b), 1e-12)
    return talk_table, np.clip((wrap.cdf(b + horizons[None, :]) - (1.0 - s_b)) / s_b, 0.0, 1.0) * p_return


def test_rows_looked_up_in_any_order_are_the_whole_tables_rows() -> None:
    rng = np.random.default_rng(21)
    for trial in range(6):
        model = HandleModel(half_life=500.0)
        for d in rng.lognormal(math.log(rng.uniform(20, 200)), rng.uniform(0.3, 1.2), 3000):
            model.add_talk(float(d), bool(rng.random() < 0.97))
            if trial:  # the first model has no wrap at all
                model.add_wrap(float(rng.lognormal(math.log(12), 0.5)))
            model.add_return(bool(rng.random() < 0.95))
        horizons = np.sort(rng.uniform(1, 40, 8))
        talking, wrapping = rng.uniform(0, 900, 30), rng.uniform(0, 60, 5)  # calls in progress (censored)
        talk_want, wrap_want = _eager(model.fit(horizons, talking, wrapping))
        tables = model.fit(horizons, talking, wrapping)
        for _ in range(40):  # elapsed times growing and jumping, as agents' do between refits
            elapsed = rng.uniform(0, rng.choice([30.0, 700.0, 5000.0]), int(rng.integers(0, 60)))
            rows = elapsed_index(elapsed, len(talk_want))
            assert np.array_equal(tables.talking(elapsed), talk_want[rows])
            assert np.array_equal(tables.wrapping(elapsed), wrap_want[elapsed_index(elapsed, len(wrap_want))])
        assert np.array_equal(tables.talk, talk_want) and np.array_equal(tables.wrap, wrap_want)
