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
    assert p["StatusCallback"] == f"{PUBLIC}/twilio/status?attempt={tel.attempt_token(7, '+12125550111')}"
    assert p["Url"] == f"{PUBLIC}/twilio/answer"
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
    fake.default_script = CallScript(ring_s=60)  # it rings until hung up, however slowly this machine runs
    sid = tel.place(req(to="+12125550133"))
    _wait(lambda: fake.calls[sid].status == "ringing", timeout=15)
    tel.hangup(sid)
    _wait(lambda: fake.calls[sid].status == "canceled", timeout=15)


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


def test_each_create_waits_for_its_send_slot_and_a_retry_takes_another(fake, clock):
    from datetime import timedelta

    from dialer.carriers.sendpace import MemoryBudget, SendPacer

    pacer = SendPacer(MemoryBudget(2.0), 2, clock, margin_s=0, sleep=clock.advance)
    tel = TwilioTelephony(load(env(PUBLIC, fake.api_base)), pacer=pacer, sleep=clock.advance,
                          backoff=Backoff(attempts=4, base_s=0.01), rng=random.Random(1))
    start = clock.now()
    sent = [tel.place_paced(req(to=f"+1212555014{i}"))[1] for i in range(3)]
    assert sent == [start + timedelta(seconds=s) for s in (0, 0.5, 1.0)]  # 2 calls/s: one slot every 0.5 s
    fake.throttle(1)
    sid, at = tel.place_paced(req(to="+12125550149"))
    # the throttled attempt spent the 1.5 s slot; after its backoff the retry waited for a slot of its own
    assert at == start + timedelta(seconds=2.0) and tel.retries == 1 and sid in fake.calls
    booked = pacer.reserve(1, clock.now(), 5.0)[0]
    assert tel.place_paced(req(to="+12125550150"), booked)[1] == booked  # a slot the loop booked is used as is
