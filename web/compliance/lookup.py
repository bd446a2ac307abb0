"""Number look-up (may we call it now, and why not), its full decision history, and internal DNC add/remove."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from werkzeug.datastructures import MultiDict
from wtforms import Form, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from campaigns.campaign.models import Campaign
from campaigns.campaign.service import list_campaigns
from campaigns.compliance.dnc_requests import record_request
from campaigns.compliance.feed import calls_to_number, leads_with_number
from campaigns.dispatch.service import call_times
from dnc import internal
from dnc.errors import UserError
from dnc.gate import evaluate
from dnc.numbers import to_e164
from dnc.reports import history
from web.compliance import bp
from web.context import console, db, now
from web.forms import as_id, choices, sentence

CHANNEL_LABELS = {"phone": "by phone (to an agent or the office)", "agent": "agent disposition", "web": "web form",
                  "email": "e-mail", "mail": "letter", "sms": "text message", "keypress": "key press (IVR)",
                  "import": "imported from another system"}


class LookupForm(Form):
    number = StringField("Phone number", validators=[DataRequired("Enter a phone number.")],
                         render_kw={"inputmode": "tel", "placeholder": "(212) 736-4421", "autofocus": True})
    campaign = SelectField("For campaign", validate_choice=False)
    state = StringField("Lead's state", validators=[Optional(), Length(2, 2, "Two letters, e.g. NY.")])
    postal_code = StringField("Lead's ZIP", validators=[Optional(), Length(5, 10, "A 5-digit ZIP code.")])


class AddForm(FlaskForm):
    number = StringField("Phone number", validators=[DataRequired("Enter a phone number.")])
    scope = SelectField("Applies to", choices=[], validate_choice=False)
    channel = SelectField("Request received", choices=choices(CHANNEL_LABELS.items()), default="phone")
    reason = TextAreaField("Note", validators=[Optional(), Length(max=400)],
                           render_kw={"rows": 2, "placeholder": "e.g. asked on the call of 8 Jan, ticket #123"})


class RemoveForm(FlaskForm):
    number = StringField("Phone number", validators=[DataRequired("Enter a phone number.")])
    scope = SelectField("Entry", choices=[], validate_choice=False)
    reason = TextAreaField("Why it is removed", validators=[DataRequired("Removing a number needs a reason."),
                                                            Length(max=400)],
                           render_kw={"rows": 2, "placeholder": "e.g. entered on the wrong number (ticket #123)"})


def _scopes() -> list[tuple[str, str]]:
    return [("company", "every campaign (company-wide)")] + [(f"campaign:{c.id}", f"only campaign {c.name}")
                                                             for c in list_campaigns(db())]


def _scope(value: str) -> tuple[str, int | None]:
    if value.startswith("campaign:") and as_id(value[9:]) is not None:
        return "campaign", as_id(value[9:])
    return "company", None


def _e164(field) -> str | None:
    try:
        return to_e164(field.data or "")
    except UserError as e:
        field.errors = [*field.errors, sentence(str(e))]
        return None


@bp.get("/lookup")
def lookup():
    return _page(request.args)


def _page(args, add_form: AddForm | None = None, remove_form: RemoveForm | None = None, status: int = 200):
    """The look-up page for ``args`` (the query, or the number a refused add/remove form was about)."""
    form = LookupForm(args)
    camps = list_campaigns(db())
    form.campaign.choices = choices([("", "any campaign (company-wide rules only)")] + [(c.name, c.name)
                                                                                         for c in camps])
    found = None
    if args and form.validate():
        e164 = _e164(form.number)
        if e164:
            campaign = db().query(Campaign).filter_by(name=form.campaign.data).one_or_none() \
                if form.campaign.data else None
            t = now()
            decision = evaluate(db(), e164, campaign=campaign.id if campaign else None, at=t,
                                state=(form.state.data or "").upper() or None,
                                postal_code=form.postal_code.data or None, registry=console().dnc_store,
                                call_times=call_times(db()))
            found = {"e164": e164, "decision": decision, "campaign": campaign, "history": history(db(), e164),
                     "leads": leads_with_number(db(), e164), "calls": calls_to_number(db(), e164),
                     "entries": internal.active(db(), e164, campaign.id if campaign else None, t),
                     "campaign_names": {c.id: c.name for c in camps}}
    elif args:
        status = 400
    add_form = add_form or AddForm(formdata=None, number=found["e164"] if found else "")
    add_form.scope.choices = choices(_scopes())
    remove_form = remove_form or RemoveForm(formdata=None, number=found["e164"] if found else "")
    remove_form.scope.choices = choices(_scopes())
    return render_template("compliance/lookup.html", form=form, found=found, add_form=add_form,
                           remove_form=remove_form, channels=CHANNEL_LABELS), status


@bp.post("/dnc/add")
def dnc_add():
    form = AddForm()
    form.scope.choices = choices(_scopes())
    if form.validate_on_submit() and (e164 := _e164(form.number)):
        scope, cid = _scope(form.scope.data)
        t = now()
        try:
            record_request(db(), e164, scope=scope, campaign=cid, channel=form.channel.data, received_at=t,
                                 added_by=current_user.username, source_ref="console",
                                 reason=(form.reason.data or "").strip())
            db().commit()
        except UserError as e:
            db().rollback()
            form.form_errors.append(sentence(str(e)))
        else:
            flash(f"{e164} is on the internal DNC list from now on; the dialer refuses it on its next attempt.",
                  "success")
            return redirect(url_for("compliance.lookup", number=e164))
    return _page(MultiDict({"number": form.number.data or ""}), add_form=form, status=400)


@bp.post("/dnc/remove")
def dnc_remove():
    form = RemoveForm()
    form.scope.choices = choices(_scopes())
    if form.validate_on_submit() and (e164 := _e164(form.number)):
        scope, cid = _scope(form.scope.data)
        try:
            ended = internal.remove(db(), e164, scope=scope, campaign=cid, removed_by=current_user.username,
                                    reason=form.reason.data, at=now())
            db().commit()
        except UserError as e:
            db().rollback()
            form.form_errors.append(sentence(str(e)))
        else:
            own = sum(1 for e in ended if e.e164 == e164)
            linked = sorted({e.e164 for e in ended if e.e164 != e164})
            also = f" The same person's numbers listed with the request were lifted too: {', '.join(linked)}." \
                if linked else ""
            flash(f"{e164}: {own} internal DNC entr{'y' if own == 1 else 'ies'} ended.{also} Each removal and its "
                  "reason are in the audit ledger.", "success")
            return redirect(url_for("compliance.lookup", number=e164))
    return _page(MultiDict({"number": form.number.data or ""}), remove_form=form, status=400)
