"""The fake Twilio's own contract: script files (per number, default, weighted mix) with errors named, the stats
endpoint the benchmark reads, and its figures of CPS and queueing."""

from __future__ import annotations

import json

import pytest
import requests

from dialer.carriers.twilio.fake import load_scripts
from dialer.carriers.twilio.fake.cps import max_calls_in_window, max_queue_s
from dnc.errors import UserError
from tests.dialer.carriers.twilio.support import ACCOUNT_SID, AUTH_TOKEN, fake_twilio


def test_script_file_with_default_numbers_and_a_weighted_mix(tmp_path):
    path = tmp_path / "s.json"
    path.write_text(json.dumps({"default": {"answer": "busy"}, "+12125550100": {"answer": "machine", "amd_s": 1},
                                "mix": [{"weight": 3, "answer": "human", "talk_s": 2}, {"weight": 1}]}))
    default, scripts, mix = load_scripts(path)
    assert default.answer == "busy" and scripts["+12125550100"].answered_by == "machine_start"
    assert [(s.answer, s.talk_s, w) for s, w in mix] == [("human", 2, 3), ("human", 0.1, 1)]


@pytest.mark.parametrize("body, message", [
    ('{"x": {"answer": "maybe"}}', "x: script answer 'maybe'"),
    ('{"x": {"ring": 1}}', "unknown field(s) ring"),
    ('{"mix": [{"answer": "busy"}]}', 'mix[0] needs a positive number "weight"'),
    ('{"x": ', "line 1, column 7"),
    ('[1]', "expected a JSON object"),
])
def test_script_file_mistakes_are_named(tmp_path, body, message):
    path = tmp_path / "bad.json"
    path.write_text(body)
    with pytest.raises(UserError, match=message.replace("(", r"\(").replace(")", r"\)").replace("[", r"\[")):
        load_scripts(path)


def test_stats_need_the_accounts_credentials_and_count_what_was_created():
    with fake_twilio() as fake:
        url = f"{fake.api_base}/_fake/stats"
        assert requests.get(url, timeout=5).status_code == 401
        stats = requests.get(url, auth=(ACCOUNT_SID, AUTH_TOKEN), timeout=5).json()
        assert stats["calls"] == [] and stats["create_times"] == [] and stats["live"] == 0


def test_cps_figures():
    assert max_calls_in_window([0.0, 0.1, 0.95, 1.0, 1.05], 1.0) == 4  # 0.1 ... 1.05 is under a second
    assert max_queue_s([0.0, 0.0, 0.0], 10) == pytest.approx(0.2)
    assert max_queue_s([0.0, 0.1, 0.2], 10) == pytest.approx(0.0)


def _create(fake, to: str, **form) -> dict:
    r = requests.post(f"{fake.api_base}/2010-04-01/Accounts/{ACCOUNT_SID}/Calls.json", auth=(ACCOUNT_SID, AUTH_TOKEN),
                      data={"To": to, "From": "+12125550100", **form}, timeout=10)
    return {**r.json(), "http": r.status_code}


def _raw(fake, request: bytes, *, read: bool = True) -> bytes:
    import socket
    from urllib.parse import urlparse

    u = urlparse(fake.api_base)
    with socket.create_connection((u.hostname, u.port), timeout=5) as s:
        s.sendall(request)
        return s.recv(65536) if read else b""


def _auth() -> str:
    import base64

    return "Basic " + base64.b64encode(f"{ACCOUNT_SID}:{AUTH_TOKEN}".encode()).decode()


def test_an_update_whose_body_never_arrived_is_not_applied_and_the_call_goes_on():
    """Issue 15 finding 12: a worker killed mid-request left a half body; the fake applied it, cancelled the call's
    only timer and kept the customer in progress forever."""
    from dialer.carriers.twilio.fake import CallScript
    from tests.dialer.carriers.twilio.support import wait_for

    with fake_twilio(default_script=CallScript(answer="human", ring_s=0.0, patience_s=1)) as fake:
        sid = _create(fake, "+12125550161", Twiml='<Response><Pause length="1"/></Response>')["sid"]
        call = fake.calls[sid]
        wait_for(lambda: call.status == "in-progress", what="answered")
        generation = call.generation
        body = b"Twiml=%3CResponse%3E%3CDial%3E%3CConference%3Eagent-1"
        _raw(fake, (f"POST /2010-04-01/Accounts/{ACCOUNT_SID}/Calls/{sid}.json HTTP/1.1\r\nHost: x\r\n"
                    f"Authorization: {_auth()}\r\nContent-Type: application/x-www-form-urlencoded\r\n"
                    f"Content-Length: {len(body) + 40}\r\n\r\n").encode() + body, read=False)  # then the sender dies
        wait_for(lambda: fake.refused["partial"] == 1, what="the cut-short request seen")
        assert call.generation == generation and call.conference is None  # nothing of it was applied
        wait_for(lambda: call.status == "completed", timeout=5, what="the call ends when its own TwiML runs out")


