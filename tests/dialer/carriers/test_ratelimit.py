"""The token bucket that keeps placement under the carrier's CPS (used by the dial loop and the Twilio bench)."""

from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dialer.carriers.ratelimit import TokenBucket
from dialer.clock import ManualClock

T0 = datetime(2030, 1, 8, 15, 0, tzinfo=UTC)


def test_burst_then_steady_rate():
    clock = ManualClock(T0)
    bucket = TokenBucket(10, 2, clock)
    assert bucket.try_take() and bucket.try_take() and not bucket.try_take()
    assert bucket.wait_s() == pytest.approx(0.1)
    clock.advance(0.1)
    assert bucket.try_take() and not bucket.try_take()
    clock.advance(60)
    assert bucket.available == 2  # never more than the burst saved up


def test_bad_parameters_are_refused():
    with pytest.raises(ValueError):
        TokenBucket(0, 1, ManualClock(T0))
    with pytest.raises(ValueError):
        TokenBucket(5, 0.5, ManualClock(T0))


@settings(max_examples=60, deadline=None)
@given(rate=st.integers(1, 50), burst=st.integers(1, 5),
       steps=st.lists(st.floats(0, 0.3, allow_nan=False), min_size=1, max_size=300))
def test_no_window_ever_exceeds_rate_plus_burst(rate, burst, steps):
    clock = ManualClock(T0)
    bucket = TokenBucket(rate, burst, clock)
    taken = []
    for dt in steps:
        clock.advance(dt)
        while bucket.try_take():
            taken.append((clock.now() - T0).total_seconds())
    for i, t in enumerate(taken):  # any 1-second window holds at most rate + burst takes
        assert sum(1 for u in taken[i:] if u < t + 1.0) <= rate + burst
