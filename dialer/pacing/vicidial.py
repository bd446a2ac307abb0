"""A faithful port of VICIdial's adaptive pacing (ADAPT_AVERAGE by default), the baseline we must beat.

Paraphrased from ``bin/AST_VDadapt.pl`` (``count_agents_lines``, ``calculate_dial_level``, ``calculate_drops``)
and ``bin/AST_VDauto_dial.pl`` as summarised in docs/vicidial.md §1.6; this is our code, not theirs. It forecasts
nothing: a proportional loop on (ready agents − waiting calls) ÷ logged-in agents updated every 15 s, compounding
on the stored dial level, with a daily (since midnight) drop check refreshed every 60 s.

Time mapping: the pacer never reads a clock, so "today" is ``floor(t / 86400)`` and the server time of day
(HHMM, for ADAPT_TAPERED) is ``t mod 86400``: feed ``t`` as seconds since a local midnight.

Mapping of states: READY = ready; INCALL = talking; the dispo screen (VICIdial shows it as PAUSED) = wrap;
LIVE calls = answered and waiting for an agent; existing calls = ringing + waiting + connected.
"""

from __future__ import annotations

import math
from collections import deque
from typing import Any

from dialer.pacing.base import Pacer, Setting
from dialer.pacing.events import CallEnded
from dialer.pacing.floor import TALKING
from dialer.pacing.ledger import DAY

SAMPLES = 15  # stat_it: the last 15 one-second samples
LEVEL_EVERY = 15.0  # calculate_dial_level cadence (s)
DROPS_EVERY = 60.0  # calculate_drops cadence (s)


