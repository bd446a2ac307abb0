"""Campaigns, lead lists, leads, agents, calls and what the floor and the reports read of them.

One subpackage per feature, each with its tables in its own ``models.py``; ``db`` holds the engine and session
plumbing every storing package shares, ``tables`` imports every feature's models. May import ``dnc``, nothing else
of ours."""
