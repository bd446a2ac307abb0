"""The campaign's abandon ledger: live answers and abandons per day over the rolling 30-day legal window.

The rule (FTC TSR 16 CFR 310.4(b)(4), FCC 47 CFR 64.1200(a)(7)) caps abandoned ÷ live answers at 3 % per campaign
over 30 days. Counts are bucketed by day index ``floor(t / 86400)`` so memory stays at 31 buckets however long a
worker runs; ``HistorySummary`` seeds the buckets of a restarted worker so it keeps the budget it already spent.
"""

from __future__ import annotations

import math
from collections import deque

DAY = 86_400.0


class AbandonLedger:
    """Rolling per-day counts; ``rate``, ``slack`` and today's counts are O(1)."""

    def __init__(self, target: float, window_days: int = 30) -> None:
        self.target = target
        self.window_days = window_days
        self.days: deque[list[float]] = deque()  # [day index, live answers, abandons], oldest first
        self.lives = 0.0
        self.abandons = 0.0

    def _bucket(self, t: float) -> list[float]:
        day = math.floor(t / DAY)
        if self.days and self.days[-1][0] >= day:
            # same day, or a late event from a previous day: book it on the newest bucket (never lose a count)
            return self.days[-1]
        self.days.append([day, 0.0, 0.0])
        self._expire(day)
        return self.days[-1]

    def _expire(self, day: int) -> None:
        while self.days and self.days[0][0] <= day - self.window_days:
            _, lv, ab = self.days.popleft()
            self.lives -= lv
            self.abandons -= ab

    def live(self, t: float) -> None:
        self._bucket(t)[1] += 1
        self.lives += 1

    def unlive(self, t: float) -> None:
        """Take back a live answer booked earlier (a late machine verdict); never below zero."""
        b = self._bucket(t)
        if b[1] >= 1:
            b[1] -= 1
            self.lives -= 1

    def abandon(self, t: float) -> None:
        self._bucket(t)[2] += 1
        self.abandons += 1

    def seed(self, t: float, lives: int, abandons: int) -> None:
        """Spread stored 30-day totals evenly over the window's earlier days so they age out gradually."""
        today = math.floor(t / DAY)
        spread = max(1, self.window_days - 1)
        old = {int(b[0]): b for b in self.days}
        for k in range(spread, 0, -1):
            day = today - k
            b = old.get(day)
            if b is None:
                b = [day, 0.0, 0.0]
                old[day] = b
            b[1] += lives / spread
            b[2] += abandons / spread
        self.days = deque(sorted(old.values(), key=lambda b: b[0]))
        self.lives += lives
        self.abandons += abandons

    def advance(self, t: float) -> None:
        """Let buckets older than the window fall out even when no event arrives."""
        self._expire(math.floor(t / DAY))

    @property
    def rate(self) -> float:
        """Abandoned ÷ live answers over the window (0 with no answers yet)."""
        return self.abandons / self.lives if self.lives > 0 else 0.0

    @property
    def slack(self) -> float:
        """Abandons still allowed now: target × live answers − abandons (negative when over the cap)."""
        return self.target * self.lives - self.abandons

    def today(self, t: float) -> tuple[float, float]:
        """(live answers, abandons) booked since midnight of the day containing ``t``."""
        if self.days and self.days[-1][0] == math.floor(t / DAY):
            return self.days[-1][1], self.days[-1][2]
        return 0.0, 0.0
