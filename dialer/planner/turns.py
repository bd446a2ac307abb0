"""How often the plan's dial loop turns: on news, at most every ``TURN_S``, at least every ``IDLE_S``.

The benchmark simulator (``dialer.sim.runner``) turns the loop at every agent freed, every call ended, every
2-second abandon deadline and once a virtual second besides: about 4.4 turns a simulated second on a 100-agent
floor, 135,000 in a day, each a pacer plan — most of a plan's time. The product does not turn that often or that
irregularly: the wall-clock worker turns every 0.25 s (``dialer.loop.worker``), the Twilio worker's dialing
thread every 0.1 s plus its turn's own time, and routing (connecting answers, abandoning at the grace) happens
between turns, on its own. So the plan turns the loop:

- when something the pacer acts on happened (an agent came ready, a call ended, the day closed), but never
  sooner than ``TURN_S`` after the last turn (the news of that span is then acted on in one turn, as a worker
  turning every ``TURN_S`` acts on it);
- when nothing happened, ``IDLE_S`` after the last turn (the benchmark simulator's tick);
- at each 2-second abandon deadline it only routes (``DialLoop.route``: connect or abandon), as the Twilio
  worker's carrier thread does; the next turn dials;
- not at all while the list has no lead due (every lead waits out a retry delay or a callback time: nothing can
  be dialed, whatever the pacer says), but when the next one comes due. A list running dry otherwise costs the
  most of all: a whole floor ready, nothing in flight, and the pacer's exact law walking up to its cap each turn.

A turn tells the pacer at most how many leads it can claim (``PredictivePacer.most``), so the pacer's normal
scan stops there: the loop places the smaller of the answer and the leads claimable, so the same calls.

Answers are connected the moment they arrive and agents take a waiting call the moment they come ready (the loop
does both outside its turn), so only *when the pacer is asked* moves, by at most ``TURN_S``. Half the turns go,
the plan's figures do not move beyond the seeds' spread (``tests/dialer/planner/test_turns.py``). The back-test's
truth keeps the benchmark simulator's turns, so it checks this too.
"""

from __future__ import annotations

import math

from dialer.sim.runner import Simulation

TURN_S = 0.25  # the loop turns at most this often on news (the wall-clock worker's turn, dialer.loop.worker)
IDLE_S = 1.0  # ... and this long after its last turn when nothing happened (the simulator's tick)
MOST_KNOWN = 1000  # leads claimable counted up to this many (more than a turn places): past it, no bound


class PacedTurns(Simulation):
    """A ``Simulation`` whose loop turns as the module says; ``paced=False`` keeps the benchmark simulator's."""

    def __init__(self, *args, paced: bool = True, **kwargs) -> None:
        self.paced = paced
        self._last_turn = -math.inf
        self._news = False  # something happened since the last turn
        self._next_turn = math.inf  # a turn on news is booked at this virtual second
        self._due_wake = math.inf  # a turn is booked here, when the next lead comes due
        super().__init__(*args, **kwargs)

    def request_tick(self, t: float) -> None:
        if not self.paced:
            super().request_tick(t)
            return
        self._news = True
        at = max(t, self._last_turn + TURN_S)
        if self.q.t <= self._next_turn <= at:
            return  # a turn is already booked by then: it acts on this news too
        self._next_turn = at
        self.q.at(at, self._on_news)

    def _on_news(self) -> None:
        if self._news and self._leads_due():  # else an earlier turn already acted on it, or nothing can be dialed
            self._tick()

    def _leads_due(self) -> bool:
        """A lead can be claimed now; if not, a turn is booked for when the next one comes due (or for never:
        a call that ends puts its lead back in the queue and is news)."""
        c = self.world.store.campaigns[self.world.campaign_id]
        if self.world.store.lead_source is not None or c.ready.peek() is not None:
            return True
        if not c.pending:
            return False
        due = (c.pending[0][0] - self.q.t0).total_seconds()  # a stale entry wakes it early: a turn for nothing
        if due <= self.q.t:
            return True
        if not self.q.t <= self._due_wake <= due:
            self._due_wake = due
            self.q.at(due, self._on_due)
        return False

    def _on_due(self) -> None:
        self._news = True
        self._on_news()

    def _tick(self) -> None:
        if self.paced:
            self._last_turn, self._news = self.q.t, False
            if self._next_turn <= self.q.t:
                self._next_turn = math.inf
            slot = self.loop.slots.get(self.world.campaign_id)
            if slot is not None and hasattr(slot.pacer, "most"):
                slot.pacer.most = self._most_claimable()
        super()._tick()

    def _most_claimable(self) -> int | None:
        """At most how many leads the turn's claim can take: every entry of the ready heaps (stale ones too) and
        every pending one come due; None for an endless list. A pacer told so scans no further than it (a list
        running dry has a whole floor ready and one or two leads due, where the pacer's answer is 200-350): the
        loop places min(answer, leads claimable) either way, so the same calls."""
        store = self.world.store
        if store.lead_source is not None:
            return None
        c = store.campaigns[self.world.campaign_id]
        most = 0
        for heap in c.ready.heaps.values():
            most += len(heap)
        pending, now = c.pending, self.q.now()
        stack = [0] if most < MOST_KNOWN and pending and pending[0][0] <= now else []
        while stack:  # the heap's entries due by now are a subtree at its root
            i = stack.pop()
            most += 1
            if most >= MOST_KNOWN:
                break
            j = 2 * i + 1
            if j < len(pending) and pending[j][0] <= now:
                stack.append(j)
            if j + 1 < len(pending) and pending[j + 1][0] <= now:
                stack.append(j + 1)
        if most >= MOST_KNOWN:
            return None
        return most

    def _periodic(self, end_t: float) -> None:
        if not self.paced:
            super()._periodic(end_t)
            return
        due = self._last_turn + IDLE_S
        if self.q.t >= due - 1e-9:
            if self._leads_due():
                self._tick()
            due = self.q.t + IDLE_S
        if due < end_t:
            self.q.at(due, self._periodic, end_t)

    def _deliver(self, event) -> None:
        if not self.paced:
            super()._deliver(event)
            return
        self.loop.handle(event)
        if event.kind == "answered" and event.answered_by != "machine":
            self.q.at(self.q.t + self.grace_s + 1e-6, self._route)

    def _route(self) -> None:
        self.loop.route(self.q.now())
