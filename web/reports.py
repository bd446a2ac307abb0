"""Reports for the sales lead (and managers): the summary with its definitions, every report of
``campaigns.reports`` with date filters and grouping, charts and CSV/XLSX exports.

Each figure comes from ``campaigns.reports.catalog.run_report`` (which uses the one definition per metric in
``campaigns.reports.metrics``); the page only formats values by their column kind and shows the glossary beside them.
"""

from __future__ import annotations

import io
import re
from datetime import date

from flask import Blueprint, Response, abort, render_template, request
from wtforms import Form, SelectField, StringField
from wtforms.validators import Optional, ValidationError

from campaigns.campaign.models import Campaign
from campaigns.campaign.service import list_campaigns
from campaigns.reports import charts, daily
from campaigns.reports import export as exports
from campaigns.reports.catalog import REPORTS, run_report
from campaigns.reports.compare import compare
from campaigns.reports.sheet import sheet_csv
from dnc.errors import UserError
from web.context import db, now
from web.forms import choices, sentence
from web.reports_format import cell, summary_tiles

bp = Blueprint("reports", __name__, url_prefix="/reports")
GROUP_LABELS = {"campaign": "whole campaign", "list": "list", "agent": "agent", "day": "day", "hour": "hour of day"}
# The order of the report menu: the sales lead's questions first.
MENU = ("hit-rate", "first-call-close", "list-close", "pass", "agents", "agent-leaderboard", "list-leaderboard",
        "outcomes", "agent-time", "abandon", "abandon-periods", "completion", "refusals", "dnc")


def _date(form, field) -> None:
    if field.data:
        try:
            date.fromisoformat(field.data.strip())
        except ValueError:
            raise ValidationError("Write a date such as 2030-01-31.") from None


class FilterForm(Form):
    """GET filters (no CSRF: reading a report changes nothing the user owns)."""

    campaign = SelectField("Campaign", validate_choice=True)
    first = StringField("From", validators=[Optional(), _date], render_kw={"type": "date"})
    last = StringField("To", validators=[Optional(), _date], render_kw={"type": "date"})
    by = SelectField("Group by", validate_choice=True)

    def validate_last(self, field) -> None:
        if self.first.data and field.data and not self.first.errors:
            try:
                first, last = date.fromisoformat(self.first.data), date.fromisoformat(field.data)
            except ValueError:
                return  # the date validator names the malformed one
            if first > last:
                raise ValidationError("“To” is before “From”.")


def _filters(name: str | None) -> tuple[FilterForm, list]:
    campaigns = list_campaigns(db())
    form = FilterForm(request.args)
    form.campaign.choices = choices((c.name, c.name) for c in campaigns)
    if not form.campaign.data and campaigns:
        active = [c for c in campaigns if c.status == "active"]
        form.campaign.data = (active or campaigns)[0].name
    spec = REPORTS.get(name) if name else None
    groups = spec.groups if spec else ()
    form.by.choices = choices((g, GROUP_LABELS.get(g, g)) for g in groups) if groups else choices([("", "—")])
    if not form.by.data:
        form.by.data = (spec.default_by if spec and spec.default_by else "") if groups else ""
    return form, campaigns


def _chosen(form: FilterForm, campaigns: list) -> Campaign | None:
    """The campaign the page is about: its times (and days) are read in that campaign's zone."""
    return db().query(Campaign).filter_by(name=form.campaign.data).one_or_none() if campaigns else None


def _run(form: FilterForm, name: str):
    try:
        report = run_report(db(), name, form.campaign.data, now(), form.first.data or None, form.last.data or None,
                            form.by.data or None)
        db().commit()  # run_report refreshes the rollups
        # show the range the report covers (its defaults when the user gave none)
        form.first.data = form.first.data or report.period.first_day.isoformat()
        form.last.data = form.last.data or report.period.last_day.isoformat()
        return report
    except UserError as e:
        db().rollback()
        form.form_errors = [sentence(str(e))]
        return None


@bp.get("/")
def index():
    form, campaigns = _filters("summary")
    summary = None
    if campaigns and form.validate():
        report = _run(form, "summary")
        summary = report.rows[0] if report else None
    campaign = _chosen(form, campaigns)
    return render_template("reports/index.html", form=form, campaigns=campaigns, tiles=summary_tiles(summary),
                           summary=summary, campaign=campaign, menu=[(n, REPORTS[n]) for n in MENU if n in REPORTS]), \
        400 if form.errors else 200


