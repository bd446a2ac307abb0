"""Which requests are a page's own polling rather than a person acting: the idle hour of a console session counts
only actions (``campaigns.accounts.sessions.SessionPolicy``), so a page left open in a browser signs out an hour
after its user last did something, not at the 12-hour cap.

Named here by endpoint, on the server: a request cannot make itself count as an action by leaving out a header,
and a new polling endpoint is one line here (a test checks every name is a real endpoint).
"""

from __future__ import annotations

from flask import request

POLLS = frozenset((
    "floor.data",  # the live floor's figures, every few seconds
    "floor.dialable",  # the live floor's dialable-leads panel
    "agent.state",  # the agent's seat: reloads the page when a call pops (that reload is an action)
    "lists.status",  # an import's progress
    "twilio.token",  # the Voice SDK renewing its access token in the agent's browser
))


def is_poll() -> bool:
    """Is the current request a page's own polling?"""
    return request.endpoint in POLLS
