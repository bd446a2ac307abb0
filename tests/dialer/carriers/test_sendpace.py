"""The send pacer: a thread waits for its booked slot, and this process never sends more than floor(cps) calls in
any second plus the margin, even when a thread wakes late (manual clock: the waits move it)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from dialer.carriers.sendpace import MemoryBudget, SendPacer
from dialer.clock import ManualClock

T0 = datetime(2030, 1, 8, 15, 0, tzinfo=UTC)


def test_wait_turn_sleeps_until_the_slot_and_returns_the_send_moment():
    clock = ManualClock(T0)
    pacer = SendPacer(MemoryBudget(10.0), 10, clock, sleep=clock.advance)
    slots = pacer.reserve(3, T0, 1.0)
    assert [pacer.wait_turn(s) for s in slots] == slots  # each leaves at its own slot, not at the booking
    assert clock.now() == slots[-1]
    single = pacer.wait_turn()  # no slot booked (an agent's line, a retry): the next free one
    assert single == slots[-1] + timedelta(seconds=0.1)


def test_a_late_thread_is_held_so_no_second_holds_more_than_the_limit():
    clock = ManualClock(T0)
    pacer = SendPacer(MemoryBudget(4.0), 4, clock, margin_s=0.02, sleep=clock.advance)
    slots = pacer.reserve(8, T0, 2.0)  # 0, .25, .5, .75, 1.0, ...
    sent = [pacer.wait_turn(slots[0])]
    clock.advance(0.7)  # the next thread overslept: its slot (.25) is long past when it wakes
    sent += [pacer.wait_turn(s) for s in slots[1:]]
    for i in range(len(sent) - 4):  # any 5 consecutive sends span more than a second
        assert (sent[i + 4] - sent[i]).total_seconds() >= 1.02 - 1e-9
    assert pacer.held >= 1


class ThreadsClock:
    """One clock read by several sending threads, run one after another in the order their moments come: the
    test sets the moment each thread acts at; a thread's sleep moves it on."""

    def __init__(self) -> None:
        self.at = T0

    def now(self) -> datetime:
        return self.at

    def sleep(self, seconds: float) -> None:
        self.at += timedelta(seconds=seconds)


def test_a_send_late_for_its_slot_takes_a_new_one_so_two_workers_stay_within_the_limit():
    """Each worker's guard sees only its own sends: a thread of one worker that reaches the wire 60 ms after its
    slot lands among the other worker's next slots, and 21 creates would reach Twilio within one second at 20
    calls/s. It books a new slot instead."""
    clock = ThreadsClock()
    budget = MemoryBudget(20.0 * 0.975)  # the account's shared clock (PACE_SHARE of the limit)
    a = SendPacer(budget, 20, clock, sleep=clock.sleep)
    b = SendPacer(budget, 20, clock, sleep=clock.sleep)
    slots = budget.reserve(40, T0, 10.0)
    late = 5  # this thread (worker a's) is kept off the CPU for 60 ms between its slot and its write
    sent = []
    for i, slot in enumerate(slots):
        if i == late:
            continue
        pacer = a if i % 2 else b
        clock.at = slot
        sent.append(pacer.begin_send(slot=slot))
        pacer.end_send()
    clock.at = slots[late] + timedelta(seconds=0.06)
    sent.append(a.begin_send(slot=slots[late]))
    a.end_send()
    assert a.rebooked == 1 and b.rebooked == 0
    assert sent[-1] >= slots[-1]  # it went at a slot of its own, after those already booked
    sent.sort()
    for i in range(len(sent) - 20):  # no 21 sends of the two workers within any second
        assert (sent[i + 20] - sent[i]).total_seconds() > 1.0


def test_a_thread_wakes_early_to_build_its_request_and_writes_it_at_the_slot():
    clock = ManualClock(T0)
    pacer = SendPacer(MemoryBudget(10.0), 10, clock, sleep=clock.advance)
    (slot,) = pacer.reserve(1, T0 + timedelta(seconds=1), 1.0)
    pacer.wait_slot(slot, early_s=0.03)
    assert clock.now() == slot - timedelta(seconds=0.03)  # awake before the slot: the request is built now
    assert pacer.begin_send(slot=slot) == slot and pacer.rebooked == 0  # and written at it
    pacer.end_send()
