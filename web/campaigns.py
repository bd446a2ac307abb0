"""Campaigns for the campaign manager: list, create, edit, start, pause, finish; a campaign's page with its lists.

Rules (what a valid caller ID, region or abandon target is; which status may follow which) live in
``campaigns.campaign.service``; the view only maps a refusal to the field it is about.
"""

from __future__ import annotations

from zoneinfo import available_timezones

import phonenumbers
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import func, select
from wtforms import BooleanField, DecimalField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional, ValidationError

from campaigns.agents import teams
from campaigns.agents.models import Agent
from campaigns.campaign import dialing
from campaigns.campaign.dispositions import Flags, add_disposition, list_dispositions, update_disposition
from campaigns.campaign.history import changes, record
from campaigns.campaign.models import DEDUPE_SCOPES, PACING_MODES, Campaign
from campaigns.campaign.readiness import start_warnings
from campaigns.campaign.scripts import MAX_SCRIPT, PLACEHOLDERS, get_script, set_script
from campaigns.campaign.service import (
    TRANSITIONS,
    CampaignSettings,
    create_campaign,
    list_campaigns,
    normalize_caller_id,
    set_status,
    update_campaign,
)
from campaigns.leadimport.service import lists_of
from campaigns.leads import listadmin
from campaigns.leads.hot import HOT_LIST, make_hot
from dialer.pacing.overdial import warning as overdial_warning
from dnc.errors import UserError
from dnc.reasons import stored_codes
from dnc.reasons import words as reason_text
from web.context import db, now
from web.forms import MAX_ID, InRange, OneLine, attach_error, choices, has_errors, sentence

bp = Blueprint("campaigns", __name__, url_prefix="/campaigns")

FIELD_OF_ERROR = {"campaign name": "name", "a campaign named": "name", "caller ID": "caller_id",
                  "seller name": "seller_name", "pacing mode": "pacing_mode", "dedupe scope": "dedupe_scope",
                  "abandon target": "abandon_target", "max attempts": "max_attempts", "region": "region",
                  "time zone": "timezone"}
PACING_LABELS = {"predictive": "Predictive (forecasts free agents; holds the abandon cap)",
                 "progressive": "Progressive (one call per ready agent)",
                 "power": "Power (a fixed number of calls per ready agent)",
                 "preview": "Preview (the agent sees the lead, then dials)"}
DEDUPE_LABELS = {"campaign": "Within the campaign", "list": "Within each list", "system": "Across all campaigns"}
ACTIONS = {"active": "Start", "paused": "Pause", "finished": "Finish"}
US_ZONES = sorted(z for z in available_timezones() if z.startswith(("America/", "Pacific/Honolulu", "US/"))
                  and not z.startswith("US/"))


class CampaignForm(FlaskForm):
    name = StringField("Name", validators=[DataRequired("Give the campaign a name."), Length(max=120),
                                           OneLine("campaign name")])
    caller_id = StringField("Caller ID", validators=[DataRequired("Enter the number shown to the people called.")],
                            render_kw={"placeholder": "+12125550100", "inputmode": "tel"})
    callback_number = StringField("Callback number", validators=[Optional()],
                                  render_kw={"placeholder": "same as the caller ID", "inputmode": "tel"})
    seller_name = StringField("Seller name", validators=[Optional(), Length(max=120), OneLine("seller name")],
                              render_kw={"placeholder": "the campaign's name"})
    pacing_mode = SelectField("Dialing mode", choices=choices((m, PACING_LABELS[m]) for m in PACING_MODES),
                              default="predictive")
    abandon_target = DecimalField("Abandon target (%)", places=2, default=3,
                                  validators=[InputRequired("Enter the abandon target."),
                                              InRange(0.01, 3, "Between 0.01 %% and the legal cap of 3 %%.")])
    max_attempts = IntegerField("Attempts per lead at most", default=5,
                                validators=[InputRequired("Enter how many attempts a lead gets."),
                                            InRange(1, 100, "Between 1 and 100.")])
    dedupe_scope = SelectField("Refuse duplicates", default="campaign",
                               choices=choices((d, DEDUPE_LABELS[d]) for d in DEDUPE_SCOPES))
    region = StringField("Region", default="US", validators=[DataRequired("Enter a two-letter region, e.g. US."),
                                                              Length(2, 2, "Two letters, e.g. US.")])
    timezone = SelectField("Reporting time zone", choices=choices((z, z) for z in US_ZONES), default="America/New_York",
                           validate_choice=False)

    # The numbers are checked with the other fields, so every mistake is named at once (they were checked only once
    # every other field was right). In a region the phone library does not know they are not judged here: the
    # region's own refusal says what is wrong.
    def _number(self, field, what: str) -> None:
        region = (self.region.data or "").strip().upper()
        if not field.data or len(region) != 2 or not phonenumbers.country_code_for_region(region):
            return
        try:
            normalize_caller_id(field.data, region)
        except UserError as e:
            raise ValidationError(sentence(str(e).replace("caller ID", what, 1))) from None

    def validate_caller_id(self, field) -> None:
        self._number(field, "Caller ID")

    def validate_callback_number(self, field) -> None:
        self._number(field, "Callback number")

    def settings(self) -> CampaignSettings:
        return CampaignSettings(region=(self.region.data or "").strip().upper(), timezone=self.timezone.data,
                                pacing_mode=self.pacing_mode.data, abandon_target=float(self.abandon_target.data) / 100,
                                max_attempts=self.max_attempts.data, dedupe_scope=self.dedupe_scope.data,
                                seller_name=(self.seller_name.data or "").strip(),
                                callback_number=(self.callback_number.data or "").strip())


