"""A campaign's lead strategy, callback and abandon-alert settings for its manager: everything
``dialer campaigns strategy`` sets, in one form grouped by what it steers, each with a line of help.

Validation is the service's (``campaigns.campaign.dial_settings.update`` and
``campaigns.callerid.service.configure``): its refusal is shown under the field it names, word for word, so the
console and the CLI say the same thing.
"""

from __future__ import annotations

import re
from decimal import Decimal

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_wtf import FlaskForm
from wtforms import BooleanField, DecimalField, IntegerField, SelectField, StringField
from wtforms.validators import InputRequired, Length, Optional

from campaigns.alerts import service as abandon_alerts
from campaigns.callerid.service import configure
from campaigns.campaign import dial_settings
from campaigns.campaign.dial_settings import DAY_S
from campaigns.campaign.dialing import hm, parse_hm
from campaigns.campaign.models import Campaign
from dnc.errors import UserError
from web.context import db, now
from web.forms import choices, has_errors

bp = Blueprint("strategy", __name__, url_prefix="/campaigns/<int:campaign_id>/strategy")

ORDER_LABELS = {"due": "Longest waiting first", "oldest": "Oldest loaded first", "newest": "Newest loaded first",
                "follow_sun": "Follow the sun (zones whose window closes first)"}
POOL = ("local_presence", "caller_id_daily_cap", "spam_flag_threshold")  # kept on the campaign row
OPTIONAL = {"lead_daily_cap", "phone_daily_cap", "callerid_min_answer_rate"}  # blank: none
# (heading, ((setting, field class, label, help), ...)) in the order the form shows them
GROUPS = (
    ("Lead order and new leads", (
        ("lead_order", SelectField, "Lead order", "Which callable lead is dialed first."),
        ("new_lead_every", IntegerField, "One new lead every N dials",
         "0: off. N: one dial in N goes to a lead never called, so fresh leads are not starved by retries."),
        ("retry_shift_s", StringField, "Retry shift (h:mm)",
         "Each retry waits this much longer than the one before, so a lead is tried at other hours of the day."),
    )),
    ("Recall gaps and caps", (
        ("min_recall_gap_s", StringField, "Minimum re-call gap (h:mm)",
         "A lead, or its number, is never called again sooner than this. 0: no gap."),
        ("lead_daily_cap", IntegerField, "Attempts per lead per day", "Blank: no cap. Counted in the campaign's day."),
        ("phone_daily_cap", IntegerField, "Attempts per number per day",
         "Blank: no cap. Counts every lead and campaign that calls the number."),
        ("phone_switch_after", IntegerField, "Next phone after N failures",
         "0: off. N: after N failed attempts on a number, the lead's next phone is tried."),
    )),
    ("Callbacks", (
        ("callbacks_personal", BooleanField, "Callbacks are personal by default",
         "An agent's callback waits for that agent first (agents can still choose \"anyone\" per call)."),
        ("callback_grace_s", StringField, "Personal grace (h:mm)",
         "How long a due personal callback waits for its agent before anyone may take it."),
        ("callback_miss_s", StringField, "Missed after (h:mm)",
         "A callback not dialed this long after it was due is listed as missed. Longer than the grace."),
    )),
    ("Abandon alerts", (
        ("abandon_warn_1", DecimalField, "First warning (%)",
         "E.g. 2.5: 2.5 % of live answers over 30 days; below the campaign's abandon target."),
        ("abandon_warn_2", DecimalField, "Second warning (%)", "E.g. 2.8; above the first warning."),
        ("abandon_fallback", BooleanField, "Fall back to progressive at the target",
         "Predictive pacing comes back once the rate is under the first warning again."),
        ("alert_min_live_answers", IntegerField, "Live answers before warning",
         "No warning on fewer live answers (30 days): a handful of calls says little."),
        ("alert_webhook_url", StringField, "Alert webhook URL",
         "Each change of level is POSTed there as JSON (retried). Blank: none."),
    )),
    ("Caller ID", (
        ("local_presence", BooleanField, "Local presence",
         "Show a pool number of the lead's area code, else of its state, when there is one."),
        ("caller_id_daily_cap", IntegerField, "Dials per pool number per day",
         "A number's default cap (a number may have its own)."),
        ("spam_flag_threshold", IntegerField, "Spam flags that retire a number",
         "Flags by agents or managers; the number is retired when it reaches this many."),
        ("callerid_min_answer_rate", DecimalField, "Minimum 7-day answer rate (%)",
         "E.g. 8. A pool number answered less often is retired. Blank: off."),
        ("callerid_min_dials", IntegerField, "Dials before the answer-rate floor applies",
         "Dials in 7 days a number needs before its answer rate is judged."),
    )),
)
NAMES = tuple(name for _, group in GROUPS for name, *_ in group)
LABELS = {name: label for _, group in GROUPS for name, _, label, _ in group}
PERCENT = frozenset({"abandon_warn_1", "abandon_warn_2", "callerid_min_answer_rate"})  # typed in %, kept as fractions
# typed as h:mm (how people say these delays), kept in seconds; the ranges are the service's (dial_settings.validate)
HM = {"retry_shift_s": (0, DAY_S), "min_recall_gap_s": (0, 7 * DAY_S), "callback_grace_s": (0, DAY_S),
      "callback_miss_s": (60, 7 * DAY_S)}


