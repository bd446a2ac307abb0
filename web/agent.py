"""The agent's seat: log in to a campaign, ready / pause with a reason, the popped lead (name, number, custom
fields, history, script) when a call connects, hang up, disposition with the wrap timer, and own callbacks (moved
or cancelled by their agent).

A signed-in agent drives one seat (``users.agent_id``); a person can take over a simulated seat this way. State
changes and dispositions are ``campaigns.agents.service`` services; the page polls ``/agent/state`` and reloads itself
when the seat changes (a call pops, the call ends).
"""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, jsonify, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import RadioField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from campaigns.agents import preview as agents_preview
from campaigns.agents import service as agents
from campaigns.agents import teams
from campaigns.agents import transfer as transfers
from campaigns.agents.desk import desk, last_call, my_callbacks
from campaigns.agents.states import DEFAULT_PAUSE_REASONS
from campaigns.callbacks import service as callbacks_svc
from campaigns.callbacks.models import Callback
from campaigns.callbacks.service import OutsideWindow
from campaigns.callerid import service as callerid
from campaigns.campaign.dial_settings import settings_of
from campaigns.campaign.models import Campaign
from campaigns.campaign.scripts import get_script, render_script
from dnc.errors import UserError
from web.agent_calls import controls
from web.callbacks import CancelForm, MoveForm, parse_local
from web.context import db, now
from web.filters import console_zone, page_and_lead, when
from web.forms import as_id, choices, sentence
from web.seat_call import as_shown, for_the_call_shown, for_the_seat_shown, seat_now

bp = Blueprint("agent", __name__, url_prefix="/agent")
PAUSE_LABELS = {"break": "Break", "lunch": "Lunch", "training": "Training", "meeting": "Meeting",
                "coaching": "Coaching", "technical": "Technical problem", "other": "Other"}


PERSONAL = {"personal": True, "anyone": False}  # the callback choice; none sent: the campaign's setting


class StartForm(FlaskForm):
    campaign = SelectField("Campaign", validate_choice=False, validators=[DataRequired("Choose a campaign.")])


class PauseForm(FlaskForm):
    reason = SelectField("Reason", choices=choices((r, PAUSE_LABELS.get(r, r)) for r in DEFAULT_PAUSE_REASONS))


class DispositionForm(FlaskForm):
    code = RadioField("Disposition", validate_choice=False, validators=[DataRequired("Choose a disposition.")])
    callback_at = StringField("Callback at", validators=[Optional()], render_kw={"type": "datetime-local"})
    callback_for = RadioField("The callback is for", validate_choice=False,
                              choices=choices([("personal", "personal (only me)"),
                                               ("anyone", "anyone on the campaign")]))

    def validate_callback_for(self, field) -> None:
        if field.data not in (None, "", "personal", "anyone"):
            raise ValidationError("Choose personal (only me) or anyone on the campaign.")
    notes = TextAreaField("Notes", validators=[Optional(), Length(max=4000)], render_kw={"rows": 3})
    then = SelectField("Then", choices=choices([("ready", "Ready for the next call"), ("pause", "Pause")]),
                       default="ready")
    pause_reason = SelectField("Pause reason", default="break",
                               choices=choices((r, PAUSE_LABELS.get(r, r)) for r in DEFAULT_PAUSE_REASONS))

    def validate_callback_at(self, field) -> None:
        if field.data:
            parse_local(field.data, "UTC")  # the same refusals as moving a callback (the zone is the lead's, below)


def _agent_id() -> int:
    if current_user.agent_id is None:
        abort(403, "this user has no agent seat")
    return current_user.agent_id


def lead_zone(d) -> str:
    """The zone a callback time is read in: the lead's own (its first candidate zone), else the campaign's."""
    zones = d.lead.zone_list if d.lead is not None else []
    return zones[0] if zones else (d.campaign.timezone if d.campaign else "America/New_York")


