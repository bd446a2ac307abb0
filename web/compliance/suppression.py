"""Suppressed leads with their reasons (manager and compliance officer), and loading consent records,
suppression lists and Reassigned Numbers Database data from the console (as ``dialer dnc load-consents`` /
``load-state`` … / ``load-rnd`` do).

A consent file re-evaluates the suppressed leads of its numbers at once
(``campaigns.compliance.suppressed.load_consents``): the leads suppressed only for lack of consent become dialable.
"""

from __future__ import annotations

import csv
import io
import tempfile
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import TypeVar

from flask import Response, flash, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from sqlalchemy import select
from wtforms import BooleanField, SelectField, StringField
from wtforms.validators import DataRequired, Length, Optional

from campaigns.campaign.service import list_campaigns
from campaigns.compliance.suppressed import load_consents, reasons_text, suppressed_leads
from campaigns.leads.models import LeadList
from dnc import lists
from dnc.errors import UserError
from dnc.reassigned import load_rnd
from dnc.reports import safe_cell
from web.compliance import bp
from web.context import console, db, now
from web.forms import choices, sentence

T = TypeVar("T")
SHOWN = 500  # rows on the page; the CSV has them all
SOURCES = (("state", "State DNC list (one state)"), ("litigator", "Litigator list"),
           ("wireless", "Wireless / ported-to-wireless numbers"), ("prefix", "Blocked area codes / prefixes"))


def _filters() -> tuple[int | None, int | None, list, list]:
    camps = list_campaigns(db())
    cid = next((c.id for c in camps if c.name == request.args.get("campaign")), None)
    lists_ = db().execute(select(LeadList.id, LeadList.name).where(LeadList.campaign_id == cid)
                          .order_by(LeadList.id)).all() if cid is not None else []
    lid = next((i for i, n in lists_ if str(i) == request.args.get("list")), None)
    return cid, lid, camps, lists_


@bp.get("/suppressed")
def suppressed():
    cid, lid, camps, lists_ = _filters()
    page = suppressed_leads(db(), cid, lid, limit=SHOWN)
    return render_template("compliance/suppressed.html", page=page, campaigns=camps, lists=lists_, shown=SHOWN,
                           campaign=request.args.get("campaign", ""), list_id=lid)


@bp.get("/suppressed.csv")
def suppressed_csv():
    cid, lid, _, _ = _filters()
    page = suppressed_leads(db(), cid, lid)
    out = io.StringIO()
    out.write("\ufeff")
    w = csv.writer(out)
    w.writerow(["Lead", "Number", "Campaign", "List", "Line", "State", "ZIP", "Reasons", "Reason codes",
                "Imported (UTC)"])
    for r in page.rows:
        w.writerow([safe_cell(v) for v in (r["name"], r["number"], r["campaign"], r["list"], r["line"], r["state"],
                                           r["postal_code"], reasons_text(r["reasons"]),
                                           " ".join(x["code"] for x in r["reasons"]),
                                           f"{r['since']:%Y-%m-%d %H:%M}")])
    w.writerow([])
    w.writerow(["Suppressed leads", page.total])
    for code, words, n in page.by_reason:
        w.writerow([safe_cell(f"{words} ({code})"), n])
    if page.several:
        w.writerow([f"{page.several} leads have several reasons and are counted under each"])
    stamp = now().strftime("%Y%m%d-%H%M")
    return Response(out.getvalue(), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="suppressed-{stamp}.csv"'})


# The three forms share one page: each field gets an id of its own (the names posted stay "file", "version" ...), or a
# label would lead to another form's field (``for="file"`` chose the first file box on the page).
class ConsentUpload(FlaskForm):
    file = FileField("Consent file (CSV)", validators=[FileRequired("Choose a file to upload.")], id="consent-file")


class ListUpload(FlaskForm):
    source = SelectField("List", choices=choices(SOURCES), id="list-source")
    state = StringField("State (for a state list)", validators=[Optional(), Length(2, 2, "Two letters, e.g. FL.")],
                        id="list-state")
    version = StringField("Version date", validators=[DataRequired("Give the list's version date.")],
                          render_kw={"type": "date"}, id="list-version")
    vendor = StringField("Vendor", validators=[Optional(), Length(max=120)], id="list-vendor")
    file = FileField("List file", validators=[FileRequired("Choose a file to upload.")], id="list-file")


class RndUpload(FlaskForm):
    version = StringField("Data as of", validators=[DataRequired("Give the day the RND data are as of.")],
                          render_kw={"type": "date"}, id="rnd-version")
    changes = BooleanField("Adds to the RND data in force (unticked: the file is the whole of it)", id="rnd-changes")
    vendor = StringField("From", validators=[Optional(), Length(max=120)], id="rnd-vendor")
    file = FileField("RND file (CSV)", validators=[FileRequired("Choose a file to upload.")], id="rnd-file")


def _load_page(consent_form=None, list_form=None, rnd_form=None, status: int = 200):
    return render_template("compliance/load.html", consent_form=consent_form or ConsentUpload(formdata=None),
                           list_form=list_form or ListUpload(formdata=None),
                           rnd_form=rnd_form or RndUpload(formdata=None), sources=SOURCES), status


@bp.get("/load")
def load():
    return _load_page()


NAME_MAX = 200  # bytes: under every file system's limit on a name (255)


def upload_name(filename: str | None) -> str:
    """The client's file name as the loaders record it (the scrub ledger keeps it): its last part only, never a
    path, ``.`` or ``..``, nor a NUL, and short enough to be a file name (the extension kept)."""
    name = (filename or "").replace("\\", "/").replace("\x00", "").rsplit("/", 1)[-1].strip()
    if name in ("", ".", ".."):
        return "upload.csv"
    if len(name.encode()) > NAME_MAX:
        suffix = Path(name).suffix[:16]
        stem = name.removesuffix(suffix).encode()[:NAME_MAX - len(suffix.encode())]
        name = stem.decode(errors="ignore") + suffix
    return name


def _saved(storage, tmp: str) -> Path:
    path = Path(tmp) / upload_name(storage.filename)
    storage.save(path)
    return path


def _version(form) -> date | None:
    """The form's version date, or None with the mistake written on the field."""
    try:
        return date.fromisoformat(form.version.data)
    except ValueError:
        form.version.errors = ["Write a date such as 2030-01-31."]
        return None


def _loaded(form, prefix: str, load: Callable[[Path], T]) -> T | None:
    """Run one upload's load on a temporary copy of the file, all or nothing: committed when it succeeds, rolled
    back with the loader's message (file, line, field) on the file field when it does not."""
    with tempfile.TemporaryDirectory(prefix=prefix) as tmp:
        try:
            out = load(_saved(form.file.data, tmp))
            db().commit()
        except UserError as e:
            db().rollback()
            form.file.errors = [sentence(str(e))]
            return None
    return out


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'s' if n != 1 else ''}"


