"""Agents' side of the /twilio/ blueprint: the join TwiML of the nailed-up line, the conference and leg events
that say whether the line is up, and access tokens for browser agents (Voice JS SDK)."""

from __future__ import annotations

from datetime import datetime
from email.utils import parsedate_to_datetime

from flask import Response, abort, jsonify, request
from twilio.jwt.access_token import AccessToken
from twilio.jwt.access_token.grants import VoiceGrant

from campaigns.agents import lines as agent_lines
from campaigns.agents import service as agent_svc
from campaigns.agents.models import Agent
from campaigns.db import session_scope
from campaigns.inbox import service as inbox
from dialer.carriers.twilio import twiml
from web.twilio import conference_order as order
from web.twilio.routes import PROVIDER, bp, empty, to_int, tw_ext, xml
from web.twilio.signature import twilio_signed

TOKEN_TTL_S = 3600
LEG_ENDED = ("completed", "busy", "no-answer", "failed", "canceled")


def _agent_of_leg() -> int | None:
    """Whose leg this is: a browser calls as ``client:agent-<id>`` (the identity of its access token); a phone leg
    the dialer placed carries ``?agent=<id>`` in its signed URL."""
    identity = request.form.get("From", "").removeprefix("client:")
    if request.form.get("From", "").startswith("client:"):
        return to_int(identity.removeprefix("agent-")) if identity.startswith("agent-") else None
    return to_int(request.args.get("agent"))


@bp.post("/agent/join")
@twilio_signed
def agent_join() -> Response:
    """The TwiML App's voice URL (browser) and the answer URL of a phone leg: the agent enters conference
    ``agent-<id>`` and stays there; its events come back to /twilio/agent/conference."""
    tw = tw_ext()
    agent_id, sid = _agent_of_leg(), request.form.get("CallSid", "")
    if agent_id is None or not sid:
        return xml(twiml.reject())
    with session_scope(tw.sessions) as s:
        if s.get(Agent, agent_id) is None:
            return xml(twiml.reject())
        if agent_lines.leg_started(s, agent_id, sid, tw.clock.now()) is None:
            return xml(twiml.reject())  # a stale join (that leg came and went): the line stays the current leg's
    events = f"{tw.config.webhook_url_base}/twilio/agent/conference?agent={agent_id}"
    return xml(twiml.agent_join(agent_id, events))


@bp.post("/agent/conference")
@twilio_signed
def agent_conference() -> Response:
    """Participant events of an agent's conference: the agent's own leg joining or leaving moves the line up or
    down; a customer joining the room of the agent it was connected to is bridged (the carrier's word, which
    survives a worker that died between moving the leg and recording it). Customers leaving are the dial loop's
    business."""
    tw, f = tw_ext(), request.form
    agent_id, sid, event = to_int(request.args.get("agent")), f.get("CallSid", ""), f.get("StatusCallbackEvent")
    if agent_id is None or not sid:
        return empty()
    now = tw.clock.now()
    with session_scope(tw.sessions) as s:
        if not _first_time(s, agent_id, sid, now):
            return empty()  # the same event again (a retry, a replay), or one older than what was acted on
        if event == "participant-join":
            if not agent_lines.leg_joined(s, agent_id, sid, now):
                agent_svc.joined_agent(s, sid, agent_id)
        elif event == "participant-leave":
            agent_lines.leg_left(s, agent_id, sid, now)
    return empty()


def _first_time(s, agent_id: int, sid: str, now) -> bool:
    """Whether this conference event is new and may be acted on. Twilio's signature carries no time, so a signed
    event can come again at any later moment: a leave of the agent's own leg, recorded while it visited a
    colleague's room for a consult, would find the same leg back home and take the line down, the customer left
    alone. Each event is known by its conference and sequence number (Twilio sends both), stored settled in the
    callbacks inbox, once; one older than an event already acted on for the line is stored as stale
    (``conference_order``)."""
    f = request.form
    conference, seq = f.get("ConferenceSid", "")[:34], to_int(f.get("SequenceNumber"))
    if not conference or seq is None:
        return True  # nothing to know it by
    key, event = f"conf:{conference}:{seq}"[:48], (f.get("StatusCallbackEvent") or "")[:20]
    if not inbox.record(s, inbox.Callback(
            provider=PROVIDER, call_sid=sid, event_key=key, kind=inbox.CONFERENCE, carrier_at=now,
            status=event or None, sequence=seq, payload=f.to_dict() | {order.AGENT_KEY: agent_id}), now, settled=True):
        return False
    if order.is_stale(s, PROVIDER, agent_id, sid, conference, seq, event, f.get("FriendlyName"),
                      _stamp(f.get("Timestamp"))):
        order.mark_stale(s, PROVIDER, sid, key)
        return False
    return True


def _stamp(raw: str | None) -> datetime | None:
    """Twilio's RFC 2822 ``Timestamp`` of an event (whole seconds); None when absent or unreadable."""
    try:
        at = parsedate_to_datetime(raw) if raw else None
    except (TypeError, ValueError):
        return None
    return at if at is not None and at.tzinfo is not None else None


@bp.post("/agent/status")
@twilio_signed
def agent_status() -> Response:
    """Status of a phone leg the dialer placed to an agent: unanswered or hung up, the line is down."""
    tw, f = tw_ext(), request.form
    agent_id, sid = to_int(request.args.get("agent")), f.get("CallSid", "")
    if agent_id is not None and sid and f.get("CallStatus") in LEG_ENDED:
        with session_scope(tw.sessions) as s:
            agent_lines.leg_left(s, agent_id, sid, tw.clock.now(), ended=True)
    return empty()


@bp.get("/token")
def token() -> Response:
    """An access token for the logged-in agent's browser (Voice JS SDK): incoming calls + the TwiML app."""
    tw = tw_ext()
    agent_id = tw.agent_identity()
    if agent_id is None:
        abort(401)
    cfg = tw.config
    if cfg is None or not cfg.can_issue_tokens:
        return jsonify(error="browser calling needs TWILIO_API_KEY, TWILIO_API_SECRET and TWILIO_TWIML_APP_SID"), 503
    identity = f"agent-{agent_id}"
    tok = AccessToken(cfg.account_sid, cfg.api_key, cfg.api_secret, identity=identity, ttl=TOKEN_TTL_S)
    tok.add_grant(VoiceGrant(incoming_allow=True, outgoing_application_sid=cfg.twiml_app_sid))
    return jsonify(token=tok.to_jwt(), identity=identity, ttl=TOKEN_TTL_S)