def _page(form: DispositionForm | None = None, status: int = 200):
    d = desk(db(), _agent_id())
    start = StartForm()
    camps = teams.offered(db(), d.agent)  # active campaigns whose team this seat is on (or open to everyone)
    start.campaign.choices = choices((str(c.id), c.name) for c in camps)
    if d.agent.campaign_id and not start.campaign.data and any(c.id == d.agent.campaign_id for c in camps):
        start.campaign.data = str(d.agent.campaign_id)
    dform = form or DispositionForm(formdata=None)
    if form is None and d.campaign is not None:  # the campaign's default: personal or shared callbacks
        dform.callback_for.data = "personal" if settings_of(db(), d.campaign.id).callbacks_personal else "anyone"
    dform.code.choices = choices((x.code, x.label) for x in d.dispositions)
    script = ""
    if d.call is not None and d.campaign is not None:
        lead = d.lead
        values = {"first_name": lead.first_name if lead else "", "last_name": lead.last_name if lead else "",
                  "name": f"{lead.first_name} {lead.last_name}".strip() if lead else "", "phone": d.call.phone,
                  "state": (lead.state or "") if lead else "", "agent": d.agent.name,
                  "seller": d.campaign.seller_name or d.campaign.name, "campaign": d.campaign.name,
                  "callback_number": d.campaign.callback_number or d.campaign.caller_id}
        script = render_script(get_script(db(), d.campaign.id), values, lead.custom if lead else None)
    tw = current_app.extensions.get("twilio")
    phone = bool(tw and tw.config is not None and tw.config.can_issue_tokens)
    due = sum(1 for c in my_callbacks(db(), d.agent.id, now()) if c["status"] == "due")
    pause_form = PauseForm(formdata=None)
    if d.agent.state == "paused" and d.agent.state_reason in PAUSE_LABELS:
        pause_form.reason.data = d.agent.state_reason  # the select shows the reason in force
    return render_template("agent/seat.html", d=d, start=start, pause=pause_form, dform=dform, script=script,
                           wrap_limit=_wrap_limit(d),
                           calls=controls(d),
                           zone=lead_zone(d), times_in=d.campaign.timezone if d.campaign else None,
                           phone=phone, due=due, now=now(), preview=_preview(d),
                           shown=_flaggable(d.agent.id), seat_shown=as_shown(*seat_now(d.agent.id)),
                           poll_s=current_app.config["AGENT_POLL_SECONDS"]), status


def _wrap_limit(d) -> dict | None:
    """The campaign's wrap-up limit as the seat states it: the limit, where the seat goes after it, and (in wrap-up)
    the seconds left, which the page counts down at the clock's speed (``campaigns.agents.wrap`` moves the seat)."""
    c = d.campaign
    if c is None or c.wrap_limit_s is None or d.agent.simulated or d.call is None:
        return None
    then = "your seat is paused" if c.wrap_limit_then == "paused" else "you go ready for the next call"
    left = None
    if d.agent.state == "wrap" and d.agent.state_since is not None:
        left = max(0.0, c.wrap_limit_s - (now() - d.agent.state_since).total_seconds())
    return {"seconds": c.wrap_limit_s, "then": then, "left": left}


def _preview(d):
    """In a preview campaign, a ready agent without a call sees the next lead (held for them) and chooses."""
    if d.call is not None or d.campaign is None or d.campaign.pacing_mode != "preview" or d.agent.state != "ready":
        return None
    try:
        lead = agents_preview.preview_next(db(), d.agent.id, now())
        db().commit()  # the hold, so no one else takes the lead while this agent reads it
    except UserError:
        db().rollback()
        return None
    return {"lead": lead} if lead is not None else {"lead": None}


@bp.get("/")
def seat():
    return _page()


@bp.get("/state")
def state():
    """What the seat is doing now (the page reloads when this changes)."""
    a = desk(db(), _agent_id()).agent
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
    return _change(lambda: teams.join(db(), agents.get_agent(db(), _agent_id(), lock=True), campaign, now()),
                   f"You are ready on {campaign.name}: calls come in by themselves.")


@bp.post("/ready")
@for_the_seat_shown()
def ready():
    def go():
        agent = agents.get_agent(db(), _agent_id(), lock=True)
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
    return _change(lambda: agents.pause(db(), _agent_id(), form.reason.data, now()),
                   f"Paused ({PAUSE_LABELS.get(form.reason.data, form.reason.data).lower()}): no calls come in.")


@bp.post("/offline")
@for_the_seat_shown()
def offline():
    return _change(lambda: agents.go_offline(db(), _agent_id(), now()), "You are logged out of the campaign.")


