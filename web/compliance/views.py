"""The compliance overview and reports: scrub ledger, reconciliation, SLA, window exceptions, abandon, audit."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from flask import Response, abort, render_template, request
from wtforms import Form, SelectField, StringField
from wtforms.validators import Optional, ValidationError

from campaigns.campaign.models import Campaign
from campaigns.campaign.service import list_campaigns
from campaigns.compliance.feed import call_records
from campaigns.reports.history import abandon_history
from dnc import reports
from dnc.ledger import verify
from dnc.numbers import to_e164
from web.compliance import bp
from web.compliance.status import list_loads, registry_status
from web.context import console, db, now
from web.forms import choices

# Columns of each exportable report, in the order the CSV and the table show them.
COLUMNS = {
    "scrubs": ["seq", "at", "kind", "what", "campaign", "operator", "rows", "suppressed", "by_reason", "sources",
               "input_sha256"],
    "reconcile": ["call", "e164", "placed_at", "campaign", "zones", "states", "codes", "reasons"],
    "window": ["call", "e164", "placed_at", "campaign", "zones", "states", "codes", "reasons"],
    "sla": ["id", "e164", "scope", "campaign", "channel", "received_at", "effective_at", "honor_deadline",
            "hours_to_effective", "breach", "added_by"],
    "removals": ["id", "e164", "scope", "campaign", "removed_at", "removed_by", "reason"],
    "history": ["seq", "at", "kind", "campaign", "allowed", "codes", "actor", "zones", "window", "detail"],
}
TITLES = {"scrubs": "Scrub ledger", "reconcile": "Zero-violation reconciliation", "window": "Calling-window exceptions",
          "sla": "Internal DNC: opt-out SLA", "removals": "Internal DNC removals", "history": "Decision history"}


def _day(form, field) -> None:
    if field.data:
        try:
            date.fromisoformat(field.data)
        except ValueError:
            raise ValidationError("Write a date such as 2030-01-31.") from None


class RangeForm(Form):
    since = StringField("From (UTC)", validators=[Optional(), _day], render_kw={"type": "date"})
    until = StringField("To (UTC, inclusive)", validators=[Optional(), _day], render_kw={"type": "date"})
    campaign = SelectField("Campaign", validate_choice=False)


def _range(default_days: int = 30) -> tuple[RangeForm, datetime, datetime, int | None]:
    form = RangeForm(request.args)
    camps = list_campaigns(db())
    form.campaign.choices = choices([("", "all campaigns")] + [(c.name, c.name) for c in camps])
    today = now().astimezone(UTC).date()
    ok = form.validate()
    first = date.fromisoformat(form.since.data) if ok and form.since.data else today - timedelta(days=default_days - 1)
    last = date.fromisoformat(form.until.data) if ok and form.until.data else today
    if first > last:
        form.until.errors = ["“To” is before “From”."]
        first, last = last, first
    form.since.data, form.until.data = form.since.data or first.isoformat(), form.until.data or last.isoformat()
    cid = next((c.id for c in camps if c.name == form.campaign.data), None)
    return (form, datetime.combine(first, datetime.min.time(), UTC),
            datetime.combine(last + timedelta(days=1), datetime.min.time(), UTC), cid)


def _rows(name: str, since: datetime, until: datetime, cid: int | None) -> list[dict]:
    s = db()
    if name == "scrubs":
        return reports.scrub_ledger(s, since, until)
    if name in ("reconcile", "window"):
        calls = call_records(s, cid, since, until)
        run = reports.reconcile if name == "reconcile" else reports.window_exceptions
        return run(s, calls, console().dnc_store)
    if name in ("sla", "removals"):
        return reports.sla(s, since, until)["requests" if name == "sla" else "removals"]
    if name == "history":
        return reports.history(s, to_e164(request.args.get("number", "")))
    abort(404)


@bp.get("/")
def index():
    today = now().astimezone(UTC).date()
    since = now() - timedelta(days=90)
    sla = reports.sla(db(), since, None)
    return render_template("compliance/index.html", registry=registry_status(console().dnc_store, today, db(), now()),
                           loads=list_loads(db(), today), sla=sla, today=today)


@bp.get("/reports/<name>")
def report(name: str):
    if name not in TITLES or name == "history":
        abort(404)
    form, since, until, cid = _range()
    rows = _rows(name, since, until, cid) if not form.errors else []
    extra = {}
    if name == "sla":
        extra = reports.sla(db(), since, until)
    if name in ("reconcile", "window"):
        extra["calls"] = len(call_records(db(), cid, since, until))
    return render_template("compliance/report.html", name=name, title=TITLES[name], form=form, rows=rows,
                           columns=COLUMNS[name], extra=extra), 400 if form.errors else 200


@bp.get("/reports/<name>.csv")
def export(name: str):
    if name not in COLUMNS:
        abort(404)
    _, since, until, cid = _range()
    out = io.StringIO()
    out.write("\ufeff")
    reports.write_csv(_rows(name, since, until, cid), out, COLUMNS[name])
    stamp = now().strftime("%Y%m%d-%H%M")
    return Response(out.getvalue(), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{name}-{stamp}.csv"'})


@bp.get("/abandon")
def abandon():
    """Per campaign: abandoned ÷ live answers over the rolling 30 days and today, against the campaign's target."""
    t = now()
    rows = []
    for c in db().query(Campaign).order_by(Campaign.name):
        live30, ab30 = abandon_history(db(), c.id, t)
        midnight = t.astimezone(ZoneInfo(c.timezone)).replace(hour=0, minute=0, second=0, microsecond=0)
        live_d, ab_d = abandon_history(db(), c.id, t, t - midnight)
        rows.append({"campaign": c, "live30": live30, "ab30": ab30, "rate30": ab30 / live30 if live30 else None,
                     "live_today": live_d, "ab_today": ab_d, "rate_today": ab_d / live_d if live_d else None})
    db().commit()  # abandon_history refreshes the rollups
    return render_template("compliance/abandon.html", rows=rows)


@bp.get("/audit")
def audit():
    result = verify(db())
    return render_template("compliance/audit.html", result=result, checked_at=now())
