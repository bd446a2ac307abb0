"""The /twilio/ blueprint: signatures (also behind a TLS proxy), the callback inbox, TwiML, tokens."""

from datetime import timedelta

import jwt
import pytest
from twilio.request_validator import RequestValidator

from campaigns.dispatch.models import Call
from campaigns.inbox import service as inbox
from campaigns.leads.models import Lead
from dialer.carriers.twilio.config import load
from dialer.carriers.twilio.pump import CallbackPump
from tests.dialer.carriers.twilio.support import (
    ACCOUNT_SID,
    API_KEY,
    API_SECRET,
    APP_SID,
    AUTH_TOKEN,
    env,
    make_app,
    seed_call,
)

PUBLIC = "https://dialer.example.com"
SID = "CA" + "ab" * 16


class DncBook:
    """Records add_request calls (the internal DNC list is another module's; its own tests cover storage)."""

    def __init__(self):
        self.added = []

    def __call__(self, session, e164, **kw):
        self.added.append((e164, kw))


@pytest.fixture
def dnc_book():
    return DncBook()


@pytest.fixture
def app(sessions, clock, dnc_book):
    return make_app(sessions, clock, load(env(PUBLIC)), dnc_book, agent_identity=lambda: 42)


@pytest.fixture
def client(app):
    return app.test_client()


def sign(path, form, base=PUBLIC, token=AUTH_TOKEN):
    return RequestValidator(token).compute_signature(base + path, form)


def post(client, path, form, signature="sign", **headers):
    sig = sign(path, form) if signature == "sign" else signature
    hdrs = {"X-Twilio-Signature": sig} if sig else {}
    return client.post(path, data=form, headers=hdrs | headers, base_url="http://127.0.0.1:8000")


def status_form(status, seq, **more):
    return {"CallSid": SID, "AccountSid": ACCOUNT_SID, "CallStatus": status, "SequenceNumber": str(seq),
            "Timestamp": f"Tue, 08 Jan 2030 15:00:0{seq} +0000", "To": "+12125550111", "From": "+12125550100"} | more


def rows(sessions):
    with sessions() as s:
        return s.query(inbox.CarrierCallback).order_by(inbox.CarrierCallback.id).all()


@pytest.mark.parametrize("signature", [None, "", "bm90IGEgc2lnbmF0dXJl",
                                       RequestValidator("wrong").compute_signature(PUBLIC + "/twilio/status", {})])
def test_unsigned_or_forged_callbacks_get_403_and_change_nothing(client, sessions, signature):
    r = post(client, "/twilio/status", status_form("completed", 4), signature=signature)
    assert r.status_code == 403
    assert rows(sessions) == []


def test_signature_over_other_params_or_url_is_rejected(client, sessions):
    form = status_form("completed", 4)
    tampered = form | {"CallStatus": "busy"}
    assert post(client, "/twilio/status", tampered, signature=sign("/twilio/status", form)).status_code == 403
    other_url = sign("/twilio/amd", form)
    assert post(client, "/twilio/status", form, signature=other_url).status_code == 403
    assert rows(sessions) == []


def test_behind_a_tls_proxy_the_public_https_url_is_what_validates(client, sessions):
    form = status_form("ringing", 1)
    http_sig = RequestValidator(AUTH_TOKEN).compute_signature("http://127.0.0.1:8000/twilio/status", form)
    assert post(client, "/twilio/status", form, signature=http_sig).status_code == 403
    r = post(client, "/twilio/status", form, **{"X-Forwarded-Proto": "https", "X-Forwarded-Host": "dialer.example.com"})
    assert r.status_code == 204
    assert [(x.kind, x.status) for x in rows(sessions)] == [("ringing", "ringing")]


def test_query_string_is_part_of_the_signed_url(client, sessions):
    form = status_form("in-progress", 2)
    assert post(client, "/twilio/status?leg=1", form, signature=sign("/twilio/status", form)).status_code == 403
    assert post(client, "/twilio/status?leg=1", form).status_code == 204
    (row,) = rows(sessions)
    assert row.kind == "answered" and row.answered_by is None


def test_duplicate_callbacks_are_stored_once(client, sessions):
    for _ in range(3):
        assert post(client, "/twilio/status", status_form("completed", 4, CallDuration="31")).status_code == 204
        assert post(client, "/twilio/amd", {"CallSid": SID, "AnsweredBy": "human"}).status_code == 204
    got = rows(sessions)
    assert [(r.kind, r.outcome, r.event_key) for r in got] == [("ended", "completed", "status:completed"),
                                                               ("answered", None, "amd")]
    assert got[0].payload["CallDuration"] == "31"


STREAM = [("status", status_form("initiated", 0)), ("status", status_form("ringing", 1)),
          ("status", status_form("in-progress", 2)), ("amd", {"CallSid": SID, "AnsweredBy": "human"}),
          ("status", status_form("completed", 3, CallDuration="40"))]


def _deliver(client, items):
    for route, form in items:
        assert post(client, f"/twilio/{route}", form).status_code == 204


