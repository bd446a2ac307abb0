"""What the loop did for each campaign over the last minute, for the floor's one plain sentence.

A single turn (every 0.25 s) usually places nothing, so "asked for 0, placed 0" sampled now and then says nothing
about the pace. The tally keeps each turn's planned and placed counts for 60 s of the loop's clock and publishes
their sums with the decision.
"""

from __future__ import annotations

from collections import deque
from datetime import datetime, timedelta

WINDOW = timedelta(seconds=60)


class MinuteTally:
    def __init__(self) -> None:
        self._turns: dict[int, deque[tuple[datetime, int, int]]] = {}

    def add(self, campaign_id: int, now: datetime, planned: int, placed: int) -> None:
        turns = self._turns.setdefault(campaign_id, deque())
        turns.append((now, planned, placed))
        while turns and turns[0][0] <= now - WINDOW:
            turns.popleft()

    def summary(self, campaign_id: int, now: datetime) -> dict:
        turns = [t for t in self._turns.get(campaign_id, ()) if t[0] > now - WINDOW]
        span = (now - turns[0][0]).total_seconds() if turns else 0.0
        return {"seconds": round(max(span, 0.0), 1), "turns": len(turns), "planned": sum(t[1] for t in turns),
                "placed": sum(t[2] for t in turns)}