def test_an_update_that_changes_nothing_the_leg_runs_keeps_its_timers():
    from dialer.carriers.twilio.fake import CallScript
    from tests.dialer.carriers.twilio.support import wait_for

    with fake_twilio(default_script=CallScript(answer="human", ring_s=0.0, patience_s=1)) as fake:
        sid = _create(fake, "+12125550162", Twiml='<Response><Pause length="1"/></Response>')["sid"]
        wait_for(lambda: fake.calls[sid].status == "in-progress", what="answered")
        r = requests.post(f"{fake.api_base}/2010-04-01/Accounts/{ACCOUNT_SID}/Calls/{sid}.json",
                          auth=(ACCOUNT_SID, AUTH_TOKEN), data={"StatusCallbackMethod": "GET"}, timeout=5)
        assert r.status_code == 200
        wait_for(lambda: fake.calls[sid].status == "completed", timeout=5, what="the call ends on its own timer")


def test_an_answer_leaves_in_one_write():
    """Headers and body in one segment: a second small write would wait for the peer's delayed ACK (~40 ms)."""
    with fake_twilio() as fake:
        got = _raw(fake, f"GET /_fake/stats HTTP/1.1\r\nHost: x\r\nAuthorization: {_auth()}\r\n\r\n".encode())
        head, _, body = got.partition(b"\r\n\r\n")
        length = int(next(h.split(b":")[1] for h in head.split(b"\r\n") if h.lower().startswith(b"content-length")))
        assert len(body) == length and json.loads(body)["live"] == 0


def test_conditions_latency_and_refusals():
    import time

    from dialer.carriers.twilio.fake.server import Conditions

    with fake_twilio(conditions=Conditions(create_latency_ms=300, jitter_ms=0)) as fake:
        started = time.monotonic()
        assert _create(fake, "+12125550163", Twiml="<Response/>")["http"] == 201
        assert time.monotonic() - started >= 0.3
        assert fake.create_times[0] < started + 0.2  # counted when it arrived, not when it was answered
    with fake_twilio(conditions=Conditions(error_429=1.0)) as fake:
        out = _create(fake, "+12125550164", Twiml="<Response/>")
        assert out["http"] == 429 and out["code"] == 20429 and not fake.calls and fake.refused["429"] == 1
    with fake_twilio(conditions=Conditions(error_5xx=1.0)) as fake:
        assert _create(fake, "+12125550165", Twiml="<Response/>")["http"] == 503 and not fake.calls


def test_an_update_takes_its_latency_too():
    """Twilio takes 150-300 ms to answer an update as well; a worker that sends connects one at a time meets it."""
    import time

    from dialer.carriers.twilio.fake.server import Conditions

    with fake_twilio(conditions=Conditions(update_latency_ms=250, jitter_ms=0)) as fake:
        sid = _create(fake, "+12125550166", Twiml="<Response/>")["sid"]
        started = time.monotonic()
        r = requests.post(f"{fake.api_base}/2010-04-01/Accounts/{ACCOUNT_SID}/Calls/{sid}.json",
                          auth=(ACCOUNT_SID, AUTH_TOKEN), data={"Status": "completed"}, timeout=10)
        assert r.status_code == 200 and time.monotonic() - started >= 0.25
        assert r.json()["status"] in ("completed", "canceled")


def test_a_call_hung_up_early_leaves_no_work_pending():
    """A talk timer of minutes outlives a call hung up after a second: counted as pending, it kept the Twilio
    bench waiting its whole 120 s settle for a network idle since."""
    from dialer.carriers.twilio.fake import CallScript
    from tests.dialer.carriers.twilio.support import wait_for

    with fake_twilio(default_script=CallScript(answer="human", ring_s=0.0, talk_s=600, patience_s=600)) as fake:
        sid = _create(fake, "+12125550166", Twiml='<Response><Pause length="600"/></Response>')["sid"]
        wait_for(lambda: fake.calls[sid].status == "in-progress", what="answered")
        assert fake.timeline.pending() >= 1  # the pause runs: its timer is work in flight
        requests.post(f"{fake.api_base}/2010-04-01/Accounts/{ACCOUNT_SID}/Calls/{sid}.json",
                      auth=(ACCOUNT_SID, AUTH_TOKEN), data={"Status": "completed"}, timeout=5)
        assert fake.wait_idle(5), "the hung-up call's pause timer still counts as pending"
