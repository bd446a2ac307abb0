"""The adapter through the real twilio library against the fake server over real HTTP."""

import random

import pytest

from dialer.carriers.telephony import DialRequest, PlaceFailed
from dialer.carriers.twilio.adapter import Backoff, TwilioCallError, TwilioTelephony, build_client
from dialer.carriers.twilio.config import load
from dialer.carriers.twilio.fake import CallScript, FakeTwilio
from tests.dialer.carriers.twilio.support import ACCOUNT_SID, API_KEY, API_SECRET, AUTH_TOKEN, env

PUBLIC = "https://127.0.0.1:9"  # nothing listens: the fake's webhooks fail fast


@pytest.fixture
def fake():
    with FakeTwilio(ACCOUNT_SID, AUTH_TOKEN, credentials=[(API_KEY, API_SECRET)],
                    default_script=CallScript(ring_s=5, patience_s=5)) as f:
        yield f


@pytest.fixture
def sleeps():
    return []


@pytest.fixture
def tel(fake, sleeps):
    cfg = load(env(PUBLIC, fake.api_base))
    return TwilioTelephony(cfg, backoff=Backoff(attempts=4, base_s=0.01), sleep=sleeps.append, rng=random.Random(1))


def req(to="+12125550111", amd=True, ring=25, voicemail=False):
    return DialRequest(call_id=7, to=to, caller_id="+12125550100", campaign_id=1, ring_timeout_s=ring,
                       machine_detection=amd, voicemail=voicemail)


def test_place_sends_every_status_callback_async_amd_and_ring_timeout(fake, tel):
    sid = tel.place(req(ring=10))
    call = fake.calls[sid]
    assert call.events == ["initiated", "ringing", "answered", "completed"]
    p = call.params
    assert p["To"] == "+12125550111" and p["From"] == "+12125550100"
    assert p["Timeout"] == "20"  # raised to the safe-harbor minimum
    assert p["MachineDetection"] == "Enable" and p["AsyncAmd"] == "true"
    assert p["AsyncAmdStatusCallback"] == f"{PUBLIC}/twilio/amd"
    assert p["StatusCallback"] == f"{PUBLIC}/twilio/status" and p["Url"] == f"{PUBLIC}/twilio/answer"
    assert "MachineDetection" not in fake.calls[tel.place(req(to="+12125550112", amd=False))].params
    # a campaign that leaves voicemail waits for the end of the greeting, so the message lands after the beep
    vm = fake.calls[tel.place(req(to="+12125550113", voicemail=True))].params
    assert vm["MachineDetection"] == "DetectMessageEnd" and vm["AsyncAmd"] == "true"


def test_voicemail_says_the_message_then_hangs_up_and_an_oversized_one_just_hangs_up(fake, tel):
    fake.default_script = CallScript(answer="machine", ring_s=0.0, amd_s=5, patience_s=5)
    sid = tel.place(req(to="+12125550124"))
    _wait(lambda: fake.calls[sid].status == "in-progress")
    tel.leave_voicemail(sid, "Hi, this is Acme Sales: call us back at 800 555 0100.")
    _wait(lambda: fake.calls[sid].status == "completed")
    assert "<Say>Hi, this is Acme Sales" in fake.calls[sid].twiml_log[-1]
    long_sid = tel.place(req(to="+12125550125"))
    _wait(lambda: fake.calls[long_sid].status == "in-progress")
    tel.leave_voicemail(long_sid, "x" * 5000)
    _wait(lambda: fake.calls[long_sid].status == "completed")
    assert not any("xxxx" in t for t in fake.calls[long_sid].twiml_log)


def test_an_agent_phone_is_rung_into_the_agents_join_url(fake, tel):
    sid = tel.call_agent(42, "+12125550177", None)
    p = fake.calls[sid].params
    assert p["To"] == "+12125550177" and p["From"] == "+12125550100"  # TWILIO_CALLER_ID when none is given
    assert p["Url"] == f"{PUBLIC}/twilio/agent/join?agent=42"
    assert p["StatusCallback"] == f"{PUBLIC}/twilio/agent/status?agent=42" and "MachineDetection" not in p


def test_throttled_requests_are_retried_with_growing_jittered_backoff(fake, tel, sleeps):
    fake.throttle(3)
    sid = tel.place(req())
    assert sid in fake.calls and tel.retries == 3 and len(sleeps) == 3
    assert all(0 <= s <= 0.01 * 2 ** i for i, s in enumerate(sleeps))
    assert len(fake.calls) == 1  # a 429 is never processed: no duplicate call


def test_throttle_beyond_the_retry_budget_is_a_retryable_place_failure(fake, tel):
    fake.throttle(10)
    with pytest.raises(PlaceFailed) as e:
        tel.place(req())
    assert e.value.retryable and "20429" in str(e.value)
    assert not fake.calls


