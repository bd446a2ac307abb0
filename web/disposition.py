"""The disposition form of the agent's seat: how the call ended, a callback's time in the customer's own clock and
whom it is for, the notes, and where the seat goes next (ready or paused with a reason).

Its own module because it is the part of the seat an agent fills in under time pressure, with its own checks.
The notes typed before saving are a draft the page keeps in the tab's storage, keyed by the call
(``static/js/agent.js`` says why there and not on the server): they survive the page's reloads, never the call.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from flask import request
from flask_wtf import FlaskForm
from wtforms import RadioField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from campaigns.agents.states import DEFAULT_PAUSE_REASONS
from campaigns.callbacks import service as callbacks
from campaigns.callbacks.service import OutsideWindow
from campaigns.campaign.models import Campaign, Disposition
from campaigns.leads.models import Lead
from web.callbacks import parse_local
from web.filters import when
from web.forms import choices

PAUSE_LABELS = {"break": "Break", "lunch": "Lunch", "training": "Training", "meeting": "Meeting",
                "coaching": "Coaching", "technical": "Technical problem", "other": "Other"}
PERSONAL = {"personal": True, "anyone": False}  # the callback choice; none sent: the campaign's setting
OFFER = "callback_offer"  # the button that saves with the window's next opening offered instead of the time typed


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
    then = SelectField("Then", choices=choices([("ready", "Ready for the next call"), ("pause", "Pause"),
                                                ("offline", "Log out")]),
                       default="ready")
    pause_reason = SelectField("Pause reason", default="break",
                               choices=choices((r, PAUSE_LABELS.get(r, r)) for r in DEFAULT_PAUSE_REASONS))

    def validate_callback_at(self, field) -> None:
        if field.data:
            parse_local(field.data, "UTC")  # the same refusals as moving a callback (the zone is the lead's, below)


def late_form(call_id: int, posted: bool = False) -> DispositionForm:
    """The form of a call the seat left without a disposition (``web.agent_unfinished``): its fields prefixed by the
    call, so it sits beside the seat's own form with ids and labels of its own; ``posted``: as the request sent it."""
    prefix = f"call{call_id}"
    form = DispositionForm(prefix=prefix) if posted else DispositionForm(formdata=None, prefix=prefix)
    form.call_id = call_id
    return form


def callback_time(form: DispositionForm, chosen: Disposition, lead: Lead | None, campaign: Campaign | None,
                  zone: str) -> tuple[datetime | None, tuple[int, dict | None] | None]:
    """The callback's time (UTC) as the form gives it in the customer's ``zone``, and None; or, when the form must go
    back to the agent, the status and the opening to offer: 400 when a callback has no time, 200 when the time is
    outside the customer's calling window (a choice to make, not a mistake: nothing was saved)."""
    callback_at = parse_local(form.callback_at.data, zone) if form.callback_at.data else None
    if chosen.is_callback and callback_at is None:
        form.callback_at.errors = ["A callback needs the date and time agreed with the customer."]
        return None, (400, None)
    if chosen.is_callback and lead is not None:
        offer = outside_window(form, lead, campaign, callback_at, zone)
        if offer is not None:
            return None, (200, offer)
    return (callback_at if chosen.is_callback else None), None


def take_offer(form: DispositionForm) -> None:
    """The agent chose the opening offered (its button sends it): it becomes the callback's time."""
    offered = request.form.get(OFFER, "").strip()
    if offered:
        form.callback_at.data = offered


def outside_window(form: DispositionForm, lead: Lead, campaign: Campaign | None, at: datetime, zone: str
                   ) -> dict | None:
    """None when the customer may be called at ``at``; else the refusal, set on the callback's field, and the
    opening to offer. The rule is the manager's (``campaigns.callbacks.service.check_in_window``): an agent
    promising a time the dialer would not keep is told at once, while the customer is still there to agree another."""
    try:
        callbacks.check_in_window(lead, at, campaign)
    except OutsideWindow as e:
        form.callback_at.errors = [*form.callback_at.errors,
                                   f"{when(at, zone)} is outside the customer's calling hours; the earliest allowed "
                                   f"time is {when(e.opening, zone)} (the customer's time)."]
        return {"at": e.opening.astimezone(ZoneInfo(zone)).strftime("%Y-%m-%dT%H:%M"), "label": when(e.opening, zone)}
    return None