def _campaign(campaign_id: int) -> Campaign:
    campaign = db().get(Campaign, campaign_id)
    if campaign is None:
        abort(404)
    return campaign


# what the campaign form changes, as the history shows it (label -> value with its unit)
EDITED = {"Name": lambda c: c.name, "Caller ID": lambda c: c.caller_id,
          "Callback number": lambda c: c.callback_number, "Seller name": lambda c: c.seller_name,
          "Dialing mode": lambda c: c.pacing_mode, "Abandon target": lambda c: f"{c.abandon_target * 100:g} %",
          "Attempts per lead at most": lambda c: str(c.max_attempts), "Duplicates": lambda c: c.dedupe_scope,
          "Region": lambda c: c.region, "Reporting time zone": lambda c: c.timezone}


def _edited(campaign: Campaign) -> dict[str, str]:
    return {label: read(campaign) for label, read in EDITED.items()}


def _save(form: CampaignForm, campaign: Campaign | None) -> Campaign | None:
    """Create or update; a refusal goes next to its field (a bad callback number is checked on its own)."""
    try:
        if form.callback_number.data:
            try:
                normalize_caller_id(form.callback_number.data, (form.region.data or "US").upper())
            except UserError as e:
                form.callback_number.errors = [str(e).replace("caller ID", "Callback number", 1) + "."]
                return None
        if campaign is None:
            campaign = create_campaign(db(), form.name.data, form.caller_id.data, now(), form.settings())
        else:
            before = _edited(campaign)
            update_campaign(db(), campaign, form.name.data, form.caller_id.data, form.settings(), now())
            for label, old in before.items():
                new = _edited(campaign)[label]
                if new != old:
                    record(db(), campaign.id, now(), current_user.username, label, old, new)
        db().commit()
        return campaign
    except UserError as e:
        db().rollback()
        attach_error(form, e, FIELD_OF_ERROR)
        return None


@bp.get("/")
def index():
    return render_template("campaigns/index.html", campaigns=list_campaigns(db()))


@bp.route("/new", methods=["GET", "POST"])
def new():
    form = CampaignForm()
    if form.validate_on_submit():
        campaign = _save(form, None)
        if campaign is not None:
            flash(f"Campaign {campaign.name} created as a draft. Upload a list, then start it.", "success")
            return redirect(url_for("campaigns.detail", campaign_id=campaign.id))
    return render_template("campaigns/form.html", form=form, campaign=None), 400 if has_errors(form) else 200


class HotLeadForm(FlaskForm):
    lead_id = IntegerField("Lead id", validators=[Optional(), InRange(1, MAX_ID, "No lead has this id.")],
                           render_kw={"inputmode": "numeric"})
    phone = StringField("Or a phone number", validators=[Optional(), Length(max=40)],
                        render_kw={"placeholder": "+13125550123", "inputmode": "tel"})
    first_name = StringField("First name", validators=[Optional(), Length(max=200)])
    last_name = StringField("Last name", validators=[Optional(), Length(max=200)])
    state = StringField("State", validators=[Optional(), Length(max=2, message="Two letters, e.g. NY.")],
                        render_kw={"placeholder": "NY", "size": 3})
    postal_code = StringField("ZIP", validators=[Optional(), Length(max=10)], render_kw={"size": 6})


