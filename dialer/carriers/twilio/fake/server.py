"""The fake's HTTP face: the slice of Twilio's 2010-04-01 REST API a dialer uses, over a real local socket.

Routes (form-encoded in, JSON out, HTTP basic auth like Twilio):
``POST /2010-04-01/Accounts/{AC}/Calls.json`` (201, status queued), ``GET|POST .../Calls/{CA}.json`` (fetch, update),
``POST .../Conferences/{name}/Participants.json`` (201: a new leg that joins the room once answered),
``GET|POST .../Conferences/{CF}/Participants/{CA}.json`` (fetch; ``Hold``), ``GET .../Conferences.json`` (the live
rooms, by ``FriendlyName``). ``throttle(n)`` makes the next n requests answer 429 with
error 20429, as Twilio does under too many concurrent requests.

Real conditions, all off unless asked for (``Conditions``): a create takes ``create_latency_ms`` ± ``jitter_ms``
(the call is counted when the request arrives, as Twilio counts CPS, and answered after the delay), an update of a
call ``update_latency_ms`` ± ``jitter_ms`` (applied after the delay, as Twilio does); a share of
API requests answer 429 / 20429 or 503 (never processed: nothing is created or changed); status and AMD callbacks
leave up to ``callback_delay_ms`` late, each on its own, so they arrive out of order.

A request whose body does not arrive in full (its sender died mid-request) is never applied: the connection is
dropped without an answer, as a real server does when the peer is gone. ``lose_creates(numbers)`` does the same to
whole creates that arrived (a request lost inside Twilio): no call exists, and the sender never hears either way;
``drop_create_answers(numbers)`` makes the call and drops only the answer (the sender's read times out).
"""

from __future__ import annotations

import base64
import contextlib
import random
import re
import secrets
import socket
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC
from email.utils import formatdate
from http.server import ThreadingHTTPServer

from dialer.carriers.twilio.fake.calls import FINAL, CallRunner, FakeCall, Timeline, Webhooks
from dialer.carriers.twilio.fake.cps import max_calls_in_window, max_queue_s
from dialer.carriers.twilio.fake.http import SO_TIMESTAMPNS, DropConnection, handler_for
from dialer.carriers.twilio.fake.scripts import CallScript
from dialer.clock import Clock, SystemClock


@dataclass(frozen=True)
class Conditions:
    """How far the fake departs from an instant, faultless Twilio."""

    create_latency_ms: float = 0.0  # mean time a create takes to answer
    jitter_ms: float = 0.0  # the create time is uniform within the mean ± this
    error_429: float = 0.0  # share of API requests answered 429 / 20429
    error_5xx: float = 0.0  # share of API requests answered 503 / 20500
    callback_delay_ms: float = 0.0  # each status or AMD callback leaves up to this late (uniform)
    update_latency_ms: float = 0.0  # mean time an update of a call (redirect, TwiML, hang-up) takes, ± the jitter

    def create_delay_s(self, rng: random.Random) -> float:
        return self._delay_s(self.create_latency_ms, rng)

    def update_delay_s(self, rng: random.Random) -> float:
        return self._delay_s(self.update_latency_ms, rng) if self.update_latency_ms else 0.0

    def _delay_s(self, mean_ms: float, rng: random.Random) -> float:
        if not mean_ms and not self.jitter_ms:
            return 0.0
        ms = mean_ms + rng.uniform(-self.jitter_ms, self.jitter_ms)
        return max(0.0, ms) / 1000.0


ACCOUNT_PATH = re.compile(r"^/2010-04-01/Accounts/(?P<account>AC[0-9a-f]{32})(?P<rest>/.*)$")


