"""The compliance overview and reports: scrub ledger, reconciliation, SLA, window exceptions, abandon, audit."""

from __future__ import annotations

import io
from datetime import UTC, date, timedelta
from zoneinfo import ZoneInfo

from flask import Response, abort, render_template, request
from flask_login import current_user
from sqlalchemy import select
from wtforms import Form, SelectField, StringField
from wtforms.validators import Optional, ValidationError

from campaigns.alerts.levels import abandon_level
from campaigns.campaign.dial_settings import settings_of
from campaigns.campaign.models import Campaign
from campaigns.campaign.service import list_campaigns
from campaigns.compliance import auditor
from campaigns.compliance.auditor import Sheet, Span
from campaigns.reports.history import abandon_history
from campaigns.reports.metrics import abandon_rate
from dnc import reports
from dnc.ledger import verify
from dnc.numbers import to_e164
from web.compliance import bp
from web.compliance.export import to_csv, to_pdf
from web.compliance.status import list_loads, registry_status, rnd_status
from web.context import console, db, now
from web.filters import console_zone
from web.forms import choices

# The auditor's sheets (campaigns.compliance.auditor); the number's decision history keeps its plain CSV.
SHEETS = ("scrubs", "reconcile", "window", "sla", "removals")
HISTORY_COLUMNS = ["seq", "at", "kind", "campaign", "allowed", "codes", "actor", "zones", "window", "detail"]
ZONES = ("UTC", "America/New_York", "America/Chicago", "America/Denver", "America/Phoenix", "America/Los_Angeles",
         "America/Anchorage", "Pacific/Honolulu", "America/Puerto_Rico")


FIRST_DAY, LAST_DAY = date(1970, 1, 1), date(2199, 12, 31)  # reports add days and zones to these: keep room


def _day(form, field) -> None:
    if field.data:
        try:
            day = date.fromisoformat(field.data)
        except ValueError:
            raise ValidationError("Write a date such as 2030-01-31.") from None
        if not FIRST_DAY <= day <= LAST_DAY:
            raise ValidationError(f"Write a date between {FIRST_DAY} and {LAST_DAY}.")


class RangeForm(Form):
    since = StringField("From (UTC day)", validators=[Optional(), _day], render_kw={"type": "date"})
    until = StringField("To (UTC day, inclusive)", validators=[Optional(), _day], render_kw={"type": "date"})
    campaign = SelectField("Campaign", validate_choice=False)
    tz = SelectField("Times in", validate_choice=False)


def _range(default_days: int = 30) -> tuple[RangeForm, Span, int | None]:
    form = RangeForm(request.args)
    camps = list_campaigns(db())
    form.campaign.choices = choices([("", "all campaigns")] + [(c.name, c.name) for c in camps])
    zones = list(dict.fromkeys([console_zone(), *ZONES, *db().scalars(select(Campaign.timezone).distinct())]))
    form.tz.choices = choices([(z, z.replace("_", " ")) for z in zones])
    today = now().astimezone(UTC).date()
    ok = form.validate()
    # a blank day (spaces, U+2028) passes Optional() as no day, but is not "" until stripped
    form.since.data, form.until.data = (form.since.data or "").strip(), (form.until.data or "").strip()
    first = date.fromisoformat(form.since.data) if ok and form.since.data else today - timedelta(days=default_days - 1)
    last = date.fromisoformat(form.until.data) if ok and form.until.data else today
    if first > last:
        form.until.errors = ["“To” is before “From”."]
        first, last = last, first
    form.since.data, form.until.data = form.since.data or first.isoformat(), form.until.data or last.isoformat()
    zone = form.tz.data if form.tz.data in zones else console_zone()  # the console's zone unless one is chosen
    form.tz.data = zone
    cid = next((c.id for c in camps if c.name == form.campaign.data), None)
    return form, Span(first, last, zone), cid


def _sheet(name: str, span: Span, cid: int | None) -> Sheet:
    s = db()
    if name == "scrubs":
        return auditor.scrub_ledger(s, span)
    if name in ("reconcile", "window"):
        sheet = auditor.reconciliation(s, console().dnc_store, now(), span, cid, window=name == "window")
        s.commit()  # the verdicts just judged are kept for the next report
        return sheet
    if name == "sla":
        return auditor.opt_out_sla(s, span)
    if name == "removals":
        return auditor.removals(s, span)
    abort(404)


@bp.get("/")
def index():
    today = now().astimezone(UTC).date()
    since = now() - timedelta(days=90)
    sla = reports.sla(db(), since, None)
    return render_template("compliance/index.html", registry=registry_status(console().dnc_store, today, db(), now()),
                           loads=list_loads(db(), today), rnd=rnd_status(db(), today), sla=sla, today=today)


@bp.get("/reports/<name>")
def report(name: str):
    if name not in SHEETS:
        abort(404)
    form, span, cid = _range()
    sheet = _sheet(name, span, cid) if not form.errors else None
    return render_template("compliance/report.html", name=name, sheet=sheet, form=form, times_in=span.zone,
                           title=sheet.title if sheet else name,
                           now_text=auditor.when(now(), span.zone)), 400 if form.errors else 200


def _refuse_bad_range(form: RangeForm) -> None:
    if form.errors:
        abort(400, "; ".join(f"{form[k].label.text}: {' '.join(v)}" for k, v in form.errors.items()))


def _filename(name: str, ext: str) -> str:
    return f"{name}-{now().strftime('%Y%m%d-%H%M')}.{ext}"


@bp.get("/reports/<name>.csv")
def export(name: str):
    if name == "history":
        out = io.StringIO()
        out.write("\ufeff")
        reports.write_csv(reports.history(db(), to_e164(request.args.get("number", ""))), out, HISTORY_COLUMNS)
        body = out.getvalue()
    elif name in SHEETS:
        form, span, cid = _range()
        _refuse_bad_range(form)
        body = to_csv(_sheet(name, span, cid))
    else:
        abort(404)
    return Response(body, mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{_filename(name, "csv")}"'})


@bp.get("/reports/<name>.pdf")
def export_pdf(name: str):
    if name not in SHEETS:
        abort(404)
    form, span, cid = _range()
    _refuse_bad_range(form)
    body = to_pdf(_sheet(name, span, cid), now(), span.zone, current_user.username)
    return Response(body, mimetype="application/pdf",
                    headers={"Content-Disposition": f'attachment; filename="{_filename(name, "pdf")}"'})


@bp.get("/abandon")
def abandon():
    """Per campaign: abandoned ÷ live answers over the rolling 30 days and today, against the campaign's target."""
    t = now()
    rows = []
    for c in db().query(Campaign).order_by(Campaign.name):
        live30, ab30 = abandon_history(db(), c.id, t)
        midnight = t.astimezone(ZoneInfo(c.timezone)).replace(hour=0, minute=0, second=0, microsecond=0)
        live_d, ab_d = abandon_history(db(), c.id, t, t - midnight)
        rate30 = abandon_rate(ab30, live30)
        rows.append({"campaign": c, "live30": live30, "ab30": ab30, "rate30": rate30,
                     "level": abandon_level(rate30, live30, settings_of(db(), c.id), c.abandon_target),
                     "live_today": live_d, "ab_today": ab_d, "rate_today": ab_d / live_d if live_d else None})
    db().commit()  # abandon_history refreshes the rollups
    return render_template("compliance/abandon.html", rows=rows)


@bp.get("/audit")
def audit():
    result = verify(db())
    return render_template("compliance/audit.html", result=result, checked_at=now())
