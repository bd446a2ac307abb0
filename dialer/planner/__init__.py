"""The staffing planner: "how many agents, and when will this list be done?"

``erlang`` answers the inbound side (callbacks to the safe-harbor number) and gives the quick first estimate;
``inputs`` measures a campaign's own history; ``whatif`` runs the real dial loop in the simulator on those
inputs for a proposed schedule, and searches for the fewest agents that meet a goal.
"""

import os


def default_seeds() -> int:
    """A plan's runs unless asked: one a CPU this process may use, so they run at once and the plan takes one seed's
    time (three seeds on two CPUs take one and a half), at least two so the spread between seeds shows, at most
    four. More can be asked for a tighter spread (docs/planner.md §4)."""
    try:
        cpus = len(os.sched_getaffinity(0))  # a container's CPU set, not the host's
    except AttributeError:  # not on Linux
        cpus = os.cpu_count() or 1
    return max(2, min(4, cpus))


DEFAULT_SEEDS = default_seeds()
