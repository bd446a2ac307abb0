"""The pacer's picture of the floor, rebuilt from events alone and tolerant of anything a real floor sends.

Real floors deliver duplicates, late and reordered events, calls that end without ever being answered, connects
before the agent's "talking" state, ids nobody placed (a worker restart). The rules here never crash and never
let a count go negative:

- an agent is *available* only in ``ready``; paused and offline agents never count;
- ``CallConnected`` makes its agent busy at once (the "talking" state may follow or never come);
- a call is *ringing* from ``CallPlaced`` until it is answered or ends; *waiting* from a human answer until it
  is connected or ends; every call id is finished once and later events for it are ignored;
- a live answer is counted once, at the first evidence of a human (answer, connect, completed or abandoned end).

Agent and ringing-call times live in numpy arrays with free-slot recycling so a plan over 500 agents and 1,500
calls is a few vector operations, not a Python loop. Subclasses (the statistical pacers) receive the derived
facts through the ``on_*`` hooks: finished talk and wrap periods, resolved dials, live answers and abandons.
"""

from __future__ import annotations

from collections import OrderedDict

import numpy as np

from dialer.pacing.events import (
    AgentState,
    AgentWillBeFree,
    CallAnswered,
    CallConnected,
    CallEnded,
    CallPlaced,
    HistorySummary,
)

READY, TALKING, WRAP, PAUSED, OFFLINE = range(5)
STATE_CODE = {"ready": READY, "talking": TALKING, "wrap": WRAP, "paused": PAUSED, "offline": OFFLINE}

RINGING, WAITING, MACHINE, CONNECTED = "ringing", "waiting", "machine", "connected"
#: how a dial resolved, for the answer model: a live person, a machine, or nothing (no answer, busy, failed)
LIVE_KIND, MACHINE_KIND, DEAD_KIND = 0, 1, 2
_ENDED_MEMORY = 200_000  # finished call ids remembered to ignore late duplicates (bounded memory)


class _Call:
    __slots__ = ("placed_t", "status", "slot", "human")

    def __init__(self, placed_t: float | None, status: str) -> None:
        self.placed_t = placed_t
        self.status = status
        self.slot = -1  # index into the ringing arrays while ringing
        self.human = False  # a live answer was already counted for this call


class _Slots:
    """A growable float array with recycled slots; NaN marks a free slot."""

    def __init__(self, capacity: int = 64) -> None:
        self.values = np.full(capacity, np.nan)
        self.free: list[int] = list(range(capacity - 1, -1, -1))

    def take(self, value: float) -> int:
        if not self.free:
            old = len(self.values)
            self.values = np.concatenate([self.values, np.full(old, np.nan)])
            self.free = list(range(2 * old - 1, old - 1, -1))
        i = self.free.pop()
        self.values[i] = value
        return i

    def release(self, i: int) -> None:
        if i >= 0 and not np.isnan(self.values[i]):
            self.values[i] = np.nan
            self.free.append(i)

    def active(self) -> np.ndarray:
        v = self.values
        return v[~np.isnan(v)]


