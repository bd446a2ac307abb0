"""The agent's seat page as it is rendered: the seat's state, the popped lead with its script and history, the call
controls, the disposition form, the wrap-up limit, the preview lead, the caller-ID flag, and the state buttons
(each naming the seat as shown: ``web.seat_call``).

Reads only, apart from a preview lead's hold; the actions are the routes of ``web.agent``.
"""

from __future__ import annotations

from flask import current_app, render_template
from flask_wtf import FlaskForm
from wtforms import SelectField
from wtforms.validators import DataRequired

from campaigns.agents import preview as agents_preview
from campaigns.agents import teams
from campaigns.agents.after_call import after_call_words
from campaigns.agents.desk import desk, dispositions_of, last_call, my_callbacks, unfinished
from campaigns.agents.states import DEFAULT_PAUSE_REASONS
from campaigns.callerid import service as callerid
from campaigns.campaign.dial_settings import settings_of
from campaigns.campaign.models import Campaign
from campaigns.campaign.scripts import get_script, render_script
from dnc.errors import UserError
from web.agent_calls import controls
from web.context import db, now
from web.disposition import PAUSE_LABELS, DispositionForm, late_form
from web.forms import choices
from web.seat_call import as_shown, seat_id, seat_now


class StartForm(FlaskForm):
    campaign = SelectField("Campaign", validate_choice=False, validators=[DataRequired("Choose a campaign.")])


class PauseForm(FlaskForm):
    reason = SelectField("Reason", choices=choices((r, PAUSE_LABELS.get(r, r)) for r in DEFAULT_PAUSE_REASONS))


def lead_zone(d) -> str:
    """The zone a callback time is read in: the lead's own (its first candidate zone), else the campaign's."""
    zones = d.lead.zone_list if d.lead is not None else []
    return zones[0] if zones else (d.campaign.timezone if d.campaign else "America/New_York")


def seat_page(form: DispositionForm | None = None, status: int = 200, offer: dict | None = None,
              late: DispositionForm | None = None):
    """The seat as it is now; ``form`` is a disposition form sent back with its errors (``status`` 400), ``offer``
    the calling window's next opening when the callback's time was outside it (``web.disposition``); ``late`` the
    form of a call left without a disposition sent back so (``web.agent_unfinished``: the offer is then its)."""
    d = desk(db(), seat_id())
    start = StartForm()
    camps = teams.offered(db(), d.agent)  # active campaigns whose team this seat is on (or open to everyone)
    start.campaign.choices = choices((str(c.id), c.name) for c in camps)
    if d.agent.campaign_id and not start.campaign.data and any(c.id == d.agent.campaign_id for c in camps):
        start.campaign.data = str(d.agent.campaign_id)
    dform = form or DispositionForm(formdata=None)
    if form is None and d.campaign is not None:  # the campaign's default: personal or shared callbacks
        dform.callback_for.data = "personal" if settings_of(db(), d.campaign.id).callbacks_personal else "anyone"
    dform.code.choices = choices((x.code, x.label) for x in d.dispositions)
    if form is None and d.agent.after_call is not None:  # what the agent said during the call: "Then" shows it
        dform.then.data = "pause" if d.agent.after_call == "paused" else d.agent.after_call
        if d.agent.after_call_reason in PAUSE_LABELS:
            dform.pause_reason.data = d.agent.after_call_reason
    if d.call is not None:  # the notes are the call's draft in the tab (static/js/agent.js)
        dform.notes.render_kw = {**(dform.notes.render_kw or {}), "data-draft": d.call.id}
    left = _unfinished(d, late, offer)
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
                           wrap_limit=_wrap_limit(d), offer=None if late else offer, left=left,
                           drafts=" ".join(str(x["call"].id) for x in left) + (f" {d.call.id}" if d.call else ""),
                           calls=controls(d),
                           zone=lead_zone(d), times_in=d.campaign.timezone if d.campaign else None,
                           phone=phone, due=due, now=now(), preview=_preview(d),
                           shown=_flaggable(d.agent.id), seat_shown=as_shown(*seat_now(d.agent.id)),
                           after_call=after_call_message(d.agent) if d.agent.after_call else None,
                           poll_s=current_app.config["AGENT_POLL_SECONDS"]), status


def after_call_message(agent) -> str:
    """What the seat said it does after this call, as the page confirms it."""
    words = after_call_words(agent)
    if agent.state not in ("talking", "wrap"):
        return f"You are {agent.state}." if agent.state != "paused" else "You are paused."
    if words is None:
        return "After this call you are ready for the next one."
    return f"After this call you {words}: the dialer no longer counts on you for the next call."


def _unfinished(d, late: DispositionForm | None, offer: dict | None) -> list[dict]:
    """The calls this seat left without a disposition (``campaigns.agents.desk.unfinished``), each with its own
    form (``late`` for the one it was sent for, with the window's ``offer``) and the zone its callback time is read
    in (the lead's own)."""
    out = []
    for call, lead in unfinished(db(), d.agent.id, now()):
        form = late if late is not None and getattr(late, "call_id", None) == call.id else late_form(call.id)
        if form is not late:
            personal = settings_of(db(), call.campaign_id).callbacks_personal
            form.callback_for.data = "personal" if personal else "anyone"
        form.code.choices = choices((x.code, x.label) for x in dispositions_of(db(), call.campaign_id))
        form.notes.render_kw = {**(form.notes.render_kw or {}), "data-draft": call.id}
        zones = lead.zone_list
        name = f"{lead.first_name} {lead.last_name}".strip()
        out.append({"call": call, "lead": lead, "name": name or call.phone, "form": form,
                    "offer": offer if form is late else None,
                    "zone": zones[0] if zones else db().get(Campaign, call.campaign_id).timezone})
    return out


def _wrap_limit(d) -> dict | None:
    """The campaign's wrap-up limit as the seat states it: the limit, where the seat goes after it, and (in wrap-up)
    the seconds left, which the page counts down at the clock's speed (``campaigns.agents.wrap`` moves the seat)."""
    c = d.campaign
    if c is None or c.wrap_limit_s is None or d.agent.simulated or d.call is None:
        return None
    then = "your seat is paused" if c.wrap_limit_then == "paused" else "you go ready for the next call"
    if d.agent.after_call == "offline":  # what the agent said for after this call wins (``wrap.end_overdue_wraps``)
        then = "you are logged out"
    elif d.agent.after_call == "paused":
        then = "your seat is paused"
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


def _flaggable(agent_id: int):
    """The agent's current or last call when the caller ID it showed is a pool number (only those can be flagged)."""
    call = last_call(db(), agent_id)
    if call is None or not call.caller_id:
        return None
    return call if any(n.number == call.caller_id for n in callerid.pool(db(), call.campaign_id)) else None
