"""The dialing worker's and the jobs' Prometheus metrics: defined here once, recorded through small functions.

A worker is one process, so its metrics live in the process's default registry and its ``--metrics-port`` listener
serves them (``dialer.observe.listener``). What the loop does reaches them through ``LoopMetrics`` (the loop's
observer); the Twilio adapter, the callback pump and the job runner call the functions below. Labels are campaign
ids, carriers, outcomes and job names: a few hundred series, never a phone number or a call.

Names (all prefixed ``dialer_``) are listed in docs/deploy.md with the queries an operator starts from.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from typing import TYPE_CHECKING

from prometheus_client import Counter, Gauge, Histogram

from campaigns.floor.view import NO_LEADS_DUE
from dialer.loop.observer import LoopObserver

if TYPE_CHECKING:
    from dialer.loop.core import PacerSlot

log = logging.getLogger("dialer.decisions")

CALLS_PLACED = Counter("dialer_calls_placed", "Calls the carrier accepted (dials)", ["campaign"])
CALLS_PLACE_FAILED = Counter("dialer_calls_place_failed", "Calls the carrier did not take", ["campaign"])
CALLS_ANSWERED = Counter("dialer_calls_answered", "Answered calls, by the first verdict (human, machine, unknown)",
                         ["campaign", "answered_by"])
CALLS_CONNECTED = Counter("dialer_calls_connected", "Answered calls put through to an agent", ["campaign"])
CALLS_ABANDONED = Counter("dialer_calls_abandoned", "Answered calls nobody took within the grace (safe harbor)",
                          ["campaign"])
CALLS_ENDED = Counter("dialer_calls_ended", "Ended calls by final outcome", ["campaign", "outcome"])
PACING_DECISIONS = Counter("dialer_pacing_decisions", "Pacing decisions (one per campaign per turn), by the cap "
                           "that bound (none, lines, cps, leads)", ["campaign", "capped_by"])
PACING_ASKED = Counter("dialer_pacing_asked_calls", "Calls the pacer asked for, summed over turns", ["campaign"])
PACING_ALLOWED = Counter("dialer_pacing_allowed_calls", "Calls the line cap and the CPS bucket allowed",
                         ["campaign"])
PACING_PLANNED = Gauge("dialer_pacing_planned", "What the pacer asked for at its last turn", ["campaign"])
PLACEMENT_SECONDS = Histogram("dialer_placement_seconds", "Time of one create request at the carrier (request "
                              "sent to answer read, retries included)", ["carrier"],
                              buckets=(.025, .05, .1, .15, .2, .25, .3, .4, .5, .75, 1, 2, 5, 10))
CPS_LIMIT = Gauge("dialer_cps_limit", "The account's calls-per-second limit this worker holds to")
CREATES_LAST_SECOND = Gauge("dialer_creates_last_second", "Create requests sent in the last second (CPS in use)")
CALLBACK_LAG = Histogram("dialer_callback_lag_seconds", "From the carrier's timestamp of an event to its delivery to "
                         "the dial loop (Twilio stamps whole seconds: up to 1 s of it is rounding)", ["kind"],
                         buckets=(.1, .25, .5, .75, 1, 1.5, 2, 3, 5, 10, 30, 60))
CALLBACKS = Counter("dialer_callbacks", "Stored callbacks the worker's pump settled, by result "
                    "(handled, stale, orphan, error)", ["result"])
JOB_RUNS = Counter("dialer_job_runs", "Periodic job runs by result (ok, error, skipped: another process held the "
                   "lease)", ["job", "result"])
JOB_SECONDS = Histogram("dialer_job_seconds", "How long a job run took", ["job"],
                        buckets=(.01, .05, .1, .5, 1, 5, 15, 60, 300))
LOOP_TURNS = Counter("dialer_loop_turns", "Dialing turns of this worker's loop")

_sent: deque[float] = deque()
_sent_lock = threading.Lock()


def _creates_last_second() -> float:
    now = time.monotonic()
    with _sent_lock:
        while _sent and _sent[0] < now - 1.0:
            _sent.popleft()
        return float(len(_sent))


CREATES_LAST_SECOND.set_function(_creates_last_second)


def create_sent(carrier: str, seconds: float) -> None:
    """One create request answered (or failed) after ``seconds``."""
    PLACEMENT_SECONDS.labels(carrier).observe(seconds)
    with _sent_lock:
        _sent.append(time.monotonic())


def callback_delivered(kind: str, lag_s: float) -> None:
    CALLBACK_LAG.labels(kind).observe(max(0.0, lag_s))


def callbacks_settled(result: str, n: int = 1) -> None:
    if n:
        CALLBACKS.labels(result).inc(n)


def job_ran(job: str, result: str, seconds: float | None = None) -> None:
    JOB_RUNS.labels(job, result).inc()
    if seconds is not None:
        JOB_SECONDS.labels(job).observe(seconds)


class LoopMetrics(LoopObserver):
    """The dial loop's observer in a worker: counts what it does and logs what it decides (``DecisionLog``)."""

    def __init__(self, decisions: DecisionLog | None = None) -> None:
        self.decisions = decisions

    def placed(self, campaign_id: int) -> None:
        CALLS_PLACED.labels(str(campaign_id)).inc()

    def place_failed(self, campaign_id: int) -> None:
        CALLS_PLACE_FAILED.labels(str(campaign_id)).inc()

    def answered(self, campaign_id: int, answered_by: str) -> None:
        CALLS_ANSWERED.labels(str(campaign_id), answered_by or "unknown").inc()

    def connected(self, campaign_id: int) -> None:
        CALLS_CONNECTED.labels(str(campaign_id)).inc()

    def abandoned(self, campaign_id: int) -> None:
        CALLS_ABANDONED.labels(str(campaign_id)).inc()

    def ended(self, campaign_id: int, outcome: str) -> None:
        CALLS_ENDED.labels(str(campaign_id), outcome).inc()

    def decided(self, campaign_id: int, slot: PacerSlot) -> None:
        cid = str(campaign_id)
        PACING_DECISIONS.labels(cid, slot.capped_by or "none").inc()
        if slot.planned:
            PACING_ASKED.labels(cid).inc(slot.planned)
        if slot.allowed:
            PACING_ALLOWED.labels(cid).inc(slot.allowed)
        PACING_PLANNED.labels(cid).set(slot.planned)
        if self.decisions is not None:
            self.decisions.decided(campaign_id, slot)