def short(label: str) -> str:
    """A label without its unit, as a message names the setting: "Personal grace (h:mm)" -> "Personal grace"."""
    return re.sub(r" \([^)]*\)$", "", label)


def _field(name: str, cls, label: str):
    if cls is BooleanField:
        return BooleanField(label)
    if cls is SelectField:
        return SelectField(label, choices=choices((o, ORDER_LABELS[o]) for o in dial_settings.LEAD_ORDERS))
    if name in HM:
        return StringField(label, validators=[InputRequired(f"{short(label)}: enter a time as h:mm")],
                           render_kw={"inputmode": "numeric", "placeholder": "0:15"})
    if cls is StringField:
        return StringField(label, validators=[Optional(), Length(max=500, message=f"{label}: at most 500 characters")],
                           render_kw={"placeholder": "https://hooks.example.com/dialer", "inputmode": "url"})
    need = Optional() if name in OPTIONAL else InputRequired(f"{label}: enter a value")
    if cls is DecimalField:
        return DecimalField(label, places=None, validators=[need], render_kw={"inputmode": "decimal"})
    return IntegerField(label, validators=[need], render_kw={"inputmode": "numeric"})


StrategyForm = type("StrategyForm", (FlaskForm,), {name: _field(name, cls, label)
                                                   for _, group in GROUPS for name, cls, label, _ in group})
# which field a refusal of ``campaigns.callerid.service.configure`` is about (the others name their setting first)
POOL_ERRORS = {"caller-ID daily cap": "caller_id_daily_cap", "spam-flag threshold": "spam_flag_threshold"}


def _campaign(campaign_id: int) -> Campaign:
    campaign = db().get(Campaign, campaign_id)
    if campaign is None:
        abort(404)
    return campaign


def _current(campaign: Campaign) -> dict:
    values = {**dial_settings.settings_of(db(), campaign.id).as_dict(),
              **{name: getattr(campaign, name) for name in POOL}}
    return {k: round(v * 100, 4) if k in PERCENT and v is not None else hm(v) if k in HM else v
            for k, v in values.items()}


def _value(name: str, data):
    if name in HM:
        return parse_hm(short(LABELS[name]), data or "", *HM[name])
    if isinstance(data, Decimal):
        return float(data) / 100 if name in PERCENT else float(data)
    if name == "alert_webhook_url":
        return (data or "").strip()
    return data


def in_words(text: str) -> str:
    """The service names settings as the command line does (``abandon_warn_1``); the form says their labels."""
    for name in sorted(LABELS, key=len, reverse=True):
        text = re.sub(rf"\b{name}\b", short(LABELS[name]), text)
    return text


def _attach(form: FlaskForm, error: UserError) -> None:
    """Under the field the refusal names (``lead_order: must be ...``), in the service's words with the settings'
    labels for their names."""
    text = str(error)
    for prefix, name in [*POOL_ERRORS.items(), *((short(LABELS[n]), n) for n in HM),
                         *((n, n) for n in sorted(NAMES, key=len, reverse=True))]:
        if text.startswith(prefix):
            form[name].errors = [*form[name].errors, in_words(text)]
            return
    form.form_errors.append(in_words(text))


@bp.route("/", methods=["GET", "POST"])
def edit(campaign_id: int):
    campaign = _campaign(campaign_id)
    form = StrategyForm(data=_current(campaign) if request.method == "GET" else None)
    if form.validate_on_submit():
        try:
            values = {name: _value(name, form[name].data) for name in NAMES}
            dial_settings.update(db(), campaign, now(), **{k: v for k, v in values.items() if k not in POOL})
            configure(campaign, local_presence=values["local_presence"], daily_cap=values["caller_id_daily_cap"],
                      spam_threshold=values["spam_flag_threshold"])
            db().commit()
        except UserError as e:
            db().rollback()
            _attach(form, e)
        else:
            flash(f"Strategy and alert settings of {campaign.name} saved; the dialer uses them from its next turn.",
                  "success")
            return redirect(url_for("strategy.edit", campaign_id=campaign.id))
    guard = abandon_alerts.state(db(), campaign)
    return render_template("strategy/edit.html", campaign=campaign, form=form, groups=GROUPS,
                           guard=guard, guard_words=abandon_alerts.level_words(campaign, guard),
                           alerts=abandon_alerts.recent(db(), campaign.id, 5)), 400 if has_errors(form) else 200
