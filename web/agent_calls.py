"""The agent's call controls on the seat: hold and resume the customer, transfer cold to a number, transfer warm
(consult another agent or a supervisor's number, then complete or cancel), and manual dial of a typed number.

Each is one step of ``dialer.carriers.seat.SeatCalls`` (database and carrier together); the refusals come back
in words. Manual dial goes through the pre-dial gate like every call (``campaigns.agents.manual``).
"""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, request, url_for
from flask_login import current_user

from campaigns.agents import manual
from campaigns.agents import transfer as transfers
from campaigns.agents.models import Agent
from campaigns.dispatch.models import Call
from dialer.carriers.seat import SeatCalls
from dnc.errors import UserError
from dnc.reasons import words as reason_text
from web.context import db, now
from web.forms import sentence
from web.seat_call import for_the_call_shown

bp = Blueprint("agent_calls", __name__, url_prefix="/agent/call")


def _agent_id() -> int:
    if current_user.agent_id is None:
        abort(403, "this user has no agent seat")
    return current_user.agent_id


def seat_calls() -> SeatCalls:
    """One per app: calls Twilio carries get Twilio's control; simulated calls change the database only."""
    ext = current_app.extensions
    if "seat_calls" not in ext:
        def control_for(call: Call):
            tw = ext.get("twilio")
            if call.provider != "twilio" or tw is None or tw.config is None:
                return None
            if "twilio_control" not in ext:
                from dialer.carriers.twilio.control import TwilioCallControl

                ext["twilio_control"] = TwilioCallControl(tw.config)
            return ext["twilio_control"]

        ext["seat_calls"] = SeatCalls(control_for)
    return ext["seat_calls"]


def _do(step) -> object:
    try:
        flash(step(), "success")
    except UserError as e:
        db().rollback()
        flash(sentence(str(e)), "error")
    return redirect(url_for("agent.seat"))


@bp.post("/hold")
@for_the_call_shown()
def hold():
    return _do(lambda: seat_calls().hold(db(), _agent_id(), now(), on=True))


@bp.post("/resume")
@for_the_call_shown()
def resume():
    return _do(lambda: seat_calls().hold(db(), _agent_id(), now(), on=False))


@bp.post("/transfer")
@for_the_call_shown()
def cold_transfer():
    """Cold: the customer goes to the number; this agent wraps the call up."""
    number = request.form.get("number", "")
    return _do(lambda: seat_calls().cold_transfer(db(), _agent_id(), number, now()))


@bp.post("/consult")
@for_the_call_shown()
def consult():
    """Warm, first step: the customer is held; this agent talks with an agent (``to_agent``) or a number."""
    to_agent, number = request.form.get("to_agent", ""), request.form.get("number", "").strip()

    def step() -> str:
        if to_agent.isdigit() and not number:
            return seat_calls().consult(db(), _agent_id(), now(), to_agent=int(to_agent))
        if number and not to_agent:
            return seat_calls().consult(db(), _agent_id(), now(), to_number=number)
        raise UserError("choose an agent, or type a supervisor's number (not both)")
    return _do(step)


@bp.post("/complete")
@for_the_call_shown()
def complete():
    return _do(lambda: seat_calls().complete(db(), _agent_id(), now()))


@bp.post("/cancel")
@for_the_call_shown()
def cancel():
    return _do(lambda: seat_calls().cancel(db(), _agent_id(), now()))


@bp.post("/dial")
def dial():
    """Manual dial: the number typed, checked by the pre-dial gate; refusals in words."""
    number = request.form.get("number", "")
    try:
        out = manual.manual_dial(db(), _agent_id(), number, now())
        db().commit()
    except UserError as e:
        db().rollback()
        flash(sentence(str(e)), "error")
        return redirect(url_for("agent.seat"))
    if out.call is None:
        flash("Not dialed: " + "; ".join(out.why or [reason_text(c) for c in out.refused]) + ".", "error")
    else:
        flash(f"Dialing {out.call.phone}…", "success")
    return redirect(url_for("agent.seat"))


def controls(d) -> dict:
    """What the seat page shows about the call controls (for ``agent/seat.html``)."""
    out: dict = {"held": False, "consult": None, "consult_name": None, "agents": [], "consulting": None}
    if d.call is None or d.agent.state != "talking":
        return out
    s = db()
    if d.call.agent_id != d.agent.id:  # this agent was asked to consult on a colleague's call
        host = s.get(Agent, d.call.agent_id) if d.call.agent_id else None
        out["consulting"] = host.name if host else "another agent"
        return out
    out["held"], out["consult"] = transfers.call_state(s, d.call.id)
    if out["consult"] is not None and out["consult"].to_agent_id is not None:
        other = s.get(Agent, out["consult"].to_agent_id)
        out["consult_name"] = other.name if other else "an agent"
    out["agents"] = transfers.consult_agents(s, d.agent.id)
    return out
