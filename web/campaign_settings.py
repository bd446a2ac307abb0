"""A campaign's dialing settings for its manager (power ratio, retry delays, line cap, answering machines, attempts,
calling hours and days, abandon target, wrap-up limit) and the history of every change.

The fields, their parsing, units and refusals are ``campaigns.campaign.dialing``'s, shared with
``dialer campaigns set``: a refusal names the field's label and is shown under that field.
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import SelectField, StringField, TextAreaField
from wtforms.validators import Length

from campaigns.campaign import dialing
from campaigns.campaign.history import changes
from campaigns.campaign.models import Campaign
from dnc.errors import UserError
from web.context import db, now
from web.forms import choices, has_errors, sentence

bp = Blueprint("settings", __name__, url_prefix="/campaigns/<int:campaign_id>/settings")

# (heading, keys) in the order the form shows them
GROUPS = (
    ("Pace and lines", ("power_ratio", "line_cap", "abandon_target")),
    ("Attempts and retries", ("max_attempts", "retry_no_answer", "retry_busy", "retry_machine")),
    ("Calling hours", ("calling_hours", "calling_days")),
    ("Answering machines", ("machine_action", "voicemail_message")),
    ("Agents", ("wrap_limit", "wrap_then")),
)
PLACEHOLDERS = {"power_ratio": "2", "line_cap": "no cap", "abandon_target": "3", "max_attempts": "5",
                "retry_no_answer": "4:00", "retry_busy": "0:30", "retry_machine": "6:00",
                "calling_hours": "the legal window, or e.g. 09:00-20:00", "calling_days": "mon-fri",
                "wrap_limit": "no limit"}


def _field(f: dialing.Field):
    label = f"{f.label} ({f.unit})" if f.unit and f.unit not in ("", "attempts") else f.label
    if f.choices:
        return SelectField(label, choices=choices(f.choices.items()))
    if f.key == "voicemail_message":
        return TextAreaField(label, validators=[Length(max=1000, message="Voicemail message: at most 1,000 "
                                                                          "characters.")], render_kw={"rows": 3})
    return StringField(label, render_kw={"placeholder": PLACEHOLDERS.get(f.key, "")})


SettingsForm = type("SettingsForm", (FlaskForm,), {f.key: _field(f) for f in dialing.FIELDS})


def _campaign(campaign_id: int) -> Campaign:
    campaign = db().get(Campaign, campaign_id)
    if campaign is None:
        abort(404)
    return campaign


def _attach(form: FlaskForm, error: UserError) -> None:
    text = str(error)
    for f in sorted(dialing.FIELDS, key=lambda f: -len(f.label)):
        if text.startswith(f.label + ":"):
            form[f.key].errors = [*form[f.key].errors, sentence(text)]
            return
    form.form_errors.append(sentence(text))


@bp.route("/", methods=["GET", "POST"])
def edit(campaign_id: int):
    campaign = _campaign(campaign_id)
    form = SettingsForm(data=dialing.editable(campaign) if request.method == "GET" else None)
    if form.validate_on_submit():
        texts = {f.key: form[f.key].data or "" for f in dialing.FIELDS}
        try:
            changed = dialing.apply(db(), campaign, texts, current_user.username, now())
            db().commit()
        except UserError as e:
            db().rollback()
            _attach(form, e)
        else:
            labels = [dialing.BY_KEY[k].label.lower() for k in changed]
            flash(f"Saved {', '.join(labels)}; the dialer uses it from its next turn." if changed
                  else "Nothing changed.", "success")
            return redirect(url_for("settings.edit", campaign_id=campaign.id))
    return render_template("settings/edit.html", campaign=campaign, form=form, groups=GROUPS, fields=dialing.BY_KEY,
                           shown=dialing.shown(campaign), history=changes(db(), campaign.id, limit=50)), \
        400 if has_errors(form) else 200
