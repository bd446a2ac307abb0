"""The fake's HTTP face: the slice of Twilio's 2010-04-01 REST API a dialer uses, over a real local socket.

Routes (form-encoded in, JSON out, HTTP basic auth like Twilio):
``POST /2010-04-01/Accounts/{AC}/Calls.json`` (201, status queued), ``GET|POST .../Calls/{CA}.json`` (fetch, update),
``POST .../Conferences/{name}/Participants.json`` (201). ``throttle(n)`` makes the next n requests answer 429 with
error 20429, as Twilio does under too many concurrent requests.
"""

from __future__ import annotations

import base64
import json
import random
import re
import secrets
import threading
import time
from collections.abc import Iterable
from datetime import UTC
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

from dialer.carriers.twilio.fake.calls import FINAL, CallRunner, FakeCall, Timeline, Webhooks
from dialer.carriers.twilio.fake.scripts import CallScript
from dialer.clock import Clock, SystemClock

ACCOUNT_PATH = re.compile(r"^/2010-04-01/Accounts/(?P<account>AC[0-9a-f]{32})(?P<rest>/.*)$")


class FakeTwilio:
    """Start with ``start()`` (or as a context manager); ``api_base`` is what DIALER_TWILIO_API_BASE points at."""

    def __init__(self, account_sid: str, auth_token: str, *, credentials: Iterable[tuple[str, str]] = (),
                 default_script: CallScript | None = None, scripts: dict[str, CallScript] | None = None,
                 mix: list[tuple[CallScript, float]] | None = None, seed: int = 1, host: str = "127.0.0.1",
                 port: int = 0, workers: int = 16, clock: Clock | None = None) -> None:
        self.account_sid = account_sid
        self.credentials = {(account_sid, auth_token), *credentials}
        self.default_script = default_script or CallScript()
        self.scripts = dict(scripts or {})
        self.mix = list(mix or [])  # numbers without a script draw one from this weighted mix (seeded per number)
        self.seed = seed
        self.calls: dict[str, FakeCall] = {}
        self.participants: dict[str, list[dict]] = {}
        self.create_times: list[float] = []  # monotonic time of every accepted POST /Calls.json
        self.requests = 0
        self._throttle = 0
        self._lock = threading.Lock()
        self.hooks = Webhooks(auth_token)
        self.timeline = Timeline(workers)
        self.clock = clock or SystemClock()  # what Twilio's clock says: callback stamps, the call log's times
        self.runner = CallRunner(self.timeline, self.hooks, self.clock)
        self.httpd = ThreadingHTTPServer((host, port), _handler(self))
        self.httpd.daemon_threads = True
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
                  "joined_at": c.joined_at, "joined_with": list(c.joined_with), "ended_at": c.ended_at}
                 for c in list(self.calls.values())]
        hooks = [{"url": d.url, "status": d.status} for d in list(self.hooks.deliveries)]
        return {"calls": calls, "create_times": list(self.create_times), "deliveries": hooks,
                "requests": self.requests, "live": len(self.live_calls())}

    # --- request handling ---------------------------------------------------------------------------------
    def handle(self, method: str, path: str, auth: str | None, form: dict[str, list[str]]) -> tuple[int, dict]:
        with self._lock:
            self.requests += 1
            if self._throttle > 0:
                self._throttle -= 1
                return 429, _error(20429, "Too Many Requests", 429)
        if not self._authorized(auth):
            return 401, _error(20003, "Authenticate", 401)
        if path == "/_fake/stats" and method == "GET":
            return 200, self.stats()
        m = ACCOUNT_PATH.match(path)
        if not m:
            return 404, _error(20404, f"The requested resource {path} was not found", 404)
        if m["account"] != self.account_sid:
            return 403, _error(20003, "Account SID does not match the credentials", 403)
        rest, one = m["rest"], {k: v[-1] for k, v in form.items()}
        if rest == "/Calls.json" and method == "POST":
            return self._create_call(m["account"], form, one)
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
            self.runner.update(call, one)
            return 200, call.resource(self.runner.stamp())
        if pm := re.fullmatch(r"/Conferences/([^/]+)/Participants\.json", rest):
            if method != "POST":
                return 405, _error(20004, "Method not allowed", 405)
            return self._add_participant(m["account"], pm[1], one)
        return 404, _error(20404, f"The requested resource {path} was not found", 404)

    def _authorized(self, header: str | None) -> bool:
        if not header or not header.startswith("Basic "):
            return False
        try:
            user, _, pw = base64.b64decode(header[6:]).decode().partition(":")
        except ValueError:
            return False
        return (user, pw) in self.credentials

    def _create_call(self, account: str, form: dict[str, list[str]], one: dict) -> tuple[int, dict]:
        missing = [k for k in ("To", "From") if not one.get(k)]
        if missing:
            return 400, _error(21201, f"Missing required parameter {missing[0]}", 400)
        if not (one.get("Url") or one.get("Twiml") or one.get("ApplicationSid")):
            return 400, _error(21205, "Url, Twiml or ApplicationSid is required", 400)
        with self._lock:
            script = self.scripts.get(one["To"]) or self._draw(one["To"])
            call = FakeCall(sid="CA" + secrets.token_hex(16), account_sid=account, to=one["To"], from_=one["From"],
                            params=one, events=form.get("StatusCallbackEvent", []), script=script,
                            created=time.monotonic(),
                            created_utc=self.clock.now().astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"))
            self.calls[call.sid] = call
            self.create_times.append(call.created)
        self.runner.start(call)
        return 201, call.resource(self.runner.stamp())

    def _draw(self, number: str) -> CallScript:
        """The same number always behaves the same for a seed, so a bench run can be repeated."""
        if not self.mix:
            return self.default_script
        rng = random.Random(f"{self.seed}:{number}")
        return rng.choices([s for s, _ in self.mix], [w for _, w in self.mix])[0]

    def _list_calls(self, one: dict) -> dict:
        """``GET /Calls.json?To=&StartTime>=``: one page, newest first, like Twilio's call log."""
        after = one.get("StartTime>")
        found = [c for c in list(self.calls.values())
                 if (not one.get("To") or c.to == one["To"]) and (not after or c.created_utc >= after)]
        found.sort(key=lambda c: c.created, reverse=True)
        stamp = self.runner.stamp()
        return {"calls": [c.resource(stamp) for c in found], "page": 0, "page_size": len(found), "start": 0,
                "end": max(0, len(found) - 1), "next_page_uri": None, "previous_page_uri": None,
                "uri": f"/2010-04-01/Accounts/{self.account_sid}/Calls.json"}

    def _add_participant(self, account: str, conference: str, one: dict) -> tuple[int, dict]:
        if not one.get("From") or not one.get("To"):
            return 400, _error(21201, "Missing required parameter From or To", 400)
        sid = "CA" + secrets.token_hex(16)
        participant = {"account_sid": account, "call_sid": sid, "conference_sid": "CF" + secrets.token_hex(16),
                       "label": one.get("Label"), "status": "queued", "muted": False, "hold": False,
                       "coaching": False, "end_conference_on_exit": one.get("EndConferenceOnExit") == "true",
                       "start_conference_on_enter": one.get("StartConferenceOnEnter", "true") == "true"}
        with self._lock:
            self.participants.setdefault(conference, []).append(participant | {"to": one["To"]})
        return 201, participant


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


def _error(code: int, message: str, status: int) -> dict:
    return {"code": code, "message": message, "more_info": f"https://www.twilio.com/docs/errors/{code}",
            "status": status}


def _handler(fake: FakeTwilio) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _serve(self, method: str) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length).decode() if length else ""
            path, _, query = self.path.partition("?")
            form = parse_qs(body if method == "POST" else query, keep_blank_values=True)
            status, payload = fake.handle(method, path, self.headers.get("Authorization"), form)
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:  # noqa: N802
            self._serve("GET")

        def do_POST(self) -> None:  # noqa: N802
            self._serve("POST")

        def log_message(self, format: str, *args) -> None:  # quiet: tests and the bench post thousands
            return

    return Handler
