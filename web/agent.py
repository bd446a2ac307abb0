"""The agent's seat: log in to a campaign, ready / pause with a reason, the popped lead (name, number, custom
fields, history, script) when a call connects, hang up, disposition with the wrap timer, and own callbacks (moved
or cancelled by their agent).

A signed-in agent drives one seat (``users.agent_id``); a person can take over a simulated seat this way. State
changes and dispositions are ``campaigns.agents.service`` services; the page polls ``/agent/state`` and reloads itself
when the seat changes (a call pops, the call ends).
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, jsonify, redirect, render_template, request, url_for
from flask_login import current_user
from wtforms.validators import ValidationError

from campaigns.agents import after_call as after_calls
from campaigns.agents import preview as agents_preview
from campaigns.agents import service as agents
from campaigns.agents import teams
from campaigns.agents import transfer as transfers
from campaigns.agents.desk import desk, last_call, my_callbacks
from campaigns.callbacks import service as callbacks_svc
from campaigns.callbacks.models import Callback
from campaigns.callbacks.service import OutsideWindow
from campaigns.callerid import service as callerid
from campaigns.campaign.models import Campaign
from dnc.errors import UserError
from web.callbacks import CancelForm, MoveForm, parse_local
from web.context import db, now
from web.disposition import PAUSE_LABELS, PERSONAL, DispositionForm, callback_time, take_offer
from web.filters import console_zone, page_and_lead, when
from web.forms import as_id, choices, sentence
from web.seat_call import for_the_call_shown, for_the_seat_shown, seat_id
from web.seat_page import PauseForm, StartForm, after_call_message, lead_zone, seat_page

bp = Blueprint("agent", __name__, url_prefix="/agent")


@bp.get("/")
def seat():
    return seat_page()


@bp.get("/state")
def state():
    """What the seat is doing now (the page reloads when this changes)."""
    a = desk(db(), seat_id()).agent
    t = now()
    consulting = transfers.consulting_on(db(), a.id) is not None  # a colleague's call, until they complete
    return jsonify(state=a.state, reason=a.state_reason, call_id=a.call_id, consulting=consulting,
                   since=a.state_since.isoformat() if a.state_since else None,
                   seconds=(t - a.state_since).total_seconds() if a.state_since else None)


def _change(action, done: str):
    try:
        changed = action()
        db().commit()
    except UserError as e:
        db().rollback()
        flash(sentence(str(e)), "error")
    else:
        if changed is not False:
            flash(done, "success")
    return redirect(url_for("agent.seat"))


@bp.post("/start")
def start():
    """Join a campaign and go ready. The choice is checked again here (``campaigns.agents.teams.join``): a campaign
    that is not active, or whose team this seat is not on, is refused whatever the form carried."""
    form = StartForm()
    if not form.validate_on_submit() or as_id(form.campaign.data) is None:
        flash("Choose a campaign.", "error")
        return redirect(url_for("agent.seat"))
    campaign = db().get(Campaign, as_id(form.campaign.data))
    if campaign is None:
        flash("That campaign is not open for agents.", "error")
        return redirect(url_for("agent.seat"))
    return _change(lambda: teams.join(db(), agents.get_agent(db(), seat_id(), lock=True), campaign, now()),
                   f"You are ready on {campaign.name}: calls come in by themselves.")


@bp.post("/ready")
@for_the_seat_shown()
def ready():
    def go():
        agent = agents.get_agent(db(), seat_id(), lock=True)
        if agent.state == "offline":  # logging in again to the last campaign: a join, with its checks
            campaign = db().get(Campaign, agent.campaign_id) if agent.campaign_id else None
            if campaign is None:
                raise UserError("choose a campaign to log in to")
            return teams.join(db(), agent, campaign, now())
        return agents.go_ready(db(), agent.id, now())

    return _change(go, "You are ready.")


@bp.post("/pause")
@for_the_seat_shown()
def pause():
    form = PauseForm()
    if not form.validate_on_submit():
        flash("Choose a pause reason.", "error")
        return redirect(url_for("agent.seat"))
    return _change(lambda: agents.pause(db(), seat_id(), form.reason.data, now()),
                   f"Paused ({PAUSE_LABELS.get(form.reason.data, form.reason.data).lower()}): no calls come in.")


@bp.post("/offline")
@for_the_seat_shown()
def offline():
    return _change(lambda: agents.go_offline(db(), seat_id(), now()), "You are logged out of the campaign.")


@bp.post("/hangup")
@for_the_call_shown()
def hangup():
    if transfers.consulting_on(db(), seat_id()) is not None:
        flash("You were asked to consult on a colleague's call: they complete or cancel the transfer.", "error")
        return redirect(url_for("agent.seat"))
    return _change(lambda: agents.end_call(db(), seat_id(), now()), "Call ended: disposition it.")


@bp.post("/disposition")
@for_the_call_shown("That form was for your previous call, whose disposition is already saved: nothing was recorded "
                    "for the call you are on now. Choose this call's disposition below.")
def disposition():
    """Record the disposition of the seat's call (ending it first if still talking), then ready or pause."""
    form = DispositionForm()
    d = desk(db(), seat_id())
    form.code.choices = choices((x.code, x.label) for x in d.dispositions)
    if d.call is None:
        flash("There is no call to disposition.", "error")
        return redirect(url_for("agent.seat"))
    take_offer(form)
    if not form.validate_on_submit():
        return seat_page(form, 400)
    chosen = next((x for x in d.dispositions if x.code == form.code.data), None)
    if chosen is None:
        form.code.errors = ["Choose one of the dispositions shown."]
        return seat_page(form, 400)
    callback_at, back = callback_time(form, chosen, d.lead, d.campaign, lead_zone(d))
    if back is not None:
        return seat_page(form, *back)
    t = now()
    try:
        if d.agent.state == "talking":
            agents.end_call(db(), d.agent.id, t)
        agents.disposition(db(), d.call.id, chosen.code, t, notes=(form.notes.data or "").strip(),
                           callback_at=callback_at, agent_ref=d.agent.id,
                           personal=PERSONAL.get(form.callback_for.data))
        off_team = not teams.on_team(db(), d.agent, d.agent.campaign_id)
        if off_team:  # taken off the campaign's team during the call: the seat leaves the campaign now
            agents.go_offline(db(), d.agent.id, t, teams.OFF_TEAM)
        elif form.then.data == "pause":
            agents.pause(db(), d.agent.id, form.pause_reason.data, t)
        elif form.then.data == "offline":
            agents.go_offline(db(), d.agent.id, t)
        else:
            agents.go_ready(db(), d.agent.id, t)
        db().commit()
    except UserError as e:
        db().rollback()
        target = form.callback_at if "callback" in str(e) else form.code
        target.errors = [*target.errors, sentence(str(e))]
        return seat_page(form, 400)
    then = {"pause": " You are paused.", "offline": " You are logged out of the campaign."}.get(
        form.then.data, " Ready for the next call.")
    if off_team:
        then = f" You are no longer on campaign {d.campaign.name}'s team: you were logged out of it."
    flash(f"Saved: {chosen.label}.{then}", "success")
    return redirect(url_for("agent.seat"))


