"""A campaign's caller-ID pool for its manager: each number's state and cap with its health (dials today against
the cap, 7-day dials and answer rate, spam flags), add numbers, flag one as spam, retire or restore one.

The rules (E.164, caps, the spam threshold that retires a number) are ``campaigns.callerid.service``'s; adding several
numbers is all or nothing, the refusal naming the number that failed.
"""

from __future__ import annotations

import re

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import IntegerField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from campaigns.callerid import service as callerid
from campaigns.campaign.dial_settings import settings_of
from campaigns.campaign.models import Campaign
from dnc.errors import UserError
from web.context import db, now
from web.forms import InRange, has_errors, sentence

bp = Blueprint("callerid", __name__, url_prefix="/campaigns/<int:campaign_id>/callerid")


class AddForm(FlaskForm):
    numbers = TextAreaField("Numbers", validators=[DataRequired("Enter at least one number."), Length(max=20_000)],
                            render_kw={"rows": 3, "placeholder": "+13125550100\n+13125550101"})
    daily_cap = IntegerField("Dials per day for these numbers", validators=[
        Optional(), InRange(1, 10_000, "Between 1 and 10000.")], render_kw={"placeholder": "campaign default"})


class NumberForm(FlaskForm):
    number = StringField("Number", validators=[DataRequired("Choose a number.")])


class ReasonForm(NumberForm):
    reason = StringField("Reason", validators=[DataRequired("Give the reason."),
                                               Length(max=200, message="At most 200 characters.")])


def _campaign(campaign_id: int) -> Campaign:
    campaign = db().get(Campaign, campaign_id)
    if campaign is None:
        abort(404)
    return campaign


def _page(campaign: Campaign, form: AddForm, status: int = 200):
    s = settings_of(db(), campaign.id)
    rows = callerid.health(db(), campaign, now())  # reads only: no answer-rate floor is applied here
    return render_template("callerid/index.html", campaign=campaign, form=form, rows=rows, settings=s), status


@bp.get("/")
def index(campaign_id: int):
    return _page(_campaign(campaign_id), AddForm(formdata=None))


@bp.post("/add")
def add(campaign_id: int):
    """Add every number given, or none of them."""
    campaign = _campaign(campaign_id)
    form = AddForm()
    if form.validate_on_submit():
        numbers = [n.strip() for n in re.split(r"[\n,;]+", form.numbers.data or "") if n.strip()]
        try:
            rows = [callerid.add_number(db(), campaign, n, now(), form.daily_cap.data) for n in numbers]
            db().commit()
        except UserError as e:
            db().rollback()
            form.numbers.errors = [f"{sentence(str(e))} Nothing was added."]
        else:
            flash(f"Added {', '.join(r.number for r in rows)} to the pool.", "success")
            return redirect(url_for("callerid.index", campaign_id=campaign.id))
    return _page(campaign, form, 400 if has_errors(form) else 200)


def _change(campaign: Campaign, form: NumberForm, action, done: str):
    if not form.validate_on_submit():
        flash(" ".join(e for errs in form.errors.values() for e in errs), "error")
        return redirect(url_for("callerid.index", campaign_id=campaign.id))
    try:
        row = action(form.number.data.strip(), (form.reason.data or "").strip() if "reason" in form else "")
        db().commit()
    except UserError as e:
        db().rollback()
        flash(sentence(str(e)), "error")
    else:
        flash(done.format(number=row.number, state="active" if row.active else f"retired ({row.retired_reason})"),
              "success")
    return redirect(url_for("callerid.index", campaign_id=campaign.id))


@bp.post("/flag")
def flag(campaign_id: int):
    """A manager saw the number shown as spam; enough flags retire it (the campaign's threshold)."""
    campaign = _campaign(campaign_id)
    return _change(campaign, ReasonForm(), lambda number, reason: callerid.flag_number(
        db(), campaign, number, current_user.username, now(), reason),
        "{number} flagged as spam; it is {state}.")


@bp.post("/retire")
def retire(campaign_id: int):
    campaign = _campaign(campaign_id)
    return _change(campaign, ReasonForm(), lambda number, reason: callerid.set_active(
        db(), campaign, number, False, now(), reason), "{number} is {state}.")


@bp.post("/restore")
def restore(campaign_id: int):
    """Back into service; its earlier flags stay as history and no longer count towards the threshold."""
    campaign = _campaign(campaign_id)
    return _change(campaign, NumberForm(), lambda number, _: callerid.set_active(db(), campaign, number, True, now()),
                   "{number} is {state} again; its earlier spam flags no longer count.")
