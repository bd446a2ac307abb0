"""The talk table's rows by the compiled loop (``handle_kernel.talk_rows``) are numpy's rows bit for bit: the pacer
decides on them, so a faster table must be the same table (``HandleTables._talk_block_numpy`` is numpy's)."""

from __future__ import annotations

import math

import numpy as np

from dialer.pacing import handle_kernel
from dialer.pacing.handle import HandleModel


def _bits(x: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(x).view(np.int64)


def test_compiled_rows_are_numpys_bit_for_bit() -> None:
    rng = np.random.default_rng(18)
    for trial in range(12):
        model = HandleModel(half_life=float(rng.uniform(200, 2000)))
        median, sigma = rng.uniform(15, 300), rng.uniform(0.3, 1.4)
        for d in rng.lognormal(math.log(median), sigma, int(rng.integers(50, 4000))):
            model.add_talk(float(d), bool(rng.random() < 0.97))
            if trial % 4:  # some models have no wrap at all
                model.add_wrap(float(rng.lognormal(math.log(rng.uniform(3, 40)), 0.6)))
            model.add_return(bool(rng.random() < 0.95))
        horizons = np.sort(rng.uniform(0.5, 60, 8))
        tables = model.fit(horizons, rng.uniform(0, 1500, 40), rng.uniform(0, 60, 5))
        rows = tables.talk_rows.rows
        edges = sorted({0, rows, *rng.integers(0, rows, 6).tolist()})
        for lo, hi in zip(edges[:-1], edges[1:], strict=True):  # blocks anywhere, of any size
            assert np.array_equal(_bits(tables._talk_block(lo, hi)), _bits(tables._talk_block_numpy(lo, hi)))


def test_a_nan_in_the_curve_leaves_the_rows_to_numpy() -> None:
    xs = np.array([0.0, 10.0, 20.0, 30.0])
    ss = np.array([1.0, 0.5, np.nan, 0.0])
    a = np.arange(0.0, 40.0)
    _rows, held = handle_kernel.talk_rows(a, np.array([1.0, 5.0]), np.array([0.0, 2.0]), xs, ss, 0.95)
    assert not held
    model = HandleModel()
    for d in np.linspace(10, 200, 400):
        model.add_talk(float(d), True)
    tables = model.fit(np.array([2.0, 8.0]), np.zeros(0), np.zeros(0))
    tables.talk_curve.ss[5] = np.nan  # a curve gone wrong: the kernel hands the block back, numpy decides
    got, want = tables._talk_block(0, 64), tables._talk_block_numpy(0, 64)
    assert np.array_equal(got, want, equal_nan=True)