def _final_state(events):
    state = {}
    for e in events:
        state["kind"] = e.kind
        state["outcome"] = e.outcome or state.get("outcome")
        state["answered_by"] = e.answered_by or state.get("answered_by")
    return state


def test_in_order_stream_reaches_the_loop_once_each_and_the_verdict_after_the_answer(client, sessions, session,
                                                                                     clock):
    """A stream stored all at once (a backlog): the answer first, the verdict after it, then the end; the
    progress callbacks the answer supersedes never reach the loop."""
    seed_call(session, clock.now(), sid=SID)
    got = []
    pump = CallbackPump(sessions, got.append)
    _deliver(client, STREAM)
    pump.run_once(clock.now())
    assert [(e.kind, e.answered_by) for e in got] == [("answered", "unknown"), ("answered", "human"),
                                                      ("ended", None)]
    assert got[-1].outcome == "completed" and got[-1].extra["duration_s"] == 40


def test_reordered_and_replayed_stream_gives_the_same_final_state(client, sessions, session, clock):
    seed_call(session, clock.now(), sid=SID)
    in_order = []
    reference = CallbackPump(sessions, in_order.append)
    _deliver(client, STREAM)
    reference.run_once(clock.now())
    expected = _final_state(in_order)

    with sessions() as s, s.begin():  # start over with a scrambled, duplicated delivery
        s.query(inbox.CarrierCallback).delete()
    got = []
    pump = CallbackPump(sessions, got.append)
    scrambled = [STREAM[4], STREAM[1], STREAM[3], STREAM[0], STREAM[2]]
    for item in scrambled + STREAM:  # the whole stream replayed after the scrambled one
        _deliver(client, [item])
        pump.run_once(clock.now())
    assert _final_state(got) == expected == {"kind": "ended", "outcome": "completed", "answered_by": "human"}
    # the early "completed" waited for the answer and brought it along (the "ringing" beside it was superseded);
    # nothing after the end reached the loop
    assert [(e.kind, e.answered_by) for e in got] == [("answered", "human"), ("ended", None)]
    assert {r.result for r in rows(sessions)} == {"handled", "stale"}


def test_an_early_completed_whose_answer_never_comes_is_delivered_after_the_reorder_wait(client, sessions, session,
                                                                                          clock):
    seed_call(session, clock.now(), sid=SID)
    got = []
    pump = CallbackPump(sessions, got.append, reorder_wait_s=2)
    _deliver(client, [STREAM[4]])
    assert pump.run_once(clock.now()).waiting == 1 and not got
    clock.advance(2)
    pump.run_once(clock.now())
    assert [(e.kind, e.outcome) for e in got] == [("ended", "completed")]


def test_the_answer_is_delivered_at_once_and_the_verdict_follows(client, sessions, session, clock):
    seed_call(session, clock.now(), sid=SID)
    got = []
    pump = CallbackPump(sessions, got.append)
    _deliver(client, STREAM[:3])
    pump.run_once(clock.now())
    assert [(e.kind, e.answered_by) for e in got] == [("answered", "unknown")]  # its progress superseded
    _deliver(client, [("amd", {"CallSid": SID, "AnsweredBy": "machine_start"})])
    pump.run_once(clock.now())
    assert (got[-1].kind, got[-1].answered_by) == ("answered", "machine")
    _deliver(client, [STREAM[4]])
    pump.run_once(clock.now())
    assert got[-1].kind == "ended" and len(got) == 3


def test_a_verdict_that_overtakes_the_answer_is_the_answer(client, sessions, session, clock):
    seed_call(session, clock.now(), sid=SID)
    got = []
    pump = CallbackPump(sessions, got.append)
    _deliver(client, [("amd", {"CallSid": SID, "AnsweredBy": "human"}), STREAM[2]])
    pump.run_once(clock.now())
    assert [(e.kind, e.answered_by) for e in got] == [("answered", "human")]


def test_a_verdict_after_the_end_is_stale(client, sessions, session, clock):
    seed_call(session, clock.now(), sid=SID)
    got = []
    pump = CallbackPump(sessions, got.append)
    _deliver(client, [STREAM[2], STREAM[4]])
    pump.run_once(clock.now())
    _deliver(client, [("amd", {"CallSid": SID, "AnsweredBy": "machine_start"})])
    assert pump.run_once(clock.now()).stale == 1
    assert [e.kind for e in got] == ["answered", "ended"]


def test_machine_verdicts_fold_to_machine(client, sessions, session, clock):
    seed_call(session, clock.now(), sid=SID)
    got = []
    _deliver(client, [("amd", {"CallSid": SID, "AnsweredBy": "machine_end_beep"})])
    CallbackPump(sessions, got.append).run_once(clock.now())
    assert (got[0].kind, got[0].answered_by, got[0].extra["answered_by_raw"]) == ("answered", "machine",
                                                                                 "machine_end_beep")


def test_callbacks_for_a_sid_not_yet_stored_wait_then_become_orphans(client, sessions, session, clock):
    got = []
    pump = CallbackPump(sessions, got.append, orphan_after_s=30)
    _deliver(client, STREAM[:1])
    assert pump.run_once(clock.now()).waiting == 1
    seed_call(session, clock.now(), sid=SID)  # place() returned: the loop stored the SID
    pump.run_once(clock.now())
    assert [e.kind for e in got] == ["initiated"]
    other = status_form("ringing", 1) | {"CallSid": "CA" + "cd" * 16}
    _deliver(client, [("status", other)])
    clock.advance(31)
    assert pump.run_once(clock.now()).orphan == 1


