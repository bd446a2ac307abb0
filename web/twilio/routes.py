"""The ``/twilio/`` blueprint. Every route is signature-checked; callbacks only land in the inbox (the worker's
pump hands them to the dial loop), so a retried or replayed webhook changes nothing twice."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from email.utils import parsedate_to_datetime

from flask import Blueprint, Flask, Response, abort, current_app, request
from sqlalchemy.orm import Session, sessionmaker
from twilio.twiml.messaging_response import MessagingResponse

from campaigns.compliance import sms as texts
from campaigns.db import session_scope
from campaigns.inbox import service as inbox
from dialer.carriers.twilio import twiml
from dialer.carriers.twilio.attempt import TOKEN_PARAM, token_of
from dialer.carriers.twilio.config import TwilioConfig
from dialer.clock import Clock
from web.twilio.signature import twilio_signed

bp = Blueprint("twilio", __name__, url_prefix="/twilio")
PROVIDER = "twilio"
ENDED = {"completed": "completed", "busy": "busy", "no-answer": "no_answer", "failed": "failed",
         "canceled": "canceled"}
KINDS = {"initiated": "initiated", "ringing": "ringing", "in-progress": "answered"} | dict.fromkeys(ENDED, "ended")
OPT_OUT_DIGIT = "9"


@dataclass
class TwilioWeb:
    """What the routes need, attached to the app as ``app.extensions["twilio"]``."""

    config: TwilioConfig | None  # None: the environment is incomplete and every route answers 503
    sessions: sessionmaker[Session]
    clock: Clock
    add_to_dnc: Callable[..., object]  # dnc.internal.add_request
    agent_identity: Callable[[], int | None]  # the logged-in agent's id, for access tokens


def init_twilio(app: Flask, tw: TwilioWeb) -> None:
    app.extensions["twilio"] = tw
    app.register_blueprint(bp)


def tw_ext() -> TwilioWeb:
    return current_app.extensions["twilio"]


def empty() -> Response:
    return Response(status=204)


def xml(r) -> Response:
    return Response(str(r), mimetype="text/xml")


def _carrier_time(form, received: datetime) -> datetime:
    """Twilio stamps callbacks with an RFC 2822 ``Timestamp`` (whole seconds, so at or before the event); without
    one, the time we received it. Never later than receipt: a carrier clock running ahead of ours must not push
    the 2-second abandon deadline (counted from the answer) into the future."""
    try:
        at = parsedate_to_datetime(form["Timestamp"])
    except (KeyError, TypeError, ValueError):
        return received
    if at.tzinfo is None:
        return received
    return min(at, received)


INT_MAX = 2**31 - 1  # the largest id or sequence number an integer column holds (PostgreSQL's int4)


def to_int(value: str | None) -> int | None:
    """A number from a form or query; None when absent, not a number, or beyond what a column holds (a 500 on
    PostgreSQL, an overflow on SQLite)."""
    try:
        n = int(value) if value not in (None, "") else None
    except ValueError:
        return None
    return n if n is None or -INT_MAX <= n <= INT_MAX else None


@bp.post("/status")
@twilio_signed
def status() -> Response:
    """Call progress (initiated, ringing, answered, completed/busy/no-answer/failed/canceled) into the inbox, with
    the attempt token the URL carries (it names our attempt; the signature covers it with the rest of the URL)."""
    f, tw = request.form, tw_ext()
    sid, call_status = f.get("CallSid", ""), f.get("CallStatus", "")
    kind = KINDS.get(call_status)
    if not sid or kind is None:
        return empty()  # queued and unknown statuses carry nothing the loop uses
    now = tw.clock.now()
    cb = inbox.Callback(
        provider=PROVIDER, call_sid=sid, event_key=f"status:{call_status}", kind=kind,
        carrier_at=_carrier_time(f, now), status=call_status, outcome=ENDED.get(call_status),
        answered_by=f.get("AnsweredBy") or None, sequence=to_int(f.get("SequenceNumber")), payload=f.to_dict(),
        attempt=token_of(request.args.get(TOKEN_PARAM)))
    with session_scope(tw.sessions) as s:
        inbox.record(s, cb, now)
    return empty()


@bp.post("/amd")
@twilio_signed
def amd() -> Response:
    """Asynchronous answering-machine detection: the verdict that lets the loop connect or hang up."""
    f, tw = request.form, tw_ext()
    sid = f.get("CallSid", "")
    if not sid or not f.get("AnsweredBy"):
        return empty()
    now = tw.clock.now()
    cb = inbox.Callback(provider=PROVIDER, call_sid=sid, event_key=inbox.AMD_KEY, kind="answered", carrier_at=now,
                        status="in-progress", answered_by=f["AnsweredBy"], payload=f.to_dict())
    with session_scope(tw.sessions) as s:
        inbox.record(s, cb, now)
    return empty()


@bp.post("/answer")
@twilio_signed
def answer() -> Response:
    return xml(twiml.answer_hold())


@bp.post("/safe-harbor")
@twilio_signed
def safe_harbor() -> Response:
    """No agent within 2 s: record the abandon and play the seller's message with the press-9 opt-out."""
    tw = tw_ext()
    with session_scope(tw.sessions) as s:
        found = inbox.call_by_sid(s, request.form.get("CallSid", ""))
        if found is None:
            return xml(twiml.reject())
        call, campaign = found
        inbox.record_abandon(call)
        seller, number = campaign.seller_name or campaign.name, campaign.callback_number or campaign.caller_id
    return xml(twiml.safe_harbor(seller, number, f"{tw.config.webhook_url_base}/twilio/optout"))


