"""A live simulator gives a campaign back to another worker: its floor stops playing the seats. Before, the events it
had scheduled (a wrap ending, the end of a break) went on changing the agents the new owner had logged in: an
agent mid-call for the new owner was set offline and never came back, and the new owner's pacer, told the agent
would be free, placed calls whose answers nobody took (abandoned 61-124 against 17-54 connected at 1,000 agents)."""

from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace

from dialer.sim import parse_scenario
from dialer.sim.engine import EventQueue
from dialer.sim.floor import SimFloor

T0 = datetime(2030, 1, 8, 15, 0, tzinfo=UTC)


class Seats:
    """The dial loop as the floor sees it: the seats' states (the database) and what the floor asked for."""

    def __init__(self, states: dict[int, str]) -> None:
        self.states, self.asked = states, []
        self.store = SimpleNamespace(agent=lambda aid: SimpleNamespace(state=self.states[aid]))

    def agent_state(self, agent_id, state, at, reason=None) -> bool:
        self.asked.append((agent_id, state))
        self.states[agent_id] = state
        return True

    def disposition(self, call_id, code, at, callback_at=None) -> None:
        self.asked.append((call_id, "disposition"))

    def hint(self, campaign_id, event) -> None:
        pass


def test_a_floor_given_back_logs_its_idle_agents_out_and_then_changes_nothing():
    sc = parse_scenario({"name": "t", "seed": 1, "run": {"hours_per_day": 1.0}, "agents": {"count": 2}})
    q = EventQueue(T0)
    seats = Seats({7: "offline", 8: "offline"})
    floor = SimFloor(sc, 1, q, seats, 1, [7, 8], lambda t: None)
    floor.set_count(2, 0.0)
    q.run(1.0)
    assert seats.states == {7: "ready", 8: "ready"}
    floor._pause(floor.by_id[8], "break", 60.0)  # on a break: its end is scheduled a minute on
    seats.states[7] = "wrap"  # on a call that has just ended: its wrap is running
    floor.by_id[7].call_id = 41
    q.after(5.0, floor._wrapped, floor.by_id[7], floor.by_id[7].gen, 41)
    floor.retire(log_out=True)  # paused: nobody takes the campaign on
    assert seats.asked[-1] == (8, "offline")  # the idle one logs out at once
    seats.asked.clear()
    seats.states.update({7: "wrap", 8: "paused"})  # the new owner's agents now: one in a wrap, one on a break
    q.run(120.0)
    assert seats.asked == [] and seats.states == {7: "wrap", 8: "paused"}


def test_a_floor_given_to_another_worker_writes_nothing_from_the_moment_it_is_given_back():
    """The heartbeat thread gives the campaign back between two of the floor's events; the new owner logs the seats
    in (its clock ahead of this worker's event loop). Nothing this floor does afterwards may reach them: not the
    events still scheduled, not a logout at retirement (it landed after the new owner's login)."""
    sc = parse_scenario({"name": "t", "seed": 1, "run": {"hours_per_day": 1.0}, "agents": {"count": 2}})
    q = EventQueue(T0)
    seats = Seats({7: "offline", 8: "offline"})
    mine = {"owned": True}
    floor = SimFloor(sc, 1, q, seats, 1, [7, 8], lambda t: None, owns=lambda: mine["owned"])
    floor.set_count(2, 0.0)
    q.run(1.0)
    floor._pause(floor.by_id[8], "break", 60.0)
    seats.states[7] = "wrap"
    floor.by_id[7].call_id = 41
    q.after(5.0, floor._wrapped, floor.by_id[7], floor.by_id[7].gen, 41)
    mine["owned"] = False  # given back by the heartbeat thread
    seats.asked.clear()
    seats.states.update({7: "ready", 8: "ready"})  # the new owner logged them in
    q.run(30.0)  # the wrap's end comes before this worker's next look at what it owns
    assert seats.asked == []
    floor.retire(log_out=False)  # another worker owns it now
    q.run(120.0)
    assert seats.asked == [] and seats.states == {7: "ready", 8: "ready"}
