"""Simulated agents: they log in by the shift schedule, take breaks and lunch, wrap up, disposition, and now and
then drop out mid-call, all through the same agent operations the console uses (via the dial loop).

Each agent draws from its own random stream (its wrap times, break jitter, dispositions), so changing the pacer
does not reshuffle the agents' behaviour.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import timedelta

from dialer.carriers.simulated import SimCall
from dialer.loop.core import DialLoop
from dialer.pacing import AgentWillBeFree
from dialer.sim.customers import draw, mix64
from dialer.sim.engine import EventQueue
from dialer.sim.scenario import Scenario

LEAVE_WAIT_S = 90.0  # a leaving agent waits at most this long for what was dialed for them (ring timeout 25 s, then a
# person's 30 s of patience at most); as the close's ``dialer.sim.runner.DRAIN_S``


class SimAgent:
    __slots__ = ("id", "index", "rng", "on_shift", "pending", "call_id", "wrap_s", "gen", "machine", "dropped",
                 "shift_no", "left_at")

    def __init__(self, agent_id: int, index: int, rng: random.Random) -> None:
        self.id, self.index, self.rng = agent_id, index, rng
        self.on_shift = False
        self.pending: tuple | None = None  # ("paused", reason, seconds) or ("offline",) after the current call
        self.call_id: int | None = None
        self.wrap_s = 0.0
        self.gen = 0
        self.machine = False  # the current call is a machine the agent hears (detection missed it or is off)
        self.dropped: int | None = None  # the call this agent left by logging out mid-call
        self.shift_no = 0  # ends the previous shift's chain of mid-call log-out draws
        self.left_at: float | None = None  # when a mid-day schedule change ended this agent's shift (not gone yet)


class SimFloor:
    def __init__(self, scenario: Scenario, seed: int, queue: EventQueue, loop: DialLoop, campaign_id: int,
                 agent_ids: list[int], request_tick: Callable[[float], None],
                 owns: Callable[[], bool] = lambda: True,
                 still_coming: Callable[[float], bool] = lambda t: False) -> None:
        # ``owns``: is the campaign still this worker's? A live worker's heartbeat thread may give it back between
        # two events of this floor, and from that moment its seats are the next owner's
        self.owns = owns
        # ``still_coming(t)``: may a call placed at or before ``t`` still reach an agent (ringing, or answered with
        # nobody yet)? A leaving agent stays for those: they were dialed while dialing counted that agent
        self.still_coming = still_coming
        self.leavers: list[SimAgent] = []  # free, shift over, waiting for what was dialed for them
        self.sc = scenario
        self.q = queue
        self.loop = loop
        self.campaign_id = campaign_id
        self.request_tick = request_tick
        self.agents = [SimAgent(aid, i, random.Random(mix64(seed, 3, i))) for i, aid in enumerate(agent_ids)]
        self.by_id = {a.id: a for a in self.agents}
        codes = scenario.dispositions
        self.codes = [c for c, _ in codes]
        self.weights = [w for _, w in codes]
        self.callback_after = timedelta(hours=scenario.callback_after_h)
        self.logout_rate = scenario.agents.logouts_per_hour / 3600.0
        self.retired = False  # ``retire``: the campaign went to another worker, whose floor now plays these seats
        self.closed = False  # ``close``: the day's dialing is over; nobody starts a break while its last calls ring

    # --- the day's plan ----------------------------------------------------------------------------------------
    def plan_day(self, start_t: float, end_t: float, login_stagger_s: float | None = None,
                 log_out_at_end: bool = True) -> None:
        """Schedule the day's log-ins (spread over ``login_stagger_s``, default the scenario's stagger), churn,
        breaks, lunch and, with ``log_out_at_end``, the log-outs at ``end_t`` (a live worker's shift change: the
        next shift logs in at once). Without it the caller sends the agents home (``set_count(0)``) when the calls
        still ringing at the close are through: the batch simulator's ``Simulation._close``."""
        self.closed = False
        a = self.sc.agents
        stagger = a.stagger_min * 60
        first = stagger if login_stagger_s is None else login_stagger_s
        shifts = a.schedule or ()
        if not shifts or shifts[0].hour > 0:
            shifts = ((0.0, a.count),) + tuple((s.hour, s.count) for s in shifts)
        else:
            shifts = tuple((s.hour, s.count) for s in shifts)
        for hour, count in shifts:
            t = start_t + hour * 3600
            if t < end_t:
                if hour == 0:
                    self.q.at(t, self.set_count, count, first)
                else:
                    self.q.at(t, self.change_shift, count)
        for agent in self.agents:
            rng = agent.rng
            if a.break_every_h > 0 and a.break_min > 0:
                k = 1
                while start_t + k * a.break_every_h * 3600 < end_t:
                    if not (a.lunch_at_h and abs(k * a.break_every_h - a.lunch_at_h) < 0.75):
                        t = start_t + k * a.break_every_h * 3600 + rng.uniform(-stagger, stagger)
                        self.q.at(t, self._break, agent, "break", a.break_min * 60)
                    k += 1
            if a.lunch_at_h > 0 and a.lunch_min > 0 and start_t + a.lunch_at_h * 3600 < end_t:
                t = start_t + a.lunch_at_h * 3600 + rng.uniform(-stagger, stagger)
                self.q.at(t, self._break, agent, "lunch", a.lunch_min * 60)
        if log_out_at_end:
            self.q.at(end_t, self.set_count, 0, 0.0)

    def close(self) -> None:
        """The day's close: no new dials, and the agents stay as they are (ready, talking, wrapping up, on a break
        already begun) for the calls still ringing; a break or lunch falling from here on, or waiting for the end
        of a call, is not started (the agent is back ready for the last calls)."""
        self.closed = True

    def set_count(self, count: int, stagger_s: float) -> None:
        for agent in self.agents:
            if agent.index < count and not agent.on_shift:
                agent.on_shift = True
                agent.shift_no += 1
                self.q.after(agent.rng.uniform(0, stagger_s) if stagger_s else 0.0, self._login, agent)
                if self.logout_rate > 0:
                    self.q.after(agent.rng.expovariate(self.logout_rate), self._maybe_drop, agent, agent.shift_no)
            elif agent.index >= count and (agent.on_shift or agent.left_at is not None):
                self._leave(agent)  # first: a write the database refused leaves the agent on shift, to try again
                agent.on_shift = False
                agent.left_at = None
                self._forget_leaver(agent)

    def change_shift(self, count: int) -> None:
        """A change of the schedule during the day, dialing going on. Those joining log in. Those leaving are
        counted out by dialing at once (``DialLoop.agent_leaving``), finish the call they are on and its wrap, take
        the answers of what was dialed before their shift ended, then log out (``_shift_over``); they start no
        break. Sent home at once, as before, the answers of the calls dialed for them found nobody."""
        now = self.q.now()
        for agent in self.agents:
            if agent.index < count and not agent.on_shift:
                if agent.left_at is not None:  # back on before they had gone
                    agent.left_at = None
                    self._forget_leaver(agent)
                    self.loop.agent_staying(agent.id, now)
                    agent.on_shift = True
                    agent.shift_no += 1
                    continue
                agent.on_shift = True
                agent.shift_no += 1
                self.q.after(0.0, self._login, agent)
                if self.logout_rate > 0:
                    self.q.after(agent.rng.expovariate(self.logout_rate), self._maybe_drop, agent, agent.shift_no)
            elif agent.index >= count and agent.on_shift:
                state = self._state(agent)
                if state == "offline":  # dropped mid-call, waiting to log back in: they do not
                    agent.on_shift = False
                    continue
                agent.left_at = self.q.t
                if state == "paused":
                    self._set(agent, "offline")  # first: a write the database refused leaves them on shift
                    agent.left_at = None
                else:
                    self.loop.agent_leaving(agent.id, now)
                    if state == "ready":
                        self._shift_over(agent)
                agent.on_shift = False

    def _shift_over(self, agent: SimAgent) -> None:
        """A leaving agent who is free: home now, or ready while a call dialed before their shift ended may still
        be answered (the loop may route it to them; nothing dialed later counted them)."""
        if agent.left_at is not None and self.still_coming(agent.left_at):
            if self._state(agent) != "ready":
                self._set(agent, "ready")
            if agent not in self.leavers:
                self.leavers.append(agent)
                self.q.after(LEAVE_WAIT_S, self._send_leaver_home, agent, agent.left_at)
            return
        self._forget_leaver(agent)
        agent.left_at = None
        self._set(agent, "offline")

    def _forget_leaver(self, agent: SimAgent) -> None:
        if agent in self.leavers:
            self.leavers.remove(agent)

    def _release_leavers(self) -> None:
        """After any call is put through or ends: the leaving agents with nothing left to wait for go home; one who
        took a call is no longer waiting (their wrap's end decides again)."""
        for agent in list(self.leavers):
            state = self._state(agent)
            if state != "ready":
                self._forget_leaver(agent)
            elif not self.still_coming(agent.left_at):
                self._shift_over(agent)

    def _send_leaver_home(self, agent: SimAgent, left_at: float) -> None:
        """At most ``LEAVE_WAIT_S`` of waiting: every call dialed before the shift ended is over by then."""
        if agent in self.leavers and agent.left_at == left_at and self._state(agent) == "ready":
            self._forget_leaver(agent)
            agent.left_at = None
            self._set(agent, "offline")

    def retire(self, log_out: bool) -> None:
        """The campaign was given back: from here on this floor's scheduled events (a wrap ending, a break's end, a
        relogin) change nothing, and with ``log_out`` (nobody takes the campaign on: it was paused) its ready and
        paused agents log out. A campaign another worker takes is left alone: that owner settles and logs the
        seats in itself, and a logout from here, written whenever this worker's event loop came to it, landed
        after the new owner's login (the new owner's pacer then counted agents who never came, and abandoned the
        answers: 0-21 connected against 13-20 abandoned on two workers sharing four campaigns)."""
        if log_out:
            for agent in self.agents:
                agent.on_shift = False
                if self._state(agent) in ("ready", "paused"):
                    self.loop.agent_state(agent.id, "offline", self.q.now(), None)
        self.retired = True

    def _state(self, agent: SimAgent) -> str:
        view = self.loop.store.agent(agent.id)
        return view.state if view is not None else "offline"

    def _set(self, agent: SimAgent, state: str, reason: str | None = None) -> None:
        if self.retired or not self.owns():
            return
        self.loop.agent_state(agent.id, state, self.q.now(), reason)
        if state == "ready":
            self.request_tick(self.q.t)

    def _login(self, agent: SimAgent) -> None:
        if agent.on_shift and self._state(agent) == "offline":
            self._set(agent, "ready")

    def _leave(self, agent: SimAgent) -> None:
        state = self._state(agent)
        if state in ("ready", "paused"):
            self._set(agent, "offline")
        elif state in ("talking", "wrap"):
            agent.pending = ("offline",)

    def _break(self, agent: SimAgent, reason: str, seconds: float) -> None:
        if not agent.on_shift or self.closed:
            return
        state = self._state(agent)
        if state == "ready":
            self._pause(agent, reason, seconds)
        elif state in ("talking", "wrap") and agent.pending is None:
            agent.pending = ("paused", reason, seconds)
            if self.sc.agents.breaks_said_ahead:  # the seat's "pause after this call": counted out now
                self.loop.agent_leaving(agent.id, self.q.now())

    def _pause(self, agent: SimAgent, reason: str, seconds: float) -> None:
        # the way back is scheduled before the write and the generation moves after it: a live worker runs an event
        # the database refused again, and the second run must find the agent as the first did (a second ``_back``
        # of the same generation finds the agent ready already and does nothing)
        self.q.after(seconds, self._back, agent, agent.gen + 1)
        self._set(agent, "paused", reason)
        agent.gen += 1

    def _back(self, agent: SimAgent, gen: int) -> None:
        if gen != agent.gen or self._state(agent) != "paused":
            return
        self._set(agent, "ready" if agent.on_shift else "offline")

    def _maybe_drop(self, agent: SimAgent, shift_no: int) -> None:
        """A mid-call log-out (browser closed, headset died): the call drops, the agent is back later."""
        if not agent.on_shift or shift_no != agent.shift_no:
            return
        if self._state(agent) == "talking":
            agent.dropped = agent.call_id
            self.q.after(self.sc.agents.relogin_s, self._relogin, agent, agent.gen + 1)  # as ``_pause``
            self._set(agent, "offline")
            agent.gen += 1
        self.q.after(agent.rng.expovariate(self.logout_rate), self._maybe_drop, agent, shift_no)

    def _relogin(self, agent: SimAgent, gen: int) -> None:
        if gen == agent.gen and agent.on_shift and self._state(agent) == "offline":
            self._set(agent, "ready")

    # --- calls (told by the carrier) ---------------------------------------------------------------------------
    def on_connected(self, agent_id: int, call: SimCall) -> None:
        if self.leavers:
            self._release_leavers()
        agent = self.by_id.get(agent_id)
        if agent is None:
            return
        agent.gen += 1
        agent.call_id = call.call_id
        agent.machine = call.fate.kind != "live"
        agent.wrap_s = draw(self.sc.agents.wrap, agent.rng)
        t = self.q.t
        self.loop.hint(self.campaign_id, AgentWillBeFree(t=self.q.now().timestamp(), agent_id=str(agent_id),
                                                         free_at=self.q.dt(t + call.talk_s + agent.wrap_s).timestamp()))

    def on_ended(self, call: SimCall) -> None:
        agent = self.by_id.get(call.agent_id) if call.agent_id is not None else None
        self.request_tick(self.q.t)
        if self.leavers:
            self._release_leavers()
        if agent is None:
            return
        if agent.dropped == call.call_id:  # left mid-call: a supervisor dispositions it for the agent
            agent.dropped = None
            self._disposition(agent, call.call_id)
            return
        if agent.call_id != call.call_id or self._state(agent) != "wrap":
            return  # the loop freed the agent (detection said machine) or the agent moved on
        self.q.after(agent.wrap_s, self._wrapped, agent, agent.gen, call.call_id)

    def _wrapped(self, agent: SimAgent, gen: int, call_id: int) -> None:
        if gen != agent.gen or self._state(agent) != "wrap":
            return
        if agent.call_id == call_id:  # once: a second run (the state change below refused) finds it done
            self._disposition(agent, call_id)
            agent.call_id = None
        pending = agent.pending
        if pending is not None and pending[0] == "paused" and agent.on_shift and not self.closed:
            self._pause(agent, pending[1], pending[2])
        elif agent.left_at is not None and (pending is None or pending[0] != "offline"):
            self._shift_over(agent)  # their shift ended during the call
        elif not agent.on_shift or (pending is not None and pending[0] == "offline"):
            self._set(agent, "offline")
        else:
            self._set(agent, "ready")
        agent.pending = None

    def _disposition(self, agent: SimAgent, call_id: int) -> None:
        if self.retired or not self.owns():
            return
        code = "NOANS" if agent.machine else agent.rng.choices(self.codes, self.weights)[0]
        now = self.q.now()
        self.loop.disposition(call_id, code, now, callback_at=now + self.callback_after if code == "CALLBK" else None)