AFTER_CALL_CHOICES = {"ready": None, "pause": "paused", "offline": "offline"}


@bp.post("/after-call")
@for_the_call_shown()
def after_call():
    """Where the seat goes once this call and its wrap-up are done, said during the call (the disposition form's
    "Then"), so the dialer stops counting on the seat for the next call now (``campaigns.agents.after_call``)."""
    wants_json = request.accept_mimetypes.best_match(["application/json", "text/html"]) == "application/json"
    then = request.form.get("then", "")
    if then not in AFTER_CALL_CHOICES:
        message, ok = "Choose ready, pause or log out for after this call.", False
    else:
        reason = (request.form.get("pause_reason") or "break") if then == "pause" else None
        try:
            after_calls.set_after_call(db(), seat_id(), AFTER_CALL_CHOICES[then], now(), reason)
            db().commit()
            ok = True
        except UserError as e:
            db().rollback()
            message, ok = sentence(str(e)), False
    if ok:
        message = after_call_message(desk(db(), seat_id()).agent)
    if wants_json:
        return (jsonify(message=message), 200) if ok else (jsonify(error=message), 400)
    flash(message, "success" if ok else "error")
    return redirect(url_for("agent.seat"))


@bp.post("/callerid/flag")
@for_the_call_shown()
def flag_caller_id():
    """The customer said the call showed as "Spam Likely": flag the caller ID of the agent's current or last call
    (enough flags retire the number; ``campaigns.callerid.service.flag_number``)."""
    seat = desk(db(), seat_id()).agent
    call = last_call(db(), seat.id)
    if call is None or not call.caller_id:
        flash("There is no call whose caller ID could be flagged.", "error")
        return redirect(url_for("agent.seat"))
    campaign = db().get(Campaign, call.campaign_id)
    return _change(lambda: callerid.flag_number(db(), campaign, call.caller_id, seat.name, now(),
                                                "shown as spam (agent)"),
                   f"Thanks: caller ID {call.caller_id} flagged as spam. Enough flags retire it from the pool.")


