"""What a dialer's call creations cost at Twilio's door: the longest wait in its calls-per-second queue and the most
creations offered in any second, read from the times the fake received each create."""

from __future__ import annotations


def max_queue_s(create_times: list[float], cps: float) -> float:
    """Longest wait a call would have spent in Twilio's CPS queue (a leaky bucket draining ``cps`` calls/s): the
    harm an over-fast dialer does. 0 means every call was dialed the moment it arrived."""
    free_at, worst = float("-inf"), 0.0
    for t in sorted(create_times):
        start = max(t, free_at)
        worst = max(worst, start - t)
        free_at = start + 1.0 / cps
    return worst


def max_calls_in_window(create_times: list[float], window_s: float = 1.0) -> int:
    """Most call creations seen in any sliding window (the CPS actually offered to "Twilio")."""
    times = sorted(create_times)
    best, j = 0, 0
    for i, t in enumerate(times):
        while t - times[j] >= window_s:
            j += 1
        best = max(best, i - j + 1)
    return best