@bp.post("/hangup")
@for_the_call_shown()
def hangup():
    if transfers.consulting_on(db(), _agent_id()) is not None:
        flash("You were asked to consult on a colleague's call: they complete or cancel the transfer.", "error")
        return redirect(url_for("agent.seat"))
    return _change(lambda: agents.end_call(db(), _agent_id(), now()), "Call ended: disposition it.")


@bp.post("/disposition")
@for_the_call_shown("That form was for your previous call, whose disposition is already saved: nothing was recorded "
                    "for the call you are on now. Choose this call's disposition below.")
def disposition():
    """Record the disposition of the seat's call (ending it first if still talking), then ready or pause."""
    form = DispositionForm()
    d = desk(db(), _agent_id())
    form.code.choices = choices((x.code, x.label) for x in d.dispositions)
    if d.call is None:
        flash("There is no call to disposition.", "error")
        return redirect(url_for("agent.seat"))
    if not form.validate_on_submit():
        return _page(form, 400)
    chosen = next((x for x in d.dispositions if x.code == form.code.data), None)
    if chosen is None:
        form.code.errors = ["Choose one of the dispositions shown."]
        return _page(form, 400)
    callback_at = None
    if form.callback_at.data:
        callback_at = parse_local(form.callback_at.data, lead_zone(d))
    if chosen.is_callback and callback_at is None:
        form.callback_at.errors = ["A callback needs the date and time agreed with the customer."]
        return _page(form, 400)
    t = now()
    try:
        if d.agent.state == "talking":
            agents.end_call(db(), d.agent.id, t)
        agents.disposition(db(), d.call.id, chosen.code, t, notes=(form.notes.data or "").strip(),
                           callback_at=callback_at if chosen.is_callback else None, agent_ref=d.agent.id,
                           personal=PERSONAL.get(form.callback_for.data))
        off_team = not teams.on_team(db(), d.agent, d.agent.campaign_id)
        if off_team:  # taken off the campaign's team during the call: the seat leaves the campaign now
            agents.go_offline(db(), d.agent.id, t, teams.OFF_TEAM)
        elif form.then.data == "pause":
            agents.pause(db(), d.agent.id, form.pause_reason.data, t)
        else:
            agents.go_ready(db(), d.agent.id, t)
        db().commit()
    except UserError as e:
        db().rollback()
        target = form.callback_at if "callback" in str(e) else form.code
        target.errors = [*target.errors, sentence(str(e))]
        return _page(form, 400)
    then = " You are paused." if form.then.data == "pause" else " Ready for the next call."
    if off_team:
        then = f" You are no longer on campaign {d.campaign.name}'s team: you were logged out of it."
    flash(f"Saved: {chosen.label}.{then}", "success")
    return redirect(url_for("agent.seat"))


def _flaggable(agent_id: int):
    """The agent's current or last call when the caller ID it showed is a pool number (only those can be flagged)."""
    call = last_call(db(), agent_id)
    if call is None or not call.caller_id:
        return None
    return call if any(n.number == call.caller_id for n in callerid.pool(db(), call.campaign_id)) else None


@bp.post("/callerid/flag")
@for_the_call_shown()
def flag_caller_id():
    """The customer said the call showed as "Spam Likely": flag the caller ID of the agent's current or last call
    (enough flags retire the number; ``campaigns.callerid.service.flag_number``)."""
    seat = desk(db(), _agent_id()).agent
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
        out = agents_preview.preview_dial(db(), _agent_id(), lead_id, now())
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
    return _change(lambda: agents_preview.preview_skip(db(), _agent_id(), lead_id, now()), "Skipped.")


@bp.get("/callbacks")
def callbacks():
    rows = my_callbacks(db(), _agent_id(), now())
    return render_template("agent/callbacks.html", rows=rows)


def _my_open_callback(callback_id: int) -> tuple[Callback, str]:
    """One of this agent's own open callbacks (scheduled by them or kept for them) and the zone its lead's times
    are read in; anyone else's is 404, as if it did not exist."""
    mine = {r["id"]: r for r in my_callbacks(db(), _agent_id(), now()) if r["open"]}
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
