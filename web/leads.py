"""Lead search and a lead's page: find a lead by a number in any format, its last digits or a name (by campaign,
status and list, a page at a time), read its history (calls, dispositions, callbacks, changes, suppression
decisions), edit its fields (managers) and take a do-not-call request for it (managers and compliance officers).

Search, history, validation and the DNC path are ``campaigns.leads.search`` and ``campaigns.leads.edit``, shared with
``dialer leads search|show|edit|dnc``; a refusal is shown under the field it names.
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length

from campaigns.campaign.models import Campaign
from campaigns.leads import edit, listadmin, search
from campaigns.leads.models import LEAD_STATUSES, Lead, LeadList
from dnc.errors import UserError
from web.context import db, now
from web.forms import as_id, choices, has_errors, sentence
from web.roles import can

bp = Blueprint("leads", __name__, url_prefix="/leads")

STATUS_WORDS = {"new": "New (never dialed)", "retry": "Waiting for a retry", "callback": "Callback scheduled",
                "dialing": "On a call now", "closed": "Closed (sold)", "done": "Finished (final disposition)",
                "exhausted": "Out of attempts", "dnc": "Do not call",
                "suppressed": "Suppressed (DNC and consent rules)"}


class EditForm(FlaskForm):
    first_name = StringField(edit.LABELS["first_name"], validators=[Length(max=edit.MAX_NAME)])
    last_name = StringField(edit.LABELS["last_name"], validators=[Length(max=edit.MAX_NAME)])
    state = StringField(edit.LABELS["state"], render_kw={"placeholder": "NY", "autocomplete": "off"})
    postal_code = StringField(edit.LABELS["postal_code"], render_kw={"placeholder": "10001", "inputmode": "numeric"})


class DncForm(FlaskForm):
    channel = SelectField("How the person asked", choices=choices(edit.DNC_CHANNELS.items()), default="phone")
    scope = SelectField("Do not call from", default="company",
                        choices=choices((("company", "Any of our campaigns"), ("campaign", "This campaign only"))))
    reason = TextAreaField("What the person asked", render_kw={"rows": 2},
                           validators=[DataRequired("Say what the person asked (it is kept with the DNC record)."),
                                       Length(max=400, message="At most 400 characters.")])


def _campaign_arg() -> Campaign | None:
    raw = request.args.get("campaign", "")
    if not raw:
        return None
    cid = as_id(raw)
    campaign = db().get(Campaign, cid) if cid is not None else None
    if campaign is None:
        abort(404)
    return campaign


@bp.get("/", endpoint="search")
def search_page():
    """Search form and results; no query and no filter shows nothing (a campaign may hold millions of leads)."""
    campaign = _campaign_arg()
    q = request.args.get("q", "").strip()
    status = request.args.get("status", "")
    list_raw = request.args.get("list", "")
    list_id = as_id(list_raw)
    page_no = min(as_id(request.args.get("page")) or 1, 1_000_000)  # the offset, too, must fit the database
    campaigns = list(db().scalars(select(Campaign).order_by(Campaign.name)))
    lists = listadmin.lists(db(), campaign) if campaign is not None else []
    found, error = None, None
    if q or status or list_id is not None:
        try:
            found = search.search(db(), campaign, q, status=status or None, list_id=list_id, page=page_no)
        except UserError as e:
            error = sentence(str(e))
    names = {x.id: x.name for x in db().scalars(select(LeadList).where(LeadList.id.in_(
        {x.list_id for x in found.leads} if found else set())))}
    camp_names = {c.id: c.name for c in campaigns}
    args = {k: v for k, v in {"campaign": campaign.id if campaign else None, "q": q, "status": status,
                              "list": list_id}.items() if v}
    return render_template("leads/search.html", campaign=campaign, campaigns=campaigns, lists=lists, q=q,
                           status=status, list_id=list_id, found=found, error=error, names=names,
                           camp_names=camp_names, statuses=LEAD_STATUSES, words=STATUS_WORDS, args=args), \
        400 if error else 200


def _lead(lead_id: int) -> tuple[Lead, Campaign]:
    lead = db().get(Lead, lead_id)
    if lead is None:
        abort(404)
    return lead, db().get(Campaign, lead.campaign_id)


def _detail(lead: Lead, campaign: Campaign, form: EditForm | None = None, dnc: DncForm | None = None,
            status: int = 200):
    if form is None:
        form = EditForm(formdata=None, data={"first_name": lead.first_name, "last_name": lead.last_name,
                                             "state": lead.state or "", "postal_code": lead.postal_code or ""})
    custom = {k: request.form.get(f"custom-{k}", v) if status != 200 else v for k, v in (lead.custom or {}).items()}
    return render_template("leads/detail.html", lead=lead, campaign=campaign, lst=db().get(LeadList, lead.list_id),
                           history=search.history(db(), lead), form=form, dnc=dnc or DncForm(formdata=None),
                           custom=custom, words=STATUS_WORDS, may_edit=can("leads.edit"),
                           may_dnc=can("leads.dnc")), status


@bp.get("/<int:lead_id>")
def detail(lead_id: int):
    lead, campaign = _lead(lead_id)
    return _detail(lead, campaign)


@bp.post("/<int:lead_id>/edit", endpoint="edit")
def edit_lead(lead_id: int):
    lead, campaign = _lead(lead_id)
    form = EditForm()
    if form.validate_on_submit():
        values = {k: form[k].data or "" for k in edit.LABELS}
        values |= {f"custom.{k}": request.form.get(f"custom-{k}", "") for k in (lead.custom or {})}
        try:
            changed = edit.edit(db(), campaign, lead, values, current_user.username, now())
            db().commit()
        except UserError as e:
            db().rollback()
            text = str(e)
            key = next((k for k, v in edit.LABELS.items() if text.startswith(v + ":")), None)
            if key is not None:
                form[key].errors = [*form[key].errors, sentence(text)]
            else:
                form.form_errors.append(sentence(text))
        else:
            flash(f"Saved {', '.join(edit.label(k).lower() for k in changed)}." if changed else "Nothing changed.",
                  "success")
            return redirect(url_for("leads.detail", lead_id=lead.id))
    return _detail(lead, campaign, form=form, status=400 if has_errors(form) else 200)


@bp.post("/<int:lead_id>/dnc")
def dnc(lead_id: int):
    lead, campaign = _lead(lead_id)
    form = DncForm()
    if form.validate_on_submit():
        try:
            done = edit.mark_dnc(db(), campaign, lead, by=current_user.username, channel=form.channel.data,
                                 reason=form.reason.data or "", now=now(), scope=form.scope.data)
            db().commit()
        except UserError as e:
            db().rollback()
            form.form_errors.append(sentence(str(e)))
        else:
            flash(f"{lead.phone}: {done}; the lead is closed and never dialed again.", "success")
            return redirect(url_for("leads.detail", lead_id=lead.id))
    return _detail(lead, campaign, dnc=form, status=400)