@bp.get("/<name>")
def show(name: str):
    if name not in REPORTS or name == "summary":
        abort(404)
    form, campaigns = _filters(name)
    report = _run(form, name) if campaigns and form.validate() else None
    return render_template("reports/show.html", name=name, spec=REPORTS[name], form=form, campaigns=campaigns,
                           report=report, cell=cell, campaign=_chosen(form, campaigns),
                           menu=[(n, REPORTS[n]) for n in MENU if n in REPORTS]), \
        400 if form.errors else 200


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _filename(*parts: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", "-".join(p for p in parts if p)).strip("-")


def _download(reports, fmt: str, name: str) -> Response:
    """CSV as a spreadsheet opens it (headers in words, rates and durations as shown, formula-safe) or XLSX (typed
    cells plus an About sheet with the definitions)."""
    if fmt == "csv":
        return Response("\ufeff" + sheet_csv(reports), mimetype="text/csv",
                        headers={"Content-Disposition": f'attachment; filename="{name}.csv"'})
    buf = io.BytesIO()
    exports.to_xlsx(reports, buf)
    return Response(buf.getvalue(), mimetype=XLSX,
                    headers={"Content-Disposition": f'attachment; filename="{name}.xlsx"'})


@bp.get("/<name>.<fmt>")
def export(name: str, fmt: str):
    if name not in REPORTS or fmt not in ("csv", "xlsx"):
        abort(404)
    form, campaigns = _filters(name)
    if not campaigns or not form.validate():
        abort(400, "the filters are not valid; open the report page to see why")
    report = _run(form, name)
    if report is None:
        abort(400, " ".join(form.form_errors))
    p = report.period
    return _download(report, fmt, _filename(report.campaign, name, f"{p.first_day}_{p.last_day}"))


@bp.get("/<name>/chart.svg")
def chart(name: str):
    """The report's time series as SVG (matplotlib), embedded as an image on the report page."""
    if name not in REPORTS:
        abort(404)
    form, campaigns = _filters(name)
    report = _run(form, name) if campaigns and form.validate() else None
    if report is None or report.series is None:
        abort(404)
    svg = charts.render(report, "svg")
    # the SVG carries its own inline styles; it is an image, never a document that runs anything
    return Response(svg, mimetype="image/svg+xml",
                    headers={"Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'",
                             "Cache-Control": "private, max-age=60"})


@bp.get("/daily")
def daily_index():
    """The daily reports the scheduler stored for a campaign (one per finished local day)."""
    form, campaigns = _filters(None)
    days = daily.stored_days(db(), form.campaign.data) if campaigns and form.campaign.data else []
    return render_template("reports/daily.html", form=form, campaigns=campaigns, days=days, menu=MENU,
                           campaign=_chosen(form, campaigns))


@bp.get("/daily/<day>")
def daily_day(day: str):
    form, campaigns = _filters(None)
    if not campaigns:
        abort(404)
    try:
        stored = daily.stored(db(), form.campaign.data, day)
    except UserError:
        abort(404)
    sections = daily.sections_of(stored)
    fmt = request.args.get("format")
    if fmt in ("csv", "xlsx"):
        name = _filename(form.campaign.data, "daily", str(stored.day))
        return _download(sections if fmt == "xlsx" else sections[0], fmt, name)
    return render_template("reports/daily_day.html", form=form, stored=stored, sections=sections, cell=cell,
                           times_in=stored.data.get("timezone"))


@bp.get("/compare")
def compare_campaigns():
    """Every running campaign side by side over the same dates (each read in its own time zone)."""
    form, campaigns = _filters(None)
    report = None
    if campaigns and form.validate():
        try:
            report = compare(db(), now(), form.first.data or None, form.last.data or None,
                             include_finished=request.args.get("finished") == "1")
            db().commit()
            form.first.data = form.first.data or report.period.first_day.isoformat()
            form.last.data = form.last.data or report.period.last_day.isoformat()
        except UserError as e:
            db().rollback()
            form.form_errors = [sentence(str(e))]
    if request.args.get("format") == "csv" and report is not None:
        return _download(report, "csv", _filename("campaigns-compared", form.first.data, form.last.data))
    return render_template("reports/compare.html", form=form, campaigns=campaigns, report=report, cell=cell,
                           menu=[(n, REPORTS[n]) for n in MENU if n in REPORTS]), 400 if form.errors else 200