class VicidialAdaptivePacer(Pacer):
    name = "vicidial-adaptive"
    SETTINGS = {
        "dial_method": Setting(str, "ADAPT_AVERAGE", "what happens over the daily drop limit",
                               choices=("ADAPT_AVERAGE", "ADAPT_HARD_LIMIT", "ADAPT_TAPERED")),
        "dial_level": Setting(float, 1.0, "starting auto_dial_level", 1.0, 10.0),
        "adaptive_maximum_level": Setting(float, 3.0, "ceiling of the dial level", 1.0, 10.0),
        "adaptive_intensity": Setting(float, 0.0, "-40..40: positive raises faster, lowers slower", -40, 40),
        "adaptive_dl_diff_target": Setting(float, 0.0, "-40..40: +1 keeps one call queued, -1 one agent idle",
                                           -40, 40),
        "adaptive_dropped_percentage": Setting(float, -1.0, "daily drop limit in percent (default: target × 100)",
                                               -1.0, 100.0),
        "adaptive_latest_server_time": Setting(int, 2100, "HHMM after which ADAPT_TAPERED forces level 1", 0, 2400),
        "dial_level_threshold_agents": Setting(int, 0, "below this many non-paused agents the level is 1", 0, 1000),
        "available_only_ratio_tally": Setting(int, 0, "1 = count only ready agents (not INCALL)", 0, 1),
    }

    def __init__(self, **settings: Any) -> None:
        super().__init__(**settings)
        s = self.settings
        self.level = s["dial_level"]
        pct = s["adaptive_dropped_percentage"]
        self.limit_pct = self.target * 100 if pct < 0 else pct
        self.samples: deque[tuple[int, int, int]] = deque(maxlen=SAMPLES)
        self.next_sample: float | None = None
        self.next_level: float | None = None
        self.next_drops: float | None = None
        self.ended_1min: deque[tuple[float, bool]] = deque()  # (t, dropped) of calls logged in the last minute
        self.calls_day: tuple[int, int] = (-1, 0)  # (day, calls logged that day)
        self.stats = {"calls_1min": 0, "drops_1min": 0, "calls_today": 0, "drops_answers_today_pct": 0.0}

    def observe(self, ev) -> None:
        if isinstance(ev, CallEnded) and ev.call_id not in self.ended:
            # vicidial_log gets a row per finished outbound call
            self.ended_1min.append((ev.t, ev.outcome == "abandoned"))
            day = math.floor(ev.t / DAY)
            d, n = self.calls_day
            self.calls_day = (day, n + 1) if day == d else (day, 1) if day > d else (d, n + 1)
        super().observe(ev)

    def _sample(self) -> tuple[int, int, int]:
        return self.ready, self.waiting, self.logged_in

    def _calculate_drops(self, t: float) -> None:
        while self.ended_1min and self.ended_1min[0][0] < t - 60.0:
            self.ended_1min.popleft()
        lives, drops = self.ledger.today(t)
        day, calls = self.calls_day
        self.stats = {
            "calls_1min": len(self.ended_1min),
            "drops_1min": sum(1 for _, d in self.ended_1min if d),
            "calls_today": calls if day == math.floor(t / DAY) else 0,
            "drops_answers_today_pct": 100.0 * drops / lives if lives else 0.0,
        }

    def _calculate_dial_level(self, t: float) -> None:
        s = self.settings
        if not self.samples:
            return
        k = len(self.samples)
        avg_r = sum(x[0] for x in self.samples) / k
        avg_w = sum(x[1] for x in self.samples) / k
        avg_a = sum(x[2] for x in self.samples) / k
        diff = avg_r - avg_w + s["adaptive_dl_diff_target"]
        m = diff / avg_a if diff and avg_a else 0.0
        i = s["adaptive_intensity"] / 100.0
        m = m * (1 + i) if m >= 0 else m * abs(i - 1)
        level = min(max(self.level * (1 + m), 1.0), s["adaptive_maximum_level"])
        st = self.stats
        if st["calls_1min"] > 20 and st["drops_1min"] / st["calls_1min"] > 0.5:
            level /= 2
        if st["calls_today"] > 50 and st["drops_answers_today_pct"] > self.limit_pct:
            method = s["dial_method"]
            if method == "ADAPT_HARD_LIMIT":
                level = 1.0
            elif method == "ADAPT_AVERAGE":
                level /= 2
            else:  # TAPERED: raw HHMM subtraction, as the Perl does
                secs = t % DAY
                hhmm = int(secs // 3600) * 100 + int(secs % 3600 // 60)
                h = s["adaptive_latest_server_time"] - hhmm
                level = 1.0 if h < 0 else level * min(1.0, h / 1000)
        if self.staffed < s["dial_level_threshold_agents"]:
            level = 1.0
        self.level = max(level, 1.0)

    def _tick(self, t: float) -> None:
        """Run the once-a-second sampler and the 15 s / 60 s updates that fell due up to ``t``."""
        if self.next_sample is None:
            self.next_sample, self.next_level, self.next_drops = t, t + LEVEL_EVERY, t + DROPS_EVERY
        missed = 0
        while self.next_sample <= t and missed < SAMPLES:
            self.samples.append(self._sample())
            self.next_sample += 1.0
            missed += 1
        if self.next_sample <= t:  # a long gap: resynchronise instead of replaying it
            self.next_sample = math.floor(t) + 1.0
        if self.next_drops <= t:
            self._calculate_drops(t)
            self.next_drops = t + DROPS_EVERY
        if self.next_level <= t:
            self._calculate_dial_level(t)
            self.next_level = t + LEVEL_EVERY

    def _plan(self, t: float, info: dict[str, Any]) -> int:
        self._tick(t)
        level = self.level
        if self.staffed < self.settings["dial_level_threshold_agents"]:
            level = 1.0
        info["dial_level"], info["held_by"] = round(level, 4), "setting"
        info["drops_answers_today_pct"] = round(self.stats["drops_answers_today_pct"], 3)
        if self.settings["available_only_ratio_tally"]:
            goal = math.floor(level * self.ready + 0.5)
            return goal - self.ringing - self.waiting
        agents = self.ready + self.state_counts[TALKING]
        goal = math.floor(level * agents + 0.5)
        return goal - self.ringing - self.waiting - self.connected