def test_service_exception_5xx_is_retried(fake, tel, monkeypatch):
    from twilio.base.exceptions import TwilioServiceException

    real = tel.client.calls.create
    failures = iter([TwilioServiceException("about:blank", "Unavailable", 503, 20500)])

    def flaky(**kw):
        for exc in failures:
            raise exc
        return real(**kw)

    monkeypatch.setattr(tel.client.calls, "create", flaky)
    assert tel.place(req()) in fake.calls and tel.retries == 1


def test_bad_credentials_fail_without_retry(fake):
    cfg = load(env(PUBLIC, fake.api_base, TWILIO_API_SECRET="wrong"))
    tel = TwilioTelephony(cfg, sleep=lambda s: pytest.fail("must not retry a 401"))
    with pytest.raises(PlaceFailed) as e:
        tel.place(req())
    assert not e.value.retryable


def test_twilio_environment_variables_cannot_redirect_the_client(fake, monkeypatch):
    monkeypatch.setenv("TWILIO_EDGE", "dublin")
    monkeypatch.setenv("TWILIO_REGION", "ie1")
    monkeypatch.setenv("TWILIO_ACCOUNT_SID", "AC" + "9" * 32)
    monkeypatch.setenv("HTTPS_PROXY", "http://127.0.0.1:9")
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")
    client = build_client(load(env(PUBLIC, fake.api_base)))
    call = client.calls.create(to="+12125550111", from_="+12125550100", url=f"{PUBLIC}/twilio/answer")
    assert call.sid in fake.calls and fake.calls[call.sid].account_sid == ACCOUNT_SID


def test_connect_abandon_hangup_update_the_live_call(fake, tel):
    fake.default_script = CallScript(ring_s=0.0, patience_s=5, talk_s=5)
    sid = tel.place(req(to="+12125550122", amd=False))
    fake_call = fake.calls[sid]
    _wait(lambda: fake_call.status == "in-progress")
    tel.connect(sid, 42)
    _wait(lambda: fake_call.conference == "agent-42")
    assert "<Conference" in fake_call.twiml_log[-1] and 'endConferenceOnExit="false"' in fake_call.twiml_log[-1]
    tel.hangup(sid)
    _wait(lambda: fake_call.status == "completed")
    tel.hangup(sid)  # already ended: Twilio's 21220 is not an error for us
    tel.connect(sid, 42)
    assert tel.fetch(sid).status == "completed"
    assert tel.fetch("CA" + "0" * 32) is None


def test_hangup_while_ringing_cancels(fake, tel):
    sid = tel.place(req(to="+12125550133"))
    _wait(lambda: fake.calls[sid].status == "queued" or True)
    tel.hangup(sid)
    _wait(lambda: fake.calls[sid].status == "canceled")


def test_update_refused_for_other_reasons_raises(fake, tel):
    fake.throttle(10)
    with pytest.raises(TwilioCallError, match="429"):
        tel.hangup("CA" + "1" * 32)


def _wait(cond, timeout=3.0):
    import time

    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if cond():
            return
        time.sleep(0.01)
    raise AssertionError("condition not reached")


def test_placement_waits_for_the_cps_bucket(fake, clock):
    from dialer.carriers.ratelimit import TokenBucket

    slept = []

    def sleep(s):
        slept.append(s)
        clock.advance(s)

    tel = TwilioTelephony(load(env(PUBLIC, fake.api_base)), bucket=TokenBucket(2, 1, clock), sleep=sleep)
    start = clock.now()
    for i in range(5):
        tel.place(req(to=f"+1212555014{i}"))
    assert len(fake.calls) == 5
    assert (clock.now() - start).total_seconds() == pytest.approx(2.0)  # 5 calls at 2/s: 4 waits of 0.5 s


def test_cps_window_counts_from_answers_so_a_slow_first_request_cannot_crowd_a_second():
    from datetime import UTC, datetime, timedelta

    from dialer.carriers.twilio.adapter import CpsWindow

    t0 = datetime(2030, 1, 1, tzinfo=UTC)
    w = CpsWindow(2)
    w.sent(t0 + timedelta(seconds=0.3))  # the first create took 300 ms to come back
    assert w.wait_s(t0 + timedelta(seconds=0.5)) == 0
    w.sent(t0 + timedelta(seconds=0.5))
    assert w.wait_s(t0 + timedelta(seconds=0.6)) == pytest.approx(0.7)  # until 1 s after the first answer
    assert w.wait_s(t0 + timedelta(seconds=1.3)) == 0
    half = CpsWindow(0.5)  # below one call a second: one call per two seconds
    half.sent(t0)
    assert half.wait_s(t0 + timedelta(seconds=1)) == pytest.approx(1.0)
