"""A token bucket on an injected clock: keeps call placement at or under the carrier's calls-per-second limit.

Twilio queues calls above the account's CPS instead of refusing them, and a queued call reaches the customer
after its agent slot has passed, so the dialer must never offer more than the limit itself.
"""

from __future__ import annotations

from dialer.clock import Clock


class TokenBucket:
    """``rate_per_s`` tokens per second, at most ``burst`` saved up; one token per call placed."""

    def __init__(self, rate_per_s: float, burst: float, clock: Clock) -> None:
        if rate_per_s <= 0:
            raise ValueError("rate_per_s must be positive")
        if burst < 1:
            raise ValueError("burst must be at least 1 (one call)")
        self.rate = float(rate_per_s)
        self.burst = float(burst)
        self.clock = clock
        self._tokens = float(burst)
        self._at = clock.now()

    def _refill(self) -> None:
        now = self.clock.now()
        elapsed = (now - self._at).total_seconds()
        if elapsed > 0:
            self._tokens = min(self.burst, self._tokens + elapsed * self.rate)
            self._at = now

    @property
    def available(self) -> float:
        self._refill()
        return self._tokens

    def try_take(self, n: float = 1.0) -> bool:
        """Take ``n`` tokens if they are there; never blocks."""
        self._refill()
        if self._tokens + 1e-9 >= n:
            self._tokens -= n
            return True
        return False

    def wait_s(self, n: float = 1.0) -> float:
        """Seconds until ``n`` tokens will be there (0 when they already are)."""
        self._refill()
        return max(0.0, (n - self._tokens) / self.rate)