class FakeTwilio:
    """Start with ``start()`` (or as a context manager); ``api_base`` is what DIALER_TWILIO_API_BASE points at."""

    def __init__(self, account_sid: str, auth_token: str, *, credentials: Iterable[tuple[str, str]] = (),
                 default_script: CallScript | None = None, scripts: dict[str, CallScript] | None = None,
                 mix: list[tuple[CallScript, float]] | None = None, seed: int = 1, host: str = "127.0.0.1",
                 port: int = 0, workers: int = 16, clock: Clock | None = None,
                 conditions: Conditions | None = None) -> None:
        self.account_sid = account_sid
        self.credentials = {(account_sid, auth_token), *credentials}
        self.default_script = default_script or CallScript()
        self.scripts = dict(scripts or {})
        self.mix = list(mix or [])  # numbers without a script draw one from this weighted mix (seeded per number)
        self.seed = seed
        self.calls: dict[str, FakeCall] = {}
        self.participants: dict[str, list[dict]] = {}
        self.create_times: list[float] = []  # monotonic time each accepted POST /Calls.json arrived
        self.requests = 0
        self.refused = {"429": 0, "5xx": 0, "partial": 0}  # requests answered with an error, bodies cut short
        self.conditions = conditions or Conditions()
        self._rng = random.Random(seed)
        self._throttle = 0
        self.held: set[str] = set()  # numbers whose creates wait (after arriving) until ``release_creates``
        self.lost: set[str] = set()  # numbers whose creates arrive, are never applied and never answered
        self.unanswered: set[str] = set()  # numbers whose calls are made but whose creates are never answered
        self.creates_lost = 0
        self.log_lag_s = 0.0  # how long a new call stays out of the call log (``lag_call_log``)
        self.holding = 0  # creates waiting there now
        self._release = threading.Event()
        self._lock = threading.Lock()
        self.hooks = Webhooks(auth_token)
        self.timeline = Timeline(workers)
        self.clock = clock or SystemClock()  # what Twilio's clock says: callback stamps, the call log's times
        self.runner = CallRunner(self.timeline, self.hooks, self.clock,
                                 callback_delay=self._callback_delay if self.conditions.callback_delay_ms else None)
        self.httpd = ThreadingHTTPServer((host, port), handler_for(self))
        self.httpd.daemon_threads = True
        with contextlib.suppress(OSError):  # accepted connections inherit it: a request that lands before its
            self.httpd.socket.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)  # handler runs is stamped too
        self._thread: threading.Thread | None = None

    @property
    def api_base(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> FakeTwilio:
        self._thread = threading.Thread(target=self.httpd.serve_forever, args=(0.05,), name="fake-twilio-http",
                                        daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.timeline.stop()

    def __enter__(self) -> FakeTwilio:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def _callback_delay(self) -> float:
        with self._lock:
            return self._rng.uniform(0, self.conditions.callback_delay_ms / 1000.0)

    @property
    def rooms(self):
        """The live conferences (``dialer.carriers.twilio.fake.rooms.Rooms``)."""
        return self.runner.rooms

    # --- controls for tests and the bench -----------------------------------------------------------------
    def script(self, number: str, script: CallScript) -> None:
        with self._lock:
            self.scripts[number] = script

    def throttle(self, n: int) -> None:
        """Answer the next ``n`` API requests with 429 / 20429."""
        with self._lock:
            self._throttle = n

    def hold_creates(self, numbers: Iterable[str]) -> None:
        """Creates to ``numbers`` arrive and are counted, then wait for ``release_creates`` before answering (a
        Twilio that is slow for as long as a test needs)."""
        with self._lock:
            self.held = set(numbers)
            self._release.clear()

    def lose_creates(self, numbers: Iterable[str]) -> None:
        """Creates to ``numbers`` arrive and are dropped without an answer: no call is made, and the dialer cannot
        tell from the request alone whether one was."""
        with self._lock:
            self.lost = set(numbers)

    def drop_create_answers(self, numbers: Iterable[str]) -> None:
        """Creates to ``numbers`` make their calls (which ring, answer and send their callbacks), but the answer to
        the create is dropped: the sender cannot tell from the request whether a call was made."""
        with self._lock:
            self.unanswered = set(numbers)

    def lag_call_log(self, seconds: float) -> None:
        """A call shows in the call log (``GET /Calls.json``) only this long after its create arrived: Twilio's
        list is not read from the same place the create is written to, and may lag it."""
        with self._lock:
            self.log_lag_s = seconds

    def release_creates(self) -> None:
        self._release.set()

    def live_calls(self) -> list[FakeCall]:
        return [c for c in list(self.calls.values()) if c.status not in FINAL]

    def wait_idle(self, timeout_s: float) -> bool:
        """Wait until every call has ended and its final webhook went out."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if not self.live_calls() and self.timeline.pending() == 0:
                return True
            time.sleep(0.02)
        return False

    def max_queue_s(self, cps: float) -> float:
        return max_queue_s(self.create_times, cps)

    def max_calls_in_window(self, window_s: float = 1.0) -> int:
        return max_calls_in_window(self.create_times, window_s)

    def stats(self) -> dict:
        """What the network saw, for a benchmark running the fake in another process (``GET /_fake/stats``):
        every call's life in this process's monotonic seconds, every create, every webhook and its answer."""
        calls = [{"sid": c.sid, "to": c.to, "status": c.status, "created": c.created, "answered_at": c.answered_at,
                  "joined_at": c.joined_at, "joined_with": list(c.joined_with), "rooms_joined": list(c.rooms_joined),
                  "ended_at": c.ended_at}
                 for c in list(self.calls.values())]
        hooks = [{"url": d.url, "status": d.status} for d in list(self.hooks.deliveries)]
        return {"calls": calls, "create_times": list(self.create_times), "deliveries": hooks,
                "requests": self.requests, "refused": dict(self.refused), "live": len(self.live_calls()),
                "pending": self.timeline.pending()}

    # --- request handling ---------------------------------------------------------------------------------
    def handle(self, method: str, path: str, auth: str | None, form: dict[str, list[str]],
               arrived: float | None = None) -> tuple[int, dict]:
        """One API request; ``arrived``: when it reached the server (monotonic), what Twilio's CPS counts."""
        arrived = time.monotonic() if arrived is None else arrived
        if path == "/_fake/stats" and method == "GET":
            return (200, self.stats()) if self._authorized(auth) else (401, _error(20003, "Authenticate", 401))
        with self._lock:
            self.requests += 1
            if self._throttle > 0:
                self._throttle -= 1
                return 429, _error(20429, "Too Many Requests", 429)
            draw, c = self._rng.random(), self.conditions
            if draw < c.error_429:
                self.refused["429"] += 1
                return 429, _error(20429, "Too Many Requests", 429)
            if draw < c.error_429 + c.error_5xx:
                self.refused["5xx"] += 1
                return 503, _error(20500, "Service Unavailable", 503)
        if not self._authorized(auth):
            return 401, _error(20003, "Authenticate", 401)
        m = ACCOUNT_PATH.match(path)
        if not m:
            return 404, _error(20404, f"The requested resource {path} was not found", 404)
        if m["account"] != self.account_sid:
            return 403, _error(20003, "Account SID does not match the credentials", 403)
        rest, one = m["rest"], {k: v[-1] for k, v in form.items()}
        if rest == "/Calls.json" and method == "POST":
            return self._create_call(m["account"], form, one, arrived)
        if rest == "/Calls.json" and method == "GET":
            return 200, self._list_calls(one)
        if cm := re.fullmatch(r"/Calls/(CA[0-9a-f]{32})\.json", rest):
            call = self.calls.get(cm[1])
            if call is None:
                return 404, _error(20404, f"The requested resource {path} was not found", 404)
            if method == "GET":
                return 200, call.resource(self.runner.stamp())
            if call.status in FINAL or (call.status != "in-progress" and ("Url" in one or "Twiml" in one)):
                return 400, _error(21220, "Call is not in-progress. Cannot redirect.", 400)
            with self._lock:
                delay = self.conditions.update_delay_s(self._rng)
            if delay:  # applied when the answer leaves, as Twilio's takes 150-300 ms (this thread only waits)
                time.sleep(max(0.0, arrived + delay - time.monotonic()))
            self.runner.update(call, one)
            return 200, call.resource(self.runner.stamp())
        if pm := re.fullmatch(r"/Conferences/([^/]+)/Participants\.json", rest):
            if method != "POST":
                return 405, _error(20004, "Method not allowed", 405)
            return self._add_participant(m["account"], pm[1], one)
        if pm := re.fullmatch(r"/Conferences/(CF[0-9a-f]{32})/Participants/(CA[0-9a-f]{32})\.json", rest):
            return self._participant(m["account"], pm[1], pm[2], method, one)
        if rest == "/Conferences.json" and method == "GET":
            return 200, self._list_conferences(one)
        return 404, _error(20404, f"The requested resource {path} was not found", 404)

    def _authorized(self, header: str | None) -> bool:
        if not header or not header.startswith("Basic "):
            return False
        try:
            user, _, pw = base64.b64decode(header[6:]).decode().partition(":")
        except ValueError:
            return False
        return (user, pw) in self.credentials

    def _create_call(self, account: str, form: dict[str, list[str]], one: dict,
                     arrived: float) -> tuple[int, dict]:
        missing = [k for k in ("To", "From") if not one.get(k)]
        if missing:
            return 400, _error(21201, f"Missing required parameter {missing[0]}", 400)
        if not (one.get("Url") or one.get("Twiml") or one.get("ApplicationSid")):
            return 400, _error(21205, "Url, Twiml or ApplicationSid is required", 400)
        with self._lock:
            if one["To"] in self.lost:
                self.creates_lost += 1
                raise DropConnection(f"create to {one['To']} lost")
            script = self.scripts.get(one["To"]) or self._draw(one["To"])
            call = FakeCall(sid="CA" + secrets.token_hex(16), account_sid=account, to=one["To"], from_=one["From"],
                            params=one, events=form.get("StatusCallbackEvent", []), script=script,
                            created=arrived,
                            **self._created())
            self.calls[call.sid] = call
            self.create_times.append(arrived)
            delay = self.conditions.create_delay_s(self._rng)
        if delay:  # this connection's thread answers late; other requests go on meanwhile
            time.sleep(max(0.0, arrived + delay - time.monotonic()))
        if call.to in self.held:
            with self._lock:
                self.holding += 1
            self._release.wait(60)
            with self._lock:
                self.holding -= 1
        self.runner.start(call)
        if call.to in self.unanswered:
            raise DropConnection(f"answer to the create to {call.to} lost")
        return 201, call.resource(self.runner.stamp())

    def _created(self) -> dict[str, str]:
        now = self.clock.now()
        return {"created_utc": now.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
                "created_rfc": formatdate(now.timestamp(), usegmt=True)}

    def _draw(self, number: str) -> CallScript:
        """The same number always behaves the same for a seed, so a bench run can be repeated."""
        if not self.mix:
            return self.default_script
        rng = random.Random(f"{self.seed}:{number}")
        return rng.choices([s for s, _ in self.mix], [w for _, w in self.mix])[0]

    def _list_calls(self, one: dict) -> dict:
        """``GET /Calls.json?To=&StartTime>=``: one page, newest first, like Twilio's call log."""
        after, logged_by = one.get("StartTime>"), time.monotonic() - self.log_lag_s
        found = [c for c in list(self.calls.values()) if c.created <= logged_by
                 and (not one.get("To") or c.to == one["To"]) and (not after or c.created_utc >= after)]
        found.sort(key=lambda c: c.created, reverse=True)
        stamp = self.runner.stamp()
        return {"calls": [c.resource(stamp) for c in found], "page": 0, "page_size": len(found), "start": 0,
                "end": max(0, len(found) - 1), "next_page_uri": None, "previous_page_uri": None,
                "uri": f"/2010-04-01/Accounts/{self.account_sid}/Calls.json"}

    def _add_participant(self, account: str, conference: str, one: dict) -> tuple[int, dict]:
        """A new call into a conference (by its name or SID): dialed like ``POST /Calls.json``, and once answered
        the leg joins the room."""
        if not one.get("From") or not one.get("To"):
            return 400, _error(21201, "Missing required parameter From or To", 400)
        room = self.rooms.by_sid_or_name(conference)
        name = room.name if room is not None else conference
        end = "true" if one.get("EndConferenceOnExit") == "true" else "false"
        twiml = (f'<Response><Dial><Conference endConferenceOnExit="{end}" startConferenceOnEnter="true" '
                 f'beep="false">{name}</Conference></Dial></Response>')
        params = {"To": one["To"], "From": one["From"], "Twiml": twiml,
                  "StatusCallback": one.get("StatusCallback", "")}
        with self._lock:
            script = self.scripts.get(one["To"]) or self._draw(one["To"])
            call = FakeCall(sid="CA" + secrets.token_hex(16), account_sid=account, to=one["To"], from_=one["From"],
                            params=params, events=[], script=script, created=time.monotonic(),
                            **self._created())
            self.calls[call.sid] = call
            participant = {"account_sid": account, "call_sid": call.sid,
                           "conference_sid": room.sid if room is not None else "CF" + secrets.token_hex(16),
                           "label": one.get("Label"), "status": "queued", "muted": False, "hold": False,
                           "coaching": False, "end_conference_on_exit": end == "true",
                           "start_conference_on_enter": one.get("StartConferenceOnEnter", "true") == "true"}
            self.participants.setdefault(name, []).append(participant | {"to": one["To"]})
        self.runner.start(call)
        return 201, participant

    def _participant(self, account: str, conference_sid: str, call_sid: str, method: str,
                     one: dict) -> tuple[int, dict]:
        """Fetch a participant, or update it (``Hold``): Twilio addresses it by the conference's SID only."""
        room = self.rooms.by_sid_or_name(conference_sid)
        hold = None if "Hold" not in one or method != "POST" else one["Hold"] == "true"
        member = self.rooms.update_member(conference_sid, call_sid, hold=hold) if room is not None else None
        if member is None or room.sid != conference_sid:
            return 404, _error(20404, f"Participant {call_sid} is not in conference {conference_sid}", 404)
        return 200, {"account_sid": account, "call_sid": call_sid, "conference_sid": conference_sid,
                     "status": "connected", "hold": member.held, "muted": False, "coaching": False,
                     "end_conference_on_exit": member.end_on_exit, "start_conference_on_enter": True}

    def _list_conferences(self, one: dict) -> dict:
        """``GET /Conferences.json?FriendlyName=&Status=in-progress``: the live rooms (ended ones are forgotten)."""
        rooms = [] if one.get("Status", "in-progress") != "in-progress" else self.rooms.in_progress(
            one.get("FriendlyName"))
        confs = [{"sid": r.sid, "account_sid": self.account_sid, "friendly_name": r.name, "status": "in-progress",
                  "uri": f"/2010-04-01/Accounts/{self.account_sid}/Conferences/{r.sid}.json"} for r in rooms]
        return {"conferences": confs, "page": 0, "page_size": len(confs), "start": 0,
                "end": max(0, len(confs) - 1), "next_page_uri": None, "previous_page_uri": None,
                "uri": f"/2010-04-01/Accounts/{self.account_sid}/Conferences.json"}


def _error(code: int, message: str, status: int) -> dict:
    return {"code": code, "message": message, "more_info": f"https://www.twilio.com/docs/errors/{code}",
            "status": status}
