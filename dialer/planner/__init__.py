"""The staffing planner: "how many agents, and when will this list be done?"

``erlang`` answers the inbound side (callbacks to the safe-harbor number) and gives the quick first estimate;
``inputs`` measures a campaign's own history; ``whatif`` runs the real dial loop in the simulator on those
inputs for a proposed schedule, and searches for the fewest agents that meet a goal.
"""

# a plan's runs unless asked: three seeds share two CPUs in 1.5 seeds' time, four take two (docs/planner.md §4)
DEFAULT_SEEDS = 3
