"""The ``/twilio/`` blueprint. Every route is signature-checked; callbacks only land in the inbox (the worker's
pump hands them to the dial loop), so a retried or replayed webhook changes nothing twice."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from email.utils import parsedate_to_datetime

from flask import Blueprint, Flask, Response, abort, current_app, jsonify, request
from sqlalchemy.orm import Session, sessionmaker
from twilio.jwt.access_token import AccessToken
from twilio.jwt.access_token.grants import VoiceGrant

from campaigns import carrier_inbox as inbox
from campaigns.db import session_scope
from dialer.clock import Clock
from dialer.twilio_config import TwilioConfig
from web.twilio import twiml
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


def _tw() -> TwilioWeb:
    return current_app.extensions["twilio"]


def _empty() -> Response:
    return Response(status=204)


def _xml(r) -> Response:
    return Response(str(r), mimetype="text/xml")


def _carrier_time(form, fallback: datetime) -> datetime:
    """Twilio stamps callbacks with an RFC 2822 ``Timestamp``; without one, the time we received it."""
    try:
        return parsedate_to_datetime(form["Timestamp"])
    except (KeyError, TypeError, ValueError):
        return fallback


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value not in (None, "") else None
    except ValueError:
        return None


@bp.post("/status")
@twilio_signed
def status() -> Response:
    """Call progress (initiated, ringing, answered, completed/busy/no-answer/failed/canceled) into the inbox."""
    f, tw = request.form, _tw()
    sid, call_status = f.get("CallSid", ""), f.get("CallStatus", "")
    kind = KINDS.get(call_status)
    if not sid or kind is None:
        return _empty()  # queued and unknown statuses carry nothing the loop uses
    now = tw.clock.now()
    cb = inbox.Callback(
        provider=PROVIDER, call_sid=sid, event_key=f"status:{call_status}", kind=kind,
        carrier_at=_carrier_time(f, now), status=call_status, outcome=ENDED.get(call_status),
        answered_by=f.get("AnsweredBy") or None, sequence=_int(f.get("SequenceNumber")),
        waits_for_amd=request.args.get("amd") == "1", payload=f.to_dict())
    with session_scope(tw.sessions) as s:
        inbox.record(s, cb, now)
    return _empty()


@bp.post("/amd")
@twilio_signed
def amd() -> Response:
    """Asynchronous answering-machine detection: the verdict that lets the loop connect or hang up."""
    f, tw = request.form, _tw()
    sid = f.get("CallSid", "")
    if not sid or not f.get("AnsweredBy"):
        return _empty()
    now = tw.clock.now()
    cb = inbox.Callback(provider=PROVIDER, call_sid=sid, event_key="amd", kind="answered", carrier_at=now,
                        status="in-progress", answered_by=f["AnsweredBy"], payload=f.to_dict())
    with session_scope(tw.sessions) as s:
        inbox.record(s, cb, now)
    return _empty()


@bp.post("/answer")
@twilio_signed
def answer() -> Response:
    return _xml(twiml.answer_hold())


@bp.post("/safe-harbor")
@twilio_signed
def safe_harbor() -> Response:
    """No agent within 2 s: record the abandon and play the seller's message with the press-9 opt-out."""
    tw = _tw()
    with session_scope(tw.sessions) as s:
        found = inbox.call_by_sid(s, request.form.get("CallSid", ""))
        if found is None:
            return _xml(twiml.reject())
        call, campaign = found
        inbox.record_abandon(call)
        seller, number = campaign.seller_name or campaign.name, campaign.callback_number or campaign.caller_id
    return _xml(twiml.safe_harbor(seller, number, f"{tw.config.webhook_url_base}/twilio/optout"))


@bp.post("/optout")
@twilio_signed
def optout() -> Response:
    """A 9 puts the number on the internal DNC at once (and closes the lead); any other key just says goodbye."""
    tw, f = _tw(), request.form
    sid, digits = f.get("CallSid", ""), (f.get("Digits") or "")[:16]
    now = tw.clock.now()
    added = False
    with session_scope(tw.sessions) as s:
        found = inbox.call_by_sid(s, sid)
        if found is None:
            return _xml(twiml.reject())
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
    return _xml(twiml.optout_done(added))


@bp.post("/agent/join")
@twilio_signed
def agent_join() -> Response:
    """The TwiML App's voice URL: an agent's browser (``client:agent-42``) joins their own conference."""
    identity = request.form.get("From", "").removeprefix("client:")
    agent_id = _int(identity.removeprefix("agent-")) if identity.startswith("agent-") else None
    if agent_id is None:
        return _xml(twiml.reject())
    return _xml(twiml.agent_join(agent_id))


@bp.get("/token")
def token() -> Response:
    """An access token for the logged-in agent's browser (Voice JS SDK): incoming calls + the TwiML app."""
    tw = _tw()
    agent_id = tw.agent_identity()
    if agent_id is None:
        abort(401)
    cfg = tw.config
    if cfg is None or not cfg.can_issue_tokens:
        return jsonify(error="browser calling needs TWILIO_API_KEY, TWILIO_API_SECRET and TWILIO_TWIML_APP_SID"), 503
    identity = f"agent-{agent_id}"
    tok = AccessToken(cfg.account_sid, cfg.api_key, cfg.api_secret, identity=identity, ttl=3600)
    tok.add_grant(VoiceGrant(incoming_allow=True, outgoing_application_sid=cfg.twiml_app_sid))
    return jsonify(token=tok.to_jwt(), identity=identity, ttl=3600)