def _lead_id() -> int:
    lead_id = as_id(request.form.get("lead_id"))
    if lead_id is None:
        abort(400, "no lead was chosen")
    return lead_id


@bp.post("/preview/dial")
def preview_dial():
    """Dial the previewed lead: the pre-dial gate decides; the worker places the call and bridges it to this seat."""
    lead_id = _lead_id()
    try:
        out = agents_preview.preview_dial(db(), seat_id(), lead_id, now())
        db().commit()
    except UserError as e:
        db().rollback()
        flash(sentence(str(e)), "error")
        return redirect(url_for("agent.seat"))
    if out.call is None:
        flash("Not dialed: " + ", ".join(c.replace("_", " ") for c in out.refused)
              + ". The lead was rescheduled or closed; here is the next one.", "error")
    else:
        flash("Dialing…", "success")
    return redirect(url_for("agent.seat"))


@bp.post("/preview/skip")
def preview_skip():
    """Pass on the previewed lead: it goes back to the queue as it was."""
    lead_id = _lead_id()
    return _change(lambda: agents_preview.preview_skip(db(), seat_id(), lead_id, now()), "Skipped.")


@bp.get("/callbacks")
def callbacks():
    rows = my_callbacks(db(), seat_id(), now())
    return render_template("agent/callbacks.html", rows=rows)


def _my_open_callback(callback_id: int) -> tuple[Callback, str]:
    """One of this agent's own open callbacks (scheduled by them or kept for them) and the zone its lead's times
    are read in; anyone else's is 404, as if it did not exist."""
    mine = {r["id"]: r for r in my_callbacks(db(), seat_id(), now()) if r["open"]}
    if callback_id not in mine:
        abort(404)
    cb = db().get(Callback, callback_id)
    zones = mine[callback_id]["zones"]
    return cb, zones[0] if zones else db().get(Campaign, cb.campaign_id).timezone


@bp.post("/callbacks/<int:callback_id>/move")
def move_callback(callback_id: int):
    """Move one's own callback to another time in the lead's local time; outside the lead's calling window the
    refusal names the window's next opening."""
    cb, zone = _my_open_callback(callback_id)
    form = MoveForm()
    back = redirect(url_for("agent.callbacks"))
    if not form.validate_on_submit():
        flash(" ".join(e for errs in form.errors.values() for e in errs), "error")
        return back
    try:
        new = callbacks_svc.reschedule(db(), cb.id, parse_local(form.at.data, zone), now(), strict=True)
        db().commit()
    except ValidationError as e:
        flash(f"New time: {e}", "error")
    except OutsideWindow as e:
        db().rollback()
        flash(f"{when(parse_local(form.at.data, zone), zone)} is outside the customer's calling hours; the "
              f"earliest allowed time is {when(e.opening, zone)} (the customer's time).", "error")
    except UserError as e:
        db().rollback()
        flash(sentence(str(e)), "error")
    else:
        flash(f"Callback moved to {page_and_lead(new.due_at, console_zone(), zone)}.", "success")
    return back


@bp.post("/callbacks/<int:callback_id>/cancel")
def cancel_callback(callback_id: int):
    """Cancel one's own callback with a reason (the lead goes back to ordinary retries)."""
    cb, _ = _my_open_callback(callback_id)
    form = CancelForm()
    if not form.validate_on_submit():
        flash(" ".join(e for errs in form.errors.values() for e in errs), "error")
    else:
        try:
            callbacks_svc.cancel(db(), cb.id, f"{form.reason.data.strip()} (agent {current_user.username})", now())
            db().commit()
        except UserError as e:
            db().rollback()
            flash(sentence(str(e)), "error")
        else:
            flash(f"Callback cancelled: {form.reason.data.strip()}.", "success")
    return redirect(url_for("agent.callbacks"))