@bp.post("/optout")
@twilio_signed
def optout() -> Response:
    """A 9 puts the number on the internal DNC at once (and closes the lead); any other key just says goodbye."""
    tw, f = tw_ext(), request.form
    sid, digits = f.get("CallSid", ""), (f.get("Digits") or "")[:16]
    now = tw.clock.now()
    added = False
    with session_scope(tw.sessions) as s:
        found = inbox.call_by_sid(s, sid)
        if found is None:
            return xml(twiml.reject())
        call, campaign = found
        fresh = inbox.record(s, inbox.Callback(
            provider=PROVIDER, call_sid=sid, event_key=f"digits:{digits}", kind="dtmf", carrier_at=now,
            digits=digits, payload=f.to_dict()), now)
        if digits == OPT_OUT_DIGIT:
            added = True
            if fresh:
                # company scope: a do-not-call request binds the seller, not one campaign (TSR/FCC)
                tw.add_to_dnc(s, call.phone, scope="company", campaign=None, channel="keypress",
                              received_at=now, added_by="caller", source_ref=f"twilio:{sid}",
                              reason=f"pressed 9 at the safe-harbor message ({campaign.name})")
                inbox.close_lead_as_dnc(s, call, now)
    return xml(twiml.optout_done(added))


@bp.post("/sms")
@twilio_signed
def sms() -> Response:
    """An inbound text (the messaging webhook of our numbers; docs/twilio.md): kept once per MessageSid, and a STOP
    (``revocation_words`` of the rules file) puts the sender on the company's internal DNC list at once; a START
    (``opt_in_words``) lifts what the sender's own texted STOPs made. The answer is empty TwiML: Twilio itself
    confirms a STOP, and F14 allows one confirmation only."""
    tw, f = tw_ext(), request.form
    sid = f.get("MessageSid") or f.get("SmsSid") or ""
    if not sid:
        abort(400)
    with session_scope(tw.sessions) as s:
        texts.receive(s, provider=PROVIDER, message_sid=sid, sender=f.get("From", ""), to=f.get("To", ""),
                      body=f.get("Body", ""), now=tw.clock.now(), add_to_dnc=tw.add_to_dnc)
    return xml(MessagingResponse())