@bp.get("/<int:campaign_id>")
def detail(campaign_id: int):
    return _detail(_campaign(campaign_id), HotLeadForm(formdata=None))


def _detail(campaign: Campaign, hot: HotLeadForm, status: int = 200):
    return render_template("campaigns/detail.html", campaign=campaign, lists=lists_of(db(), campaign.name),
                           actions=_actions(campaign), pacing=PACING_LABELS, dedupe=DEDUPE_LABELS,
                           script=get_script(db(), campaign.id), hot=hot, hot_list=HOT_LIST,
                           shown=dialing.shown(campaign), history=changes(db(), campaign.id, limit=20),
                           overdial=_overdial(campaign), mix=_mix(campaign),
                           team=", ".join(a.name for a in teams.team(db(), campaign.id))), status


def _mix(campaign: Campaign) -> dict[int, str]:
    """Each list's state in words for the lists table: "disabled", or its place in the list mix."""
    rows = listadmin.lists(db(), campaign)
    mode = listadmin.mix_mode(rows)
    return {x.id: "disabled" if not x.active else "" if mode == "none" else listadmin.mix_text(x, mode)
            for x in rows}


def _overdial(campaign: Campaign) -> str | None:
    """The warning when the campaign's fixed dialing rule would abandon more than its target on its floor (the
    pacer holds it to the budget; the manager should know the setting is not what will be dialed)."""
    agents = db().scalar(select(func.count(Agent.id)).where(Agent.campaign_id == campaign.id)) or 0
    return overdial_warning(campaign.pacing_mode, campaign.power_ratio, agents, campaign.abandon_target)


@bp.post("/<int:campaign_id>/hot")
def hot(campaign_id: int):
    """Make a lead hot (called next, every rule still applies): an existing lead by id, or a number (new when
    the campaign does not have it, scrubbed first)."""
    campaign = _campaign(campaign_id)
    form = HotLeadForm()
    if not form.validate_on_submit():
        return _detail(campaign, form, 400)
    phone = (form.phone.data or "").strip() or None
    try:
        out = make_hot(db(), campaign, now(), lead_id=form.lead_id.data, phone=phone,
                       first_name=(form.first_name.data or "").strip(), last_name=(form.last_name.data or "").strip(),
                       state=(form.state.data or "").strip().upper() or None,
                       postal_code=(form.postal_code.data or "").strip() or None, by=current_user.username)
        db().commit()
    except UserError as e:
        db().rollback()
        fields = {"state": "state", "campaign": "lead_id", "lead": "lead_id"}
        if phone:
            fields[repr(phone)] = "phone"
        attach_error(form, e, fields)
        return _detail(campaign, form, 400)
    if out.suppression:
        why = ", ".join(reason_text(c).lower() for c in stored_codes(out.suppression))
        flash(f"{out.phone} was added as lead {out.lead_id} but is suppressed ({why}): it is never dialed.", "error")
    else:
        where = f"added to the {HOT_LIST} list as lead {out.lead_id}" if out.created else f"lead {out.lead_id}"
        flash(f"{out.phone} is hot ({where}, {out.status}): it is called next, inside its calling window.",
              "success")
    return redirect(url_for("campaigns.detail", campaign_id=campaign.id))


def _actions(campaign: Campaign) -> list[tuple[str, str]]:
    return [(status, ACTIONS[status]) for status in ("active", "paused", "finished")
            if status in TRANSITIONS[campaign.status]]


@bp.route("/<int:campaign_id>/edit", methods=["GET", "POST"])
def edit(campaign_id: int):
    campaign = _campaign(campaign_id)
    form = CampaignForm(obj=campaign)
    if request.method == "GET":
        form.abandon_target.data = round(campaign.abandon_target * 100, 2)
        if campaign.callback_number == campaign.caller_id:
            form.callback_number.data = ""
    if form.validate_on_submit() and _save(form, campaign) is not None:
        flash(f"Campaign {campaign.name} saved.", "success")
        if (warn := _overdial(campaign)) is not None:
            flash(warn, "warning")
        return redirect(url_for("campaigns.detail", campaign_id=campaign.id))
    return render_template("campaigns/form.html", form=form, campaign=campaign), 400 if has_errors(form) else 200