class DecisionLog:
    """One info line per campaign when its pacing changes character (mode, the cap that binds, dialing or not),
    and a summary a minute otherwise: agents, asked, allowed, placed, why held back."""

    def __init__(self, every_s: float = 60.0, logger: logging.Logger = log) -> None:
        self.every_s, self.log = every_s, logger
        self._last: dict[int, tuple] = {}
        self._since: dict[int, dict] = {}

    def decided(self, campaign_id: int, slot: PacerSlot) -> None:
        if slot.at is None:
            return
        t = slot.at.timestamp()
        acc = self._since.setdefault(campaign_id, {"from": t, "turns": 0, "asked": 0, "allowed": 0, "placed": 0,
                                                   "held": {}})
        acc["turns"] += 1
        acc["asked"] += slot.planned
        acc["allowed"] += slot.allowed
        acc["placed"] += slot.placed
        if slot.capped_by:
            acc["held"][slot.capped_by] = acc["held"].get(slot.capped_by, 0) + 1
        explain = _explain(slot)
        character = (explain.get("mode"), slot.capped_by, slot.planned > 0)
        changed = self._last.get(campaign_id) != character
        if not changed and t - acc["from"] < self.every_s:
            return
        self._last[campaign_id] = character
        held = ", ".join(f"{k} {v}x" for k, v in sorted(acc["held"].items())) or "nothing"
        what = "pacing changed" if changed else "pacing"
        self.log.info("campaign %s %s: mode %s, agents %s, asked %d, allowed %d, placed %d over %d turns "
                      "(%.0f s); held back by %s; now asks %d%s%s", campaign_id, what, explain.get("mode", "?"),
                      _agents(explain), acc["asked"], acc["allowed"], acc["placed"], acc["turns"],
                      t - acc["from"], held, slot.planned, f", capped by {slot.capped_by}" if slot.capped_by else "",
                      f"; {NO_LEADS_DUE}" if slot.capped_by == "leads"
                      else f". {explain['sentence']}" if explain.get("sentence") else "",
                      extra={"campaign": campaign_id, "event": "pacing"})
        self._since[campaign_id] = {"from": t, "turns": 0, "asked": 0, "allowed": 0, "placed": 0, "held": {}}


def _explain(slot: PacerSlot) -> dict:
    explain = getattr(slot.pacer, "explain", None)
    try:
        out = explain() if explain is not None else {}
    except Exception:  # an explanation must never stop the loop
        return {}
    return out if isinstance(out, dict) else {}


def _agents(explain: dict) -> str:
    if "agents_ready" in explain:
        return f"{explain['agents_ready']} ready of {explain.get('agents_staffed', '?')} staffed"
    return "?"