@bp.post("/load/consents")
def load_consent_file():
    form = ConsentUpload()
    if form.validate_on_submit():
        out = _loaded(form, "consents-", lambda path: load_consents(
            db(), path, added_by=current_user.username, now=now(), store=console().dnc_store))
        if out is not None:
            n, r = out
            flash(f"{_plural(n, 'consent record')} recorded. {_plural(len(r.dialable), 'suppressed lead')} became "
                  f"dialable, {len(r.narrowed)} kept other reasons; each change is in the audit ledger.", "success")
            return redirect(url_for("compliance.load"))
    return _load_page(consent_form=form, status=400)


@bp.post("/load/list")
def load_list_file():
    form = ListUpload()
    form.source.choices = choices(SOURCES)
    if form.validate_on_submit() and (version := _version(form)) is not None:
        ld = _loaded(form, "dnc-list-", lambda path: lists.load_list(
            db(), form.source.data, path, key=(form.state.data or "").strip(), version_date=version,
            loaded_by=current_user.username, now=now(), vendor=form.vendor.data or ""))
        if ld is not None:
            flash(f"{dict(SOURCES)[ld.source]}{' ' + ld.list_key if ld.list_key else ''} of {ld.version_date}: "
                  f"{ld.count:,} entries in force. The gate uses it from its next decision; it is in the scrub "
                  "ledger.", "success")
            return redirect(url_for("compliance.load"))
    return _load_page(list_form=form, status=400)


@bp.post("/load/rnd")
def load_rnd_file():
    form = RndUpload()
    if form.validate_on_submit() and (version := _version(form)) is not None:
        ld = _loaded(form, "dnc-rnd-", lambda path: load_rnd(
            db(), path, version_date=version, loaded_by=current_user.username, now=now(),
            vendor=form.vendor.data or "", mode="changes" if form.changes.data else "full"))
        if ld is not None:
            flash(f"Reassigned Numbers Database data of {ld.version_date}: {ld.added:,} numbers in the file, "
                  f"{ld.count:,} with a recorded disconnection in force. A consent or EBR dated on or before a "
                  "number's disconnection no longer covers it from the gate's next decision; the load is in the "
                  "scrub ledger.", "success")
            return redirect(url_for("compliance.load"))
    return _load_page(rnd_form=form, status=400)