class Floor:
    """Agents, calls in flight and the counts every pacer needs, kept incrementally."""

    def __init__(self) -> None:
        self.agent_slot: dict[str, int] = {}
        self.agent_state = np.full(16, OFFLINE, dtype=np.int8)
        self.agent_since = np.zeros(16)
        self.state_counts = [0, 0, 0, 0, 0]
        self.calls: dict[str, _Call] = {}
        self.ended: OrderedDict[str, None] = OrderedDict()
        self.ring = _Slots()
        self.ringing = 0
        self.waiting = 0
        self.machine_lines = 0
        self.connected = 0
        self.last_t = 0.0

    # -- counts ----------------------------------------------------------------------------------------------
    @property
    def ready(self) -> int:
        return self.state_counts[READY]

    @property
    def busy(self) -> int:
        return self.state_counts[TALKING] + self.state_counts[WRAP]

    @property
    def staffed(self) -> int:
        """Agents logged in and not paused: the ones pacing works for."""
        return self.state_counts[READY] + self.state_counts[TALKING] + self.state_counts[WRAP]

    @property
    def logged_in(self) -> int:
        return len(self.agent_slot) - self.state_counts[OFFLINE]

    @property
    def in_flight(self) -> int:
        """Calls placed and not yet resolved: ringing plus answered-and-waiting for an agent."""
        return self.ringing + self.waiting

    def calls_in_flight(self) -> list[str]:
        """The ids of the calls counted placed and not ended, for a caller that keeps its calls elsewhere to check
        against its own record (the dial loop: a call settled by a path that never told the pacer)."""
        return list(self.calls)

    def ringing_placed_times(self) -> np.ndarray:
        """Placement times of the calls still ringing (for their elapsed ring time)."""
        return self.ring.active()

    def agents_in(self, code: int) -> np.ndarray:
        """Entry times of the agents currently in state ``code``."""
        n = len(self.agent_slot)
        mask = self.agent_state[:n] == code
        return self.agent_since[:n][mask]

    # -- hooks for statistical pacers (no-ops here) -------------------------------------------------------------
    def on_agent_period(self, agent_id: str, old: int, since: float, t: float, new: int) -> None:
        """An agent left talk or wrap (``old``, entered at ``since``) for state ``new`` at ``t``."""

    def on_dial_resolved(self, kind: int, elapsed: float | None, t: float) -> None:
        """A dial became live, machine or dead after ``elapsed`` seconds of ringing (None when unknown)."""

    def on_live_answer(self, t: float, placed: float | None = None) -> None:
        """A live person answered (counted once per call) a call placed at ``placed`` (None when unknown)."""

    def on_live_retracted(self, t: float, placed: float | None = None) -> None:
        """A call counted as a live answer turned out to be a machine (detection decided after the connect)."""

    def on_abandon(self, t: float, placed: float | None = None) -> None:
        """A live answer got no agent in time."""

    def on_history(self, ev: HistorySummary) -> None:
        """Stored 30-day counts from before this pacer existed."""

    def on_will_be_free(self, ev: AgentWillBeFree) -> None:
        """Simulator-only oracle knowledge; real pacers ignore it."""

    # -- event intake ------------------------------------------------------------------------------------------
    def observe(self, ev) -> None:
        if ev.t > self.last_t:
            self.last_t = ev.t
        if isinstance(ev, AgentState):
            self._agent(ev.agent_id, STATE_CODE[ev.state], ev.t)
        elif isinstance(ev, CallPlaced):
            self._placed(ev)
        elif isinstance(ev, CallAnswered):
            self._answered(ev)
        elif isinstance(ev, CallConnected):
            self._connected(ev)
        elif isinstance(ev, CallEnded):
            self._ended(ev)
        elif isinstance(ev, HistorySummary):
            self.on_history(ev)
        elif isinstance(ev, AgentWillBeFree):
            self.on_will_be_free(ev)
        else:
            raise TypeError(f"not a pacing event: {ev!r}")

    def _agent(self, agent_id: str, code: int, t: float) -> None:
        i = self.agent_slot.get(agent_id)
        if i is None:
            i = len(self.agent_slot)
            if i >= len(self.agent_state):
                self.agent_state = np.concatenate([self.agent_state, np.full(i, OFFLINE, dtype=np.int8)])
                self.agent_since = np.concatenate([self.agent_since, np.zeros(i)])
            self.agent_slot[agent_id] = i
            self.agent_state[i] = code
            self.agent_since[i] = t
            self.state_counts[code] += 1
            return
        old = int(self.agent_state[i])
        since = float(self.agent_since[i])
        if old == code or t < since:
            return  # duplicate (keep the original entry time) or a stale state overtaken by a newer one
        if old in (TALKING, WRAP):
            self.on_agent_period(agent_id, old, since, t, code)
        self.state_counts[old] -= 1
        self.state_counts[code] += 1
        self.agent_state[i] = code
        self.agent_since[i] = t

    def _placed(self, ev: CallPlaced) -> None:
        if ev.call_id in self.calls or ev.call_id in self.ended:
            return
        c = _Call(ev.t, RINGING)
        c.slot = self.ring.take(ev.t)
        self.calls[ev.call_id] = c
        self.ringing += 1

    def _leave(self, c: _Call) -> None:
        """Take a call out of whatever count it is in."""
        if c.status == RINGING:
            self.ringing -= 1
            self.ring.release(c.slot)
            c.slot = -1
        elif c.status == WAITING:
            self.waiting -= 1
        elif c.status == MACHINE:
            self.machine_lines -= 1
        elif c.status == CONNECTED:
            self.connected -= 1

    def _live(self, c: _Call | None, t: float) -> None:
        if c is None or not c.human:
            if c is not None:
                c.human = True
            self.on_live_answer(t, None if c is None else c.placed_t)

    def _resolve(self, c: _Call, kind: int, t: float) -> None:
        elapsed = None if c.placed_t is None else max(0.0, t - c.placed_t)
        self.on_dial_resolved(kind, elapsed, t)

    def _answered(self, ev: CallAnswered) -> None:
        if ev.call_id in self.ended:
            return
        c = self.calls.get(ev.call_id)
        if c is None:  # answered call we never saw placed (restart): track it from here
            c = self.calls[ev.call_id] = _Call(None, RINGING)
            self.ringing += 1
        if c.status != RINGING:
            return  # duplicate or late answer after a connect
        human = ev.answered_by == "human"
        self._resolve(c, LIVE_KIND if human else MACHINE_KIND, ev.t)
        self._leave(c)
        if human:
            c.status = WAITING
            self.waiting += 1
            self._live(c, ev.t)
        else:
            c.status = MACHINE
            self.machine_lines += 1

    def _connected(self, ev: CallConnected) -> None:
        if ev.call_id not in self.ended:
            c = self.calls.get(ev.call_id)
            if c is None:
                c = self.calls[ev.call_id] = _Call(None, CONNECTED)
                self.connected += 1
                self._live(c, ev.t)
            elif c.status != CONNECTED:
                if c.status == RINGING:
                    self._resolve(c, LIVE_KIND, ev.t)
                self._leave(c)
                c.status = CONNECTED
                self.connected += 1
                self._live(c, ev.t)
        # the agent is busy from the connect on, whatever order its own state event arrives in
        i = self.agent_slot.get(ev.agent_id)
        if i is None or (int(self.agent_state[i]) != TALKING and ev.t >= self.agent_since[i]):
            self._agent(ev.agent_id, TALKING, ev.t)

    def _ended(self, ev: CallEnded) -> None:
        if ev.call_id in self.ended:
            return
        c = self.calls.pop(ev.call_id, None)
        self.ended[ev.call_id] = None
        if len(self.ended) > _ENDED_MEMORY:
            self.ended.popitem(last=False)
        human_end = ev.outcome in ("completed", "abandoned")
        if c is not None:
            if ev.outcome == "machine" and c.human:
                # answered as a person (or "unknown") and connected, then the late AMD verdict said machine:
                # not a live answer after all (campaigns.reports.metrics.is_live_answer), so the 30-day ledger must not
                # count it, or the budget would be spent on a rate lower than the real one
                c.human = False
                self.on_live_retracted(ev.t, c.placed_t)
            if c.status == RINGING:
                kind = {"machine": MACHINE_KIND}.get(ev.outcome, LIVE_KIND if human_end else DEAD_KIND)
                self._resolve(c, kind, ev.t)
            self._leave(c)
        if human_end:
            self._live(c, ev.t)
        if ev.outcome == "abandoned":
            self.on_abandon(ev.t, None if c is None else c.placed_t)