@bp.post("/<int:campaign_id>/status")
def status(campaign_id: int):
    campaign = _campaign(campaign_id)
    wanted = request.form.get("status", "")
    try:
        set_status(db(), campaign, wanted, now())
        db().commit()
    except UserError as e:
        db().rollback()
        flash(str(e)[0].upper() + str(e)[1:] + ".", "error")
    else:
        flash(f"Campaign {campaign.name} is {campaign.status}.", "success")
        if campaign.status == "active":
            for warning in start_warnings(db(), campaign):
                flash(warning, "warning")
    return redirect(url_for("campaigns.detail", campaign_id=campaign.id))


class ScriptForm(FlaskForm):
    text = TextAreaField("Script", validators=[Length(max=MAX_SCRIPT, message=f"At most {MAX_SCRIPT:,} characters.")],
                         render_kw={"rows": 16})


@bp.route("/<int:campaign_id>/script", methods=["GET", "POST"])
def script(campaign_id: int):
    """The call script agents read when a call pops, with the lead's details filled in."""
    campaign = _campaign(campaign_id)
    form = ScriptForm(data={"text": get_script(db(), campaign.id)} if request.method == "GET" else None)
    if form.validate_on_submit():
        set_script(db(), campaign.id, form.text.data or "", current_user.username, now())
        db().commit()
        flash("Script saved; agents see it on their next call.", "success")
        return redirect(url_for("campaigns.detail", campaign_id=campaign.id))
    return render_template("campaigns/script.html", campaign=campaign, form=form, placeholders=PLACEHOLDERS), \
        400 if has_errors(form) else 200


FLAG_FIELDS = ("is_contact", "is_close", "is_callback", "is_dnc", "is_final", "is_completed")


class DispositionForm(FlaskForm):
    code = StringField("Code", validators=[Length(max=32)], render_kw={"placeholder": "APPT"})
    label = StringField("Label", validators=[DataRequired("Give the label agents see."), Length(max=120)])
    is_contact = BooleanField("A conversation with the customer (counts as a contact)", default=True)
    is_close = BooleanField("A close / sale")
    is_callback = BooleanField("Schedules a callback")
    is_dnc = BooleanField("A do-not-call request (adds the number to the internal DNC)")
    is_final = BooleanField("Final: the lead is not called again")
    is_completed = BooleanField("The agent reached the end of the script")

    def flags(self) -> Flags:
        return Flags(**{f: bool(self[f].data) for f in FLAG_FIELDS})


@bp.route("/<int:campaign_id>/dispositions", methods=["GET", "POST"])
def dispositions(campaign_id: int):
    """The campaign's dispositions; add one (its code is permanent: reports group by it)."""
    campaign = _campaign(campaign_id)
    form = DispositionForm()
    if form.validate_on_submit():
        try:
            row = add_disposition(db(), campaign.id, form.code.data or "", form.label.data, form.flags())
            db().commit()
        except UserError as e:
            db().rollback()
            attach_error(form, e, {"code": "code", "label": "label"})
        else:
            flash(f"Disposition {row.code} ({row.label}) added; agents see it on their next call.", "success")
            return redirect(url_for("campaigns.dispositions", campaign_id=campaign.id))
    return render_template("campaigns/dispositions.html", campaign=campaign, form=form,
                           rows=list_dispositions(db(), campaign.id)), 400 if has_errors(form) else 200


@bp.route("/<int:campaign_id>/dispositions/<code>", methods=["GET", "POST"])
def disposition(campaign_id: int, code: str):
    campaign = _campaign(campaign_id)
    row = next((d for d in list_dispositions(db(), campaign.id) if d.code == code), None)
    if row is None:
        abort(404)
    form = DispositionForm(obj=row)
    if form.validate_on_submit():
        try:
            update_disposition(db(), campaign.id, code, form.label.data, form.flags())
            db().commit()
        except UserError as e:
            db().rollback()
            attach_error(form, e, {"label": "label"})
        else:
            flash(f"Disposition {code} saved.", "success")
            return redirect(url_for("campaigns.dispositions", campaign_id=campaign.id))
    return render_template("campaigns/disposition.html", campaign=campaign, form=form, row=row), \
        400 if has_errors(form) else 200
