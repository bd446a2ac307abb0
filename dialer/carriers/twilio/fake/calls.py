"""Simulated call legs: the status lifecycle, the TwiML they execute and the signed webhooks they send.

Each call runs on a shared timeline (one timer thread, a small pool for the HTTP posts) so thousands of calls
cost no threads of their own. Webhooks are signed exactly as Twilio signs them (``RequestValidator``), so the app
under test validates them with the same code it uses in production.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import threading
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from email.utils import formatdate

import requests
from twilio.request_validator import RequestValidator

from dialer.carriers.twilio.fake.rooms import Rooms
from dialer.carriers.twilio.fake.scripts import CallScript
from dialer.clock import Clock, SystemClock

log = logging.getLogger(__name__)
FINAL = ("completed", "busy", "no-answer", "canceled", "failed")


class Timeline:
    """Runs callables at monotonic deadlines on one thread, handing the work to a pool."""

    def __init__(self, workers: int = 16) -> None:
        self._heap: list[tuple[float, int, Callable[[], None], Callable[[], bool] | None]] = []
        self._seq = itertools.count()
        self._cv = threading.Condition()
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="fake-twilio")
        self._stopped = False
        self._thread = threading.Thread(target=self._run, name="fake-twilio-timeline", daemon=True)
        self._thread.start()

    def at(self, delay_s: float, fn: Callable[[], None], alive: Callable[[], bool] | None = None) -> None:
        """Run ``fn`` in ``delay_s``. ``alive``: whether the step still has anything to do (its call has not
        ended since), so a talk timer of a call hung up early does not count as work in flight."""
        with self._cv:
            heapq.heappush(self._heap, (time.monotonic() + max(0.0, delay_s), next(self._seq), fn, alive))
            self._cv.notify()

    def pending(self) -> int:
        """Steps still to run that can change something: a webhook to post, a live call's next step. A call's
        timers outlive it (a talk of minutes hung up after seconds); counted, they kept a bench waiting for an
        idle network that had been idle for minutes."""
        with self._cv:
            alive = [a for _, _, _, a in self._heap]
        return sum(1 for a in alive if a is None or a())  # outside the lock: ``a`` takes the call's lock

    def _run(self) -> None:
        while True:
            with self._cv:
                while not self._stopped and (not self._heap or self._heap[0][0] > time.monotonic()):
                    self._cv.wait(None if not self._heap else self._heap[0][0] - time.monotonic())
                if self._stopped:
                    return
                _, _, fn, _ = heapq.heappop(self._heap)
            self._pool.submit(_guarded, fn)

    def stop(self) -> None:
        with self._cv:
            self._stopped = True
            self._cv.notify()
        self._thread.join(timeout=5)
        self._pool.shutdown(wait=True, cancel_futures=True)


def _guarded(fn: Callable[[], None]) -> None:
    try:
        fn()
    except Exception:  # a broken step must not kill the timeline (the test sees the call stuck instead)
        log.exception("fake twilio step failed")


@dataclass
class Delivery:
    """One webhook the fake sent, and what the app answered (the bench counts lost ones)."""

    url: str
    params: dict
    status: int | None  # None: no HTTP answer at all
    body: str = ""


class Webhooks:
    """Posts form-encoded, signed requests the way Twilio does, retrying connection failures and 5xx."""

    def __init__(self, auth_token: str, retries: int = 3) -> None:
        self.validator = RequestValidator(auth_token)
        self.retries = retries
        self.session = requests.Session()
        self.session.trust_env = False
        self.deliveries: list[Delivery] = []
        self._lock = threading.Lock()

    def post(self, url: str, params: dict) -> Delivery:
        signature = self.validator.compute_signature(url, params)
        delivery = Delivery(url, dict(params), None)
        for attempt in range(self.retries + 1):
            try:
                r = self.session.post(url, data=params, timeout=10, allow_redirects=False,
                                      headers={"X-Twilio-Signature": signature, "User-Agent": "TwilioProxy/1.1",
                                               "I-Twilio-Idempotency-Token": f"{params.get('CallSid')}-{id(delivery)}"})
                delivery.status, delivery.body = r.status_code, r.text
                if r.status_code < 500:
                    break
            except requests.RequestException as e:
                delivery.status, delivery.body = None, str(e)
            time.sleep(0.05 * (attempt + 1))
        with self._lock:
            self.deliveries.append(delivery)
        return delivery


@dataclass
class FakeCall:
    """One outbound leg placed through ``POST /Calls.json``."""

    sid: str
    account_sid: str
    to: str
    from_: str
    params: dict  # the create request's form fields (Url, StatusCallback, StatusCallbackEvent ...)
    events: list[str]
    script: CallScript
    created: float
    created_utc: str = ""  # ISO-8601 UTC, what the call log filters on
    created_rfc: str = ""  # RFC 2822, the resource's ``date_created`` (when the create arrived, whole seconds)
    status: str = "queued"
    answered_by: str | None = None
    answered_at: float | None = None
    ended_at: float | None = None
    conference: str | None = None
    verdict_at: float | None = None  # when the AMD verdict went out (the moment the dialer may connect)
    joined_at: float | None = None  # when the leg entered a conference
    joined_with: list[str] = field(default_factory=list)  # the legs already in the room when it entered
    rooms_joined: list[str] = field(default_factory=list)  # every conference the leg entered, in order
    sequence: int = 0
    after_dial: list = field(default_factory=list)  # the verbs after the <Dial> the leg is in
    twiml_log: list[str] = field(default_factory=list)
    digits_sent: list[str] = field(default_factory=list)
    bridged_to: list[str] = field(default_factory=list)  # numbers a ``<Dial><Number>`` connected it to
    generation: int = 0  # bumps on every redirect so timers of the superseded TwiML do nothing
    lock: threading.RLock = field(default_factory=threading.RLock)

    @property
    def duration_s(self) -> int:
        if self.answered_at is None:
            return 0
        return int(round((self.ended_at or time.monotonic()) - self.answered_at))

    def resource(self, stamp: str = "") -> dict:
        """The JSON Twilio returns for a Call resource (the fields twilio-python's CallInstance reads)."""
        return {
            "sid": self.sid, "account_sid": self.account_sid, "to": self.to, "from": self.from_,
            "status": self.status, "direction": "outbound-api", "answered_by": self.answered_by,
            "duration": str(self.duration_s) if self.status in FINAL else None,
            "queue_time": "0", "api_version": "2010-04-01", "price": None, "price_unit": "USD",
            "date_created": self.created_rfc or stamp, "date_updated": stamp,
            "start_time": None if self.status == "queued" else (self.created_rfc or stamp),
            "uri": f"/2010-04-01/Accounts/{self.account_sid}/Calls/{self.sid}.json",
        }

    def base_params(self) -> dict:
        return {"CallSid": self.sid, "AccountSid": self.account_sid, "To": self.to, "From": self.from_,
                "Direction": "outbound-api", "ApiVersion": "2010-04-01", "CallStatus": self.status}


class CallRunner:
    """Plays each call's script: statuses, AMD, TwiML fetches, gathers, conferences and redirects."""

    def __init__(self, timeline: Timeline, hooks: Webhooks, clock: Clock | None = None,
                 callback_delay: Callable[[], float] | None = None) -> None:
        self.timeline = timeline
        self.hooks = hooks
        self.callback_delay = callback_delay  # status and AMD callbacks leave this late (each its own draw)
        self.clock = clock or SystemClock()
        self.rooms = Rooms(hooks, self.stamp)

    def stamp(self) -> str:
        """Twilio's RFC 2822 ``Timestamp`` (whole seconds) on the fake's clock (tests run it on theirs)."""
        return formatdate(self.clock.now().timestamp(), usegmt=True)

    # --- lifecycle -------------------------------------------------------------------------------------------
    def start(self, call: FakeCall) -> None:
        s, ringing = call.script, self._unfinished(call)
        self.timeline.at(0.005, lambda: self._status(call, "initiated", "initiated"))
        if s.answer == "failed":
            self.timeline.at(0.01, lambda: self._end(call, "failed"))
            return
        self.timeline.at(0.01, lambda: self._status(call, "ringing", "ringing"))
        if s.answer in ("busy", "no-answer"):
            self.timeline.at(0.01 + s.ring_s, lambda: self._end(call, s.answer), ringing)
        else:
            self.timeline.at(0.01 + s.ring_s, lambda: self._answer(call), ringing)

    @staticmethod
    def _unfinished(call: FakeCall) -> Callable[[], bool]:
        def unfinished() -> bool:
            with call.lock:
                return call.status not in FINAL
        return unfinished

    def _answer(self, call: FakeCall) -> None:
        with call.lock:
            if call.status in FINAL:
                return
            call.status, call.answered_at = "in-progress", time.monotonic()
            if call.params.get("MachineDetection") and call.params.get("AsyncAmd", "").lower() != "true":
                call.answered_by = call.script.answered_by  # synchronous AMD reports on the answer itself
        self._status(call, "answered", "in-progress")
        amd_url = call.params.get("AsyncAmdStatusCallback")
        if call.params.get("MachineDetection") and amd_url:
            self.timeline.at(call.script.amd_s, lambda: self._amd(call, amd_url), self._unfinished(call))
        url, twiml = call.params.get("Url"), call.params.get("Twiml")
        if url:
            self._fetch_and_run(call, url, {})
        elif twiml:
            self._run_twiml(call, twiml)

    def _amd(self, call: FakeCall, url: str) -> None:
        with call.lock:
            if call.status in FINAL:
                return
            call.answered_by = call.script.answered_by
            if call.answered_by == "machine_start" and call.params.get("MachineDetection") == "DetectMessageEnd":
                call.answered_by = "machine_end_beep"  # the verdict comes at the end of the greeting
            call.verdict_at = time.monotonic()
        self._callback(url, {"CallSid": call.sid, "AccountSid": call.account_sid, "AnsweredBy": call.answered_by,
                             "MachineDetectionDuration": str(int(call.script.amd_s * 1000))})

    def _callback(self, url: str, params: dict) -> None:
        """A status or AMD callback: at once, or late on the timeline (so it may overtake or be overtaken)."""
        if self.callback_delay is None:
            self.hooks.post(url, params)
        else:
            self.timeline.at(self.callback_delay(), lambda: self.hooks.post(url, params))

    def _status(self, call: FakeCall, event: str, status: str) -> None:
        with call.lock:
            if event != "completed" and call.status in FINAL:
                return
            if status in ("initiated", "ringing"):
                call.status = status
            call.sequence += 1
            params = call.base_params() | {
                "CallStatus": status, "SequenceNumber": str(call.sequence - 1),
                "Timestamp": self.stamp(), "CallbackSource": "call-progress-events"}
            if call.answered_by and event in ("answered", "completed"):
                params["AnsweredBy"] = call.answered_by
            if status in FINAL:
                params["CallDuration"] = str(call.duration_s)
                params["Duration"] = str((call.duration_s + 59) // 60)
        url = call.params.get("StatusCallback")
        wanted = call.events or ["completed"]
        if url and (event in wanted or (status in FINAL and "completed" in wanted)):
            self._callback(url, params)

    def _end(self, call: FakeCall, status: str) -> None:
        with call.lock:
            if call.status in FINAL:
                return
            call.status, call.ended_at = status, time.monotonic()
            call.generation += 1
        self.rooms.leave(call, self._dial_over)
        self._status(call, "completed", status)

    def _dial_over(self, call: FakeCall) -> None:
        """The conference this leg was in ended: its ``<Dial>`` is over and its TwiML goes on after it."""
        with call.lock:
            if call.status in FINAL:
                return
            call.generation += 1
            generation, rest = call.generation, call.after_dial
            call.conference = None
        self.timeline.at(0, lambda: self._run_verbs(call, rest, generation))

    # --- API-driven changes --------------------------------------------------------------------------------
    def update(self, call: FakeCall, form: dict) -> None:
        """``POST /Calls/{sid}.json``: hang up, or replace the TwiML the leg is running."""
        status = form.get("Status")
        if status in ("completed", "canceled"):
            with call.lock:
                final = "canceled" if call.status in ("queued", "initiated", "ringing") else "completed"
            self.timeline.at(0, lambda: self._end(call, final))
            return
        if not form.get("Twiml") and not form.get("Url"):
            return  # nothing that changes what the leg runs: its TwiML and timers go on
        with call.lock:
            call.generation += 1

        def move() -> None:  # after the API has answered, as at Twilio: the room's leave event, then the new TwiML
            self.rooms.leave(call, self._dial_over)  # new TwiML takes the leg out of its conference
            with call.lock:
                call.conference = None
            if form.get("Twiml"):
                self._run_twiml(call, form["Twiml"])
            elif form.get("Url"):
                self._fetch_and_run(call, form["Url"], {})

        self.timeline.at(0, move)

    def _conference(self, call: FakeCall, conf: ET.Element, rest: list[ET.Element], generation: int,
                    current: Callable[[], bool]) -> None:
        name = (conf.text or "").strip()
        with call.lock:
            if not current():
                return
            call.conference, call.joined_at, call.after_dial = name, time.monotonic(), rest
            call.rooms_joined.append(name)
        present = self.rooms.join(call, name, end_on_exit=conf.get("endConferenceOnExit") == "true",
                                  callback=conf.get("statusCallback"),
                                  events=conf.get("statusCallbackEvent", ""))
        with call.lock:
            call.joined_with = present
        self.timeline.at(call.script.talk_s, lambda: current() and self._end(call, "completed"), current)

    # --- TwiML ---------------------------------------------------------------------------------------------
    def _fetch_and_run(self, call: FakeCall, url: str, extra: dict) -> None:
        with call.lock:
            if call.status in FINAL:
                return
            params = call.base_params() | extra
        d = self.hooks.post(url, params)
        if d.status != 200:
            log.warning("TwiML fetch %s answered %s; the call ends", url, d.status)
            self._end(call, "completed" if call.answered_at else "failed")
            return
        self._run_twiml(call, d.body)

    def _run_twiml(self, call: FakeCall, twiml: str) -> None:
        with call.lock:
            if call.status in FINAL:
                return
            call.twiml_log.append(twiml)
            generation = call.generation
        try:
            root = ET.fromstring(twiml)
        except ET.ParseError:
            log.warning("unparseable TwiML for %s: %r", call.sid, twiml[:200])
            self._end(call, "completed")
            return
        self._run_verbs(call, list(root), generation)

    def _run_verbs(self, call: FakeCall, verbs: list[ET.Element], generation: int) -> None:
        """Interpret the verbs a dialer uses; time-consuming verbs continue on the timeline."""
        def current() -> bool:
            with call.lock:
                return call.generation == generation and call.status not in FINAL

        for i, verb in enumerate(verbs):
            rest = verbs[i + 1:]
            if verb.tag == "Pause":
                wait = min(float(verb.get("length", "1")), call.script.patience_s)
                self.timeline.at(wait, lambda r=rest: current() and self._run_verbs(call, r, generation), current)
                return
            if verb.tag == "Hangup":
                self._end(call, "completed")
                return
            if verb.tag == "Dial":
                conf = verb.find("Conference")
                if conf is not None:
                    self._conference(call, conf, rest, generation, current)
                    return
                number = verb.find("Number")
                if number is not None and (number.text or "").strip():  # bridged to that number for the talk
                    with call.lock:
                        call.bridged_to.append(number.text.strip())
                    self.timeline.at(call.script.talk_s, lambda r=rest: current() and self._run_verbs(
                        call, r, generation), current)
                    return
                self._end(call, "completed")
                return
            if verb.tag == "Gather":
                action = verb.get("action")
                if call.script.digits and action:
                    digits = call.script.digits[: int(verb.get("numDigits", "1"))]
                    with call.lock:
                        call.digits_sent.append(digits)
                    self.timeline.at(0.01, lambda a=action, d=digits: current() and self._fetch_and_run(
                        call, a, {"Digits": d, "FinishedOnKey": ""}))
                    return
                timeout = min(float(verb.get("timeout", "5")), call.script.patience_s)
                self.timeline.at(timeout, lambda r=rest: current() and self._run_verbs(call, r, generation),
                                 current)
                return
            if verb.tag == "Redirect" and (verb.text or "").strip():
                self._fetch_and_run(call, verb.text.strip(), {})
                return
            # Say, Play and anything else take no simulated time
        # TwiML ran out: Twilio hangs up
        self._end(call, "completed")
