"""The callback queue of a campaign for its manager: due now, waiting, missed (the visible queue), recently
cancelled with their reason, fired; move, cancel or reassign an open callback.

Times are shown and entered in the lead's local time (its first candidate zone, else the campaign's). A move to a
time outside the lead's calling window is refused by ``campaigns.callbacks.service.reschedule(strict=True)``; the page
says so and offers the window's next opening as a one-click move.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_wtf import FlaskForm
from wtforms import SelectField, StringField
from wtforms.validators import DataRequired, Length, ValidationError

from campaigns.callbacks import service as callbacks
from campaigns.callbacks.models import Callback
from campaigns.callbacks.service import REPLACED, OutsideWindow
from campaigns.campaign.models import Campaign
from campaigns.leads.models import Lead
from dnc.errors import UserError
from web.context import db, now
from web.filters import page_and_lead, when
from web.forms import as_id, sentence

bp = Blueprint("callbacks", __name__, url_prefix="/campaigns/<int:campaign_id>/callbacks")
RECENT = 50  # closed callbacks listed per section
ANYONE = "anyone"
# (key, heading, what it means) in the order the page shows them: what needs a person first
SECTIONS = (("missed", "Missed", "not dialed long after they were due: move, reassign or cancel them"),
            ("due", "Due now", "their time has come; the dialer calls them inside the lead's window"),
            ("waiting", "Waiting", "scheduled for later"),
            ("cancelled", "Recently cancelled", "with the reason (a do-not-call request cancels them by itself)"),
            ("fired", "Recently dialed", "the dialer placed the call"))


def parse_local(raw: str, zone: str) -> datetime:
    """A ``datetime-local`` value read in ``zone``; a clear refusal naming the field otherwise."""
    try:
        local = datetime.fromisoformat((raw or "").strip())
    except ValueError:
        raise ValidationError("Give a date and time, e.g. 2030-01-09 17:30.") from None
    if not 2000 <= local.year <= 2999:  # the year 9999 overflows on its way to UTC; no callback is that far off
        raise ValidationError(f"{local:%Y-%m-%d}: give a date in the years 2000 to 2999.")
    return local.replace(tzinfo=ZoneInfo(zone)) if local.tzinfo is None else local


class MoveForm(FlaskForm):
    at = StringField("New time (lead's local time)", validators=[DataRequired("Give the new date and time.")],
                     render_kw={"type": "datetime-local"})


class CancelForm(FlaskForm):
    reason = StringField("Reason", validators=[DataRequired("Say why the callback is cancelled."),
                                               Length(max=200, message="At most 200 characters.")])


class AssignForm(FlaskForm):
    to = SelectField("For", validate_choice=False, validators=[DataRequired("Choose who takes the callback.")])


def _campaign(campaign_id: int) -> Campaign:
    campaign = db().get(Campaign, campaign_id)
    if campaign is None:
        abort(404)
    return campaign


def _callback(campaign: Campaign, callback_id: int) -> tuple[Callback, str]:
    """The callback (404 unless it belongs to the campaign) and the zone its lead's times are read in."""
    cb = db().get(Callback, callback_id)
    if cb is None or cb.campaign_id != campaign.id:
        abort(404)
    zones = db().get(Lead, cb.lead_id).zone_list
    return cb, zones[0] if zones else campaign.timezone


def _sections(campaign: Campaign) -> dict[str, list]:
    t, s, cid = now(), db(), campaign.id
    cancelled = [r for r in callbacks.queue(s, cid, ("cancelled",), limit=4 * RECENT, recent=True)
                 if r.reason != REPLACED][:RECENT]  # a moved callback's old row is not news
    return {"missed": callbacks.queue(s, cid, ("missed",)),
            "due": callbacks.queue(s, cid, ("pending",), now=t, due=True),
            "waiting": callbacks.queue(s, cid, ("pending",), now=t, due=False),
            "cancelled": cancelled, "fired": callbacks.queue(s, cid, ("fired",), limit=RECENT, recent=True)}


def _page(campaign: Campaign, status: int = 200, offer: dict | None = None):
    return render_template("callbacks/index.html", campaign=campaign, tallies=callbacks.tallies(db(), campaign.id,
                                                                                               now()),
                           sections=_sections(campaign), headings=SECTIONS, offer=offer, anyone=ANYONE,
                           agents=callbacks.assignable_agents(db(), campaign.id)), status


@bp.get("/")
def index(campaign_id: int):
    return _page(_campaign(campaign_id))


def _refused(campaign: Campaign, message: str):
    flash(sentence(message), "error")
    return redirect(url_for("callbacks.index", campaign_id=campaign.id))


def _apply(campaign: Campaign, form: FlaskForm, change, cb: Callback, zone: str):
    """Validate ``form``, run ``change`` (returns the message to flash) and commit; any refusal is flashed, except a
    time outside the window, which is answered with the page offering the opening (200: a choice, not an error)."""
    if not form.validate_on_submit():
        return _refused(campaign, " ".join(e for errs in form.errors.values() for e in errs))
    try:
        done = change()
        db().commit()
    except ValidationError as e:
        return _refused(campaign, f"new time: {e}")
    except OutsideWindow as e:
        db().rollback()
        local = e.opening.astimezone(ZoneInfo(zone))
        message = (f"{when(parse_local(form.at.data, zone), zone)} is outside the lead's calling window; it next "
                   f"opens {when(e.opening, zone)} (the lead's time).")
        return _page(campaign, 200, {"callback_id": cb.id, "message": message,
                                     "at": local.strftime("%Y-%m-%dT%H:%M"), "label": when(e.opening, zone)})
    except UserError as e:
        db().rollback()
        return _refused(campaign, str(e))
    flash(done, "success")
    return redirect(url_for("callbacks.index", campaign_id=campaign.id))


@bp.post("/<int:callback_id>/move")
def move(campaign_id: int, callback_id: int):
    """Move an open callback to a time in the lead's local time; outside the window, offer the next opening."""
    campaign = _campaign(campaign_id)
    cb, zone = _callback(campaign, callback_id)
    form = MoveForm()

    def change() -> str:
        new = callbacks.reschedule(db(), cb.id, parse_local(form.at.data, zone), now(), strict=True)
        return f"Callback moved to {page_and_lead(new.due_at, campaign.timezone, zone)}."

    return _apply(campaign, form, change, cb, zone)


@bp.post("/<int:callback_id>/cancel")
def cancel(campaign_id: int, callback_id: int):
    campaign = _campaign(campaign_id)
    cb, zone = _callback(campaign, callback_id)
    form = CancelForm()

    def change() -> str:
        callbacks.cancel(db(), cb.id, form.reason.data, now())
        return f"Callback {cb.id} cancelled: {form.reason.data.strip()}."

    return _apply(campaign, form, change, cb, zone)


@bp.post("/<int:callback_id>/assign")
def assign(campaign_id: int, callback_id: int):
    """Personal to one agent, or for anyone on the campaign; the time stays."""
    campaign = _campaign(campaign_id)
    cb, zone = _callback(campaign, callback_id)
    form = AssignForm()

    def change() -> str:
        to = form.to.data
        if to != ANYONE and as_id(to) is None:
            raise UserError(f"for: choose an agent or {ANYONE}, got {to!r}")
        callbacks.assign(db(), cb.id, None if to == ANYONE else as_id(to), now())
        return f"Callback {cb.id} is now {'for anyone on the campaign' if to == ANYONE else 'personal'}."

    return _apply(campaign, form, change, cb, zone)
