"""Why the worker is or is not dialing each campaign, in its log: one info line when the answer changes.

An operator reading the worker's log (``dialer.logs``) sees, per campaign, "dialing", "not dialing: no agent is
logged in", "not dialing: no dialable lead" with the gate's last refusals (outside the calling window, registry
missing on this host ...), "preview", or that the campaign left this worker (paused, finished, given to another
worker: ``dialer.workers`` logs takeovers). The same campaign is logged again only when its state changes, so a
floor dialing all day writes one line.
"""

from __future__ import annotations

import logging
from collections import Counter

log = logging.getLogger("dialer.decisions")


class DialDecisions:
    def __init__(self) -> None:
        self.state: dict[int, str] = {}
        self.refused: dict[int, Counter] = {}  # the gate's last refusals per campaign (why leads are held back)
        self._next: dict[int, float] = {}

    def due(self, campaign_id: int, t: float, every_s: float = 1.0) -> bool:
        """Time to judge the campaign again (POSIX seconds)."""
        if t < self._next.get(campaign_id, float("-inf")):
            return False
        self._next[campaign_id] = t + every_s
        return True

    def note(self, campaign_id: int, name: str, *, preview: bool, placed: int, planned: int, claimed_short: bool,
             held_by: str | None, refused: Counter) -> None:
        if refused:
            self.refused[campaign_id] = refused
        if preview:
            state, why = "preview", "preview mode: agents place their own calls"
        elif placed > 0:
            state, why = "dialing", "dialing"
        elif held_by == "nobody":
            state, why = "nobody", "not dialing: no agent is logged in and unpaused"
        elif claimed_short:
            last = self.refused.get(campaign_id)
            codes = ", ".join(f"{code} {n}" for code, n in last.most_common(4)) if last else ""
            state = "leads"
            why = ("not dialing: no dialable lead now"
                   + (f" (the pre-dial gate's last refusals: {codes})" if codes else
                      " (none due: the list is used up or its leads wait for their retry time)"))
        else:
            state, why = "dialing", "dialing"
        if self.state.get(campaign_id) != state:
            self.state[campaign_id] = state
            log.info("campaign %s (%d): %s", name, campaign_id, why)

    def gone(self, active: set[int], names: dict[int, str]) -> None:
        """Campaigns this worker dialed that are no longer among its active ones."""
        for cid in [c for c in self.state if c not in active]:
            del self.state[cid]
            self.refused.pop(cid, None)
            log.info("campaign %s (%d): not dialing here any more (paused, finished or owned by another worker)",
                     names.get(cid, "?"), cid)
