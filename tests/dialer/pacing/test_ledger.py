"""The pacer's 30-day budget is the legal count (calls placed in [now − 30 days, now)) at every instant."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dialer.pacing import AgentState, CallAnswered, CallEnded, CallPlaced, HistorySummary, make_pacer
from dialer.pacing.ledger import AbandonLedger

DAY = 86_400.0
WINDOW = 30 * DAY
T0 = 40 * DAY  # the worker (re)starts here


def _exact(calls: list[tuple[float, bool]], now: float) -> tuple[int, int]:
    inside = [ab for placed, ab in calls if now - WINDOW <= placed < now]
    return len(inside), sum(inside)


def _seeded(history: list[tuple[float, bool]]):
    """A pacer restarted at T0 and told the stored calls of the window by placement time."""
    p = make_pacer("progressive")
    inside = [(placed, ab) for placed, ab in history if T0 - WINDOW <= placed < T0]
    p.observe(HistorySummary(t=T0, live_answers=len(inside), abandoned=sum(ab for _, ab in inside),
                             live_placed=tuple(placed for placed, _ in inside),
                             abandoned_placed=tuple(placed for placed, ab in inside if ab)))
    p.observe(AgentState(t=T0, agent_id="a", state="ready"))
    return p


def _ledger_at(p, now: float) -> tuple[int, int]:
    p.plan(now)
    return p.ledger.lives, p.ledger.abandons


def test_calls_29_to_30_days_old_count_until_each_one_leaves_the_window() -> None:
    """The audit's case: 200 live answers placed 29-30 days before the restart, all counted, each leaving exactly
    30 days after its own placement (the day buckets saw 124 of them)."""
    history = [(T0 - 29 * DAY - i * DAY / 200, i % 25 == 0) for i in range(200)]
    p = _seeded(history)
    assert _ledger_at(p, T0) == (200, 8)
    for hours in (0.5, 3, 6, 11.9, 12, 12.1, 18, 23.99, 24, 25):
        now = T0 + hours * 3600
        assert _ledger_at(p, now) == _exact(history, now), hours
    assert _ledger_at(p, T0 + 2 * DAY) == (0, 0)


ages = st.floats(min_value=28 * DAY, max_value=31 * DAY) | st.floats(min_value=0.0, max_value=31 * DAY)


@settings(max_examples=60, deadline=None)
@given(history=st.lists(st.tuples(ages, st.booleans()), max_size=60),
       live=st.lists(st.tuples(st.floats(min_value=0.0, max_value=3 * DAY), st.floats(min_value=0.5, max_value=40.0),
                               st.booleans()), max_size=40),
       queries=st.lists(st.floats(min_value=0.0, max_value=33 * DAY), min_size=1, max_size=25))
def test_the_budget_is_the_exact_rolling_count_at_every_instant(history, live, queries) -> None:
    """Stored calls of any age around the window's edge, new calls answered (and some abandoned) after the restart,
    and instants anywhere over the next 33 days: the ledger's live answers and abandons equal the legal count of
    the calls known by then."""
    stored = [(T0 - age, ab) for age, ab in history]
    p = _seeded(stored)
    events = []
    for i, (offset, delay, ab) in enumerate(live):
        placed = T0 + offset
        events += [(placed, 0, CallPlaced(t=placed, call_id=f"c{i}")),
                   (placed + delay, 1, CallAnswered(t=placed + delay, call_id=f"c{i}", answered_by="human")),
                   (placed + delay + 2, 2, CallEnded(t=placed + delay + 2, call_id=f"c{i}",
                                                     outcome="abandoned" if ab else "completed"))]
    events.sort(key=lambda e: (e[0], e[1]))
    known = [c for c in stored if T0 - WINDOW <= c[0] < T0]
    answered = {}
    k = 0
    for q in sorted(T0 + x for x in queries):
        while k < len(events) and events[k][0] <= q:
            ev = events[k][2]
            p.observe(ev)
            if isinstance(ev, CallAnswered):
                answered[ev.call_id] = (events[k][0] - live[int(ev.call_id[1:])][1], False)
            elif isinstance(ev, CallEnded) and ev.outcome == "abandoned":
                answered[ev.call_id] = (answered[ev.call_id][0], True)
            k += 1
        assert _ledger_at(p, q) == _exact(known + list(answered.values()), q)


def test_a_late_machine_verdict_leaves_with_its_call() -> None:
    led = AbandonLedger(0.03)
    led.live(100.0)
    led.live(200.0)
    led.unlive(100.0)  # the first call turned out to be a machine, decided an hour later
    led.advance(100.0 + WINDOW + 50)
    assert led.lives == 1
    led.advance(200.0 + WINDOW + 1)
    assert led.lives == 0


def test_bookings_out_of_order_and_many_of_them_still_expire_exactly() -> None:
    led = AbandonLedger(0.03)
    times = [float(i) + (37 if i % 7 == 0 else 0) for i in range(20_000)]  # answered up to 37 s out of order
    for x in times:
        led.live(x)
    for now in (WINDOW, WINDOW + 5_000.5, WINDOW + 12_345, WINDOW + 20_036.9, WINDOW + 20_037.1):
        led.advance(now)
        assert led.lives == sum(1 for x in times if x >= now - WINDOW), now


def test_counts_without_placement_times_are_spread_over_the_window() -> None:
    led = AbandonLedger(0.03)
    led.seed(T0, 300, 9)
    assert (led.lives, led.abandons) == (300, 9)
    led.advance(T0 + 15 * DAY)
    assert led.lives == pytest.approx(150, abs=1) and led.abandons in (4, 5)
    led.advance(T0 + WINDOW)
    assert (led.lives, led.abandons) == (0, 0)


def test_history_times_must_match_the_counts() -> None:
    with pytest.raises(ValueError, match="live_placed"):
        HistorySummary(t=0.0, live_answers=2, abandoned=0, live_placed=(1.0,))