def test_a_loop_failure_is_retried_then_set_aside_and_the_pump_goes_on(client, sessions, session, clock):
    seed_call(session, clock.now(), sid=SID)
    failures = {"ringing": 2}
    got = []

    def flaky(event):
        if failures.get(event.kind, 0) > 0:
            failures[event.kind] -= 1
            raise RuntimeError("database is locked")
        got.append(event.kind)

    pump = CallbackPump(sessions, flaky, give_up_after_s=60)
    _deliver(client, STREAM[:1])
    assert pump.run_once(clock.now()).handled == 1 and got == ["initiated"]
    _deliver(client, STREAM[1:2])
    stats = pump.run_once(clock.now())
    assert (stats.handled, stats.retried) == (0, 1) and got == ["initiated"]
    pump.run_once(clock.now())
    pump.run_once(clock.now())
    assert got == ["initiated", "ringing"]  # a passing failure loses nothing

    def broken(event):
        raise RuntimeError("boom")

    _deliver(client, [STREAM[2]])
    stubborn = CallbackPump(sessions, broken, give_up_after_s=60)
    assert stubborn.run_once(clock.now()).retried == 1
    clock.advance(59)
    assert stubborn.run_once(clock.now()).retried == 1
    clock.advance(1)
    assert stubborn.run_once(clock.now()).error == 1
    assert stubborn.run_once(clock.now()).error == 0  # set aside: reconciliation settles the call


def test_answer_twiml_holds_the_customer_in_silence(client):
    r = post(client, "/twilio/answer", {"CallSid": SID})
    assert r.mimetype == "text/xml" and "<Pause" in r.text


def test_safe_harbor_records_the_abandon_and_offers_the_opt_out(client, sessions, session, clock):
    call = seed_call(session, clock.now(), sid=SID)
    r = post(client, "/twilio/safe-harbor", {"CallSid": SID})
    assert r.status_code == 200
    assert "telemarketing call from Acme Sales" in r.text and "1 8 0 0 5 5 5 0 1 0 0" in r.text
    assert "press 9" in r.text
    assert 'numDigits="1"' in r.text and f'action="{PUBLIC}/twilio/optout"' in r.text
    with sessions() as s:
        assert s.get(Call, call.id).outcome == "abandoned"


def test_press_9_adds_the_number_to_the_internal_dnc_once_and_closes_the_lead(client, sessions, session, clock,
                                                                                dnc_book):
    call = seed_call(session, clock.now(), sid=SID)
    for _ in range(2):  # Twilio retried the gather action
        r = post(client, "/twilio/optout", {"CallSid": SID, "Digits": "9"})
        assert "added to our do-not-call list" in r.text and "<Hangup" in r.text
    assert len(dnc_book.added) == 1
    e164, kw = dnc_book.added[0]
    assert e164 == "+12125550111" and kw["channel"] == "keypress" and kw["scope"] == "company"
    assert "Spring" in kw["reason"]
    assert kw["received_at"] == clock.now() and kw["source_ref"] == f"twilio:{SID}"
    with sessions() as s:
        assert s.get(Lead, call.lead_id).status == "dnc"


def test_other_digits_just_say_goodbye(client, sessions, session, clock, dnc_book):
    call = seed_call(session, clock.now(), sid=SID)
    r = post(client, "/twilio/optout", {"CallSid": SID, "Digits": "1"})
    assert "Goodbye" in r.text and not dnc_book.added
    with sessions() as s:
        assert s.get(Lead, call.lead_id).status == "dialing"


def test_unsigned_opt_out_changes_nothing(client, sessions, session, clock, dnc_book):
    seed_call(session, clock.now(), sid=SID)
    assert post(client, "/twilio/optout", {"CallSid": SID, "Digits": "9"}, signature=None).status_code == 403
    assert not dnc_book.added and rows(sessions) == []


def test_access_token_carries_the_voice_grant_for_the_agent(client, app):
    r = client.get("/twilio/token")
    body = r.get_json()
    claims = jwt.decode(body["token"], API_SECRET, algorithms=["HS256"])
    assert body["identity"] == "agent-42" and claims["iss"] == API_KEY and claims["sub"] == ACCOUNT_SID
    voice = claims["grants"]["voice"]
    assert voice["incoming"]["allow"] is True and voice["outgoing"]["application_sid"] == APP_SID
    assert claims["exp"] - claims["nbf"] == timedelta(hours=1).total_seconds()
    app.extensions["twilio"].agent_identity = lambda: None
    assert client.get("/twilio/token").status_code == 401


def test_without_twilio_configuration_every_route_answers_503(sessions, clock, dnc_book):
    client = make_app(sessions, clock, None, dnc_book).test_client()
    assert post(client, "/twilio/status", status_form("completed", 4)).status_code == 503
    assert rows(sessions) == []
