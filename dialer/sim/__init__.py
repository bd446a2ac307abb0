"""The simulator: the real dial loop on a virtual clock, with a simulated carrier and simulated agents.

Python API (the pacing benchmark builds on it)::

    from dialer.sim import load_scenario, run
    scenario = load_scenario("dialer/sim/scenarios/base.toml")
    result = run(scenario, pacer="predictive", pacer_settings={}, seed=1, store="memory")
    result.calls          # CallTable: numpy columns per call (placed/answered/connected/ended, true and
                          # detected answered_by, outcome, agent id, disposition), seconds since result.t0
    result.agents         # AgentIntervals: agent id, state, pause reason, start, end
    result.explanations   # [(t, loop.explain(campaign))]: the pacer's explain() sampled every explain_every_s
    result.summary()      # occupancy, abandon rate (run and worst day), waits, answer-to-agent delay ...
"""

from dialer.sim.load import load_scenario, parse_scenario
from dialer.sim.result import AgentIntervals, CallRecord, CallTable, SimResult
from dialer.sim.runner import Simulation, run
from dialer.sim.scenario import Scenario

__all__ = ["AgentIntervals", "CallRecord", "CallTable", "Scenario", "SimResult", "Simulation", "load_scenario",
           "parse_scenario", "run"]
