"""Scheduled reports by e-mail (sales lead, manager, admin): which report of which campaign goes to whom, every day
or on one weekday at a local hour; the worker's ``reports-email`` job sends them (``campaigns.reports.mailing``)."""

from __future__ import annotations

from flask import flash, redirect, render_template, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import SelectField, StringField
from wtforms.validators import DataRequired

from campaigns.campaign.models import Campaign
from campaigns.reports import mailing
from campaigns.reports.catalog import REPORTS
from dnc import settings
from dnc.errors import UserError
from web.context import db, now
from web.forms import as_id, choices, sentence
from web.reports import bp

EVERY_DAY = "every"


class ScheduleForm(FlaskForm):
    campaign = SelectField("Campaign", validate_choice=False, validators=[DataRequired("Choose a campaign.")])
    report = SelectField("Report", validate_choice=False)
    recipients = StringField("Send to", validators=[DataRequired("Give at least one e-mail address.")],
                             render_kw={"placeholder": "lead@example.com, boss@example.com"})
    weekday = SelectField("Day", default=EVERY_DAY,
                          choices=choices([(EVERY_DAY, "every day (the day before)")]
                                          + [(str(i), f"{d}s (the 7 days before)")
                                             for i, d in enumerate(mailing.WEEKDAYS)]))
    hour = SelectField("At (campaign's time)", default="7",
                       choices=choices((str(h), f"{h:02d}:00") for h in range(24)))


def _form() -> ScheduleForm:
    form = ScheduleForm()
    form.campaign.choices = choices((str(c.id), c.name) for c in db().query(Campaign).order_by(Campaign.name))
    form.report.choices = choices([(mailing.DAILY, "Daily report (every section)")]
                                  + [(n, s.title) for n, s in REPORTS.items()])
    return form


def _mail_server() -> str | None:
    try:
        smtp = settings.current().smtp
    except UserError as e:
        return f"the mail settings are wrong: {e}"
    return None if smtp is not None else "no mail server is configured (DIALER_SMTP_HOST): schedules are kept, " \
                                         "nothing is sent until one is"


@bp.get("/schedules")
def schedules():
    rows = [{"row": r, "campaign": name, "when": mailing.when_text(r),
             "report": "Daily report" if r.report == mailing.DAILY else REPORTS.get(r.report).title
             if r.report in REPORTS else r.report} for r, name in mailing.schedules(db())]
    return render_template("reports/schedules.html", rows=rows, form=_form(), warning=_mail_server())


@bp.post("/schedules")
def add_schedule():
    form = _form()
    if not form.validate_on_submit():
        flash(" ".join(e for errs in form.errors.values() for e in errs), "error")
        return redirect(url_for("reports.schedules"))
    cid = as_id(form.campaign.data)
    campaign = db().get(Campaign, cid) if cid is not None else None
    try:
        if campaign is None:
            raise UserError("campaign: choose one of the campaigns listed")
        weekday = None if form.weekday.data == EVERY_DAY else int(form.weekday.data)
        row = mailing.add_schedule(db(), campaign, form.report.data, form.recipients.data, int(form.hour.data),
                                   weekday, now(), current_user.username)
        db().commit()
    except (UserError, ValueError) as e:
        db().rollback()
        flash(sentence(str(e)), "error")
    else:
        flash(f"Scheduled: {campaign.name}, {mailing.when_text(row)}, to {row.recipients}.", "success")
    return redirect(url_for("reports.schedules"))


@bp.post("/schedules/<int:schedule_id>/delete")
def delete_schedule(schedule_id: int):
    form = FlaskForm()
    if form.validate_on_submit():
        try:
            mailing.remove_schedule(db(), schedule_id)
            db().commit()
            flash("Schedule removed.", "success")
        except UserError as e:
            db().rollback()
            flash(sentence(str(e)), "error")
    return redirect(url_for("reports.schedules"))
