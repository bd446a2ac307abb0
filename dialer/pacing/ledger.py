"""The campaign's abandon ledger: live answers and abandons over the rolling 30-day legal window, exactly.

The rule (FTC TSR 16 CFR 310.4(b)(4), FCC 47 CFR 64.1200(a)(7)) caps abandoned ÷ live answers at 3 % per campaign
over 30 days. The product's one definition (``campaigns.reports.history.abandon_history``) counts the calls
*placed* in ``[now − 30 days, now)``, so the ledger keeps every live answer and abandon under its call's placement
time and lets each one go at the exact instant it leaves that window: the budget the pacer spends is the legal
count at every instant, not a count of day buckets (which dropped calls up to a day early at the window's edge).

Memory is one float and one small weight per live answer of the last 30 days (about 30 MB for a 500-agent floor
dialing eight hours a day); booking and expiry are O(1) amortised. Calls are booked a few seconds after they are
placed, so bookings arrive almost in order: recent ones wait in a small unsorted list and join the sorted store
once they are older than ``SETTLE_S`` (or when one of them is about to leave the window). ``HistorySummary`` seeds
the ledger of a restarted worker, with the calls' placement times when the caller has them (then it is exact) and
otherwise spread evenly over the window.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

DAY = 86_400.0
WINDOW_S = 30 * DAY
SETTLE_S = 600.0  # bookings this much older than the newest event are assumed final in order
_PENDING_MAX = 4096


class ExpiringCounts:
    """Weighted instants (+1 a booking, −1 a retraction) whose sum over ``[edge, ∞)`` is kept exactly."""

    def __init__(self) -> None:
        self.times = np.empty(256)
        self.weights = np.empty(256, dtype=np.int8)
        self.head = 0  # first entry still inside the window
        self.size = 0  # entries stored (sorted by time) in times[:size]
        self.pending: list[tuple[float, int]] = []
        self.pending_min = math.inf
        self.total = 0

    def add(self, t: float, w: int = 1) -> None:
        self.pending.append((t, w))
        self.pending_min = min(self.pending_min, t)
        self.total += w

    def add_many(self, times: np.ndarray, w: int = 1) -> None:
        times = np.sort(np.asarray(times, dtype=float))
        self._insert(times, np.full(len(times), w, dtype=np.int8))
        self.total += w * len(times)

    def settle(self, upto: float) -> None:
        """Move pending bookings at or before ``upto`` into the sorted store."""
        if not self.pending or self.pending_min > upto:
            return
        keep = [p for p in self.pending if p[0] > upto]
        move = sorted(p for p in self.pending if p[0] <= upto)
        self.pending = keep
        self.pending_min = min((p[0] for p in keep), default=math.inf)
        self._insert(np.array([p[0] for p in move]), np.array([p[1] for p in move], dtype=np.int8))

    def expire(self, edge: float) -> None:
        """Drop every entry placed before ``edge`` (the window is ``[edge, now)``)."""
        if self.pending_min < edge:
            self.settle(edge)
        if self.head >= self.size or self.times[self.head] >= edge:
            return  # nothing stored is older (asked at every plan: most of the time there is nothing to drop)
        live = self.times[self.head:self.size]
        k = int(np.searchsorted(live, edge, side="left"))
        if k:
            self.total -= int(self.weights[self.head:self.head + k].sum(dtype=np.int64))
            self.head += k

    def _insert(self, times: np.ndarray, weights: np.ndarray) -> None:
        if not len(times):
            return
        tail = self.times[self.size - 1] if self.size > self.head else -math.inf
        if times[0] >= tail:  # the usual case: everything is newer than what is stored
            self._reserve(len(times))
            self.times[self.size:self.size + len(times)] = times
            self.weights[self.size:self.size + len(times)] = weights
            self.size += len(times)
            return
        live_t, live_w = self.times[self.head:self.size], self.weights[self.head:self.size]
        at = np.searchsorted(live_t, times, side="right")
        merged_t, merged_w = np.insert(live_t, at, times), np.insert(live_w, at, weights)
        self.times, self.weights = merged_t, merged_w
        self.head, self.size = 0, len(merged_t)
        self._reserve(0)

    def _reserve(self, extra: int) -> None:
        need = self.size - self.head + extra
        if self.head and self.head * 2 >= self.size:  # compact: most of the array has expired
            self.times[:self.size - self.head] = self.times[self.head:self.size]
            self.weights[:self.size - self.head] = self.weights[self.head:self.size]
            self.size -= self.head
            self.head = 0
        if self.size + extra > len(self.times):
            cap = max(256, 2 * need)
            times, weights = np.empty(cap), np.empty(cap, dtype=np.int8)
            times[:self.size - self.head] = self.times[self.head:self.size]
            weights[:self.size - self.head] = self.weights[self.head:self.size]
            self.times, self.weights = times, weights
            self.size -= self.head
            self.head = 0


class AbandonLedger:
    """Live answers and abandons of the calls placed in the last 30 days; ``rate`` and ``slack`` are O(1)."""

    def __init__(self, target: float, window_days: int = 30) -> None:
        self.target = target
        self.window = window_days * DAY
        self._lives = ExpiringCounts()
        self._abandons = ExpiringCounts()
        self.newest = -math.inf
        self._today = (None, 0, 0)  # (day index, live answers, abandons) booked on the newest day

    @property
    def lives(self) -> int:
        return self._lives.total

    @property
    def abandons(self) -> int:
        return self._abandons.total

    def _book(self, store: ExpiringCounts, placed: float, w: int) -> None:
        store.add(placed, w)
        if placed > self.newest:
            self.newest = placed
            self.advance(placed)
        if len(store.pending) > _PENDING_MAX:
            store.settle(self.newest - SETTLE_S)

    def _count_today(self, placed: float, lives: int, abandons: int) -> None:
        day = math.floor(placed / DAY)
        d, lv, ab = self._today
        if d is None or day > d:
            self._today = (day, max(lives, 0), abandons)
        elif day == d:
            self._today = (d, max(lv + lives, 0), ab + abandons)

    def live(self, placed: float) -> None:
        """A live answer on a call placed at ``placed``."""
        self._book(self._lives, placed, 1)
        self._count_today(placed, 1, 0)

    def unlive(self, placed: float) -> None:
        """Take back a live answer booked earlier (a late machine verdict); never below zero."""
        if self._lives.total >= 1:
            self._book(self._lives, placed, -1)
            self._count_today(placed, -1, 0)

    def abandon(self, placed: float) -> None:
        self._book(self._abandons, placed, 1)
        self._count_today(placed, 0, 1)

    def seed(self, t: float, lives: int, abandons: int, live_placed: Sequence[float] | None = None,
             abandoned_placed: Sequence[float] | None = None) -> None:
        """Stored 30-day counts of a restarted worker. With the calls' placement times the ledger is exact;
        without them the calls are spread evenly over the window ending at ``t`` so they age out gradually."""
        for store, count, placed in ((self._lives, lives, live_placed), (self._abandons, abandons, abandoned_placed)):
            if placed is None or len(placed) != count:
                placed = t - self.window * (np.arange(count) + 0.5) / max(count, 1)
            store.add_many(np.asarray(placed, dtype=float))
        self.advance(t)

    def advance(self, t: float) -> None:
        """Let every call placed before ``t − 30 days`` fall out, even when no event arrives."""
        edge = t - self.window
        self._lives.expire(edge)
        self._abandons.expire(edge)

    @property
    def rate(self) -> float:
        """Abandoned ÷ live answers over the window (0 with no answers yet)."""
        return self.abandons / self.lives if self.lives > 0 else 0.0

    @property
    def slack(self) -> float:
        """Abandons still allowed now: target × live answers − abandons (negative when over the cap)."""
        return self.target * self.lives - self.abandons

    def today(self, t: float) -> tuple[float, float]:
        """(live answers, abandons) of the calls placed since midnight of the day containing ``t``."""
        d, lv, ab = self._today
        if d is not None and d == math.floor(t / DAY):
            return float(lv), float(ab)
        return 0.0, 0.0
