"""Lead lists for the campaign manager: upload (XHR with progress), check and edit the column mapping, watch the
import, read the receipt (accepted / duplicate / rejected / suppressed, with reasons) and download rejected rows.

The import, the mapping rules and the reject export are ``campaigns.leadimport``'s; this module only moves the
file and the user's choices to them.
"""

from __future__ import annotations

import re
import tempfile
from collections import Counter

from flask import Blueprint, Response, abort, current_app, flash, jsonify, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField, SelectField, StringField
from wtforms.validators import Length, Optional

from campaigns.campaign.models import Campaign
from campaigns.leadimport.export import export_rejects
from campaigns.leadimport.mapping import FIELDS
from campaigns.leadimport.preview import FIELD_LABELS, preview_file
from campaigns.leadimport.receipt import reject_reasons
from campaigns.leads.models import LeadList
from campaigns.reports.lists import several_reasons, suppression_reasons
from dnc.errors import UserError
from web import imports
from web.context import db, now
from web.forms import OneLine, choices, sentence
from web.roles import wants_json

bp = Blueprint("lists", __name__)
NONE = ""


class UploadForm(FlaskForm):
    file = FileField("Lead file", validators=[FileRequired("Choose a file to upload.")],
                     render_kw={"accept": ".csv,.tsv,.txt,.psv,.xlsx,text/csv"})


def mapping_form(header: list[str], detected: dict[str, str], default_name: str) -> FlaskForm:
    """A form with one column choice per lead field; the detected column is preselected."""

    class MappingForm(FlaskForm):
        list_name = StringField("List name", default=default_name,
                                validators=[Optional(), Length(max=200, message="At most 200 characters."),
                                            OneLine("list name")])
        force = BooleanField("Import it again although this exact file was imported before")

    for f in FIELDS:
        options = ([] if f in detected else [(NONE, "— not in this file —")]) + [(h, h) for h in header]
        setattr(MappingForm, f"map_{f}", SelectField(FIELD_LABELS[f], choices=choices(options),
                                                     default=detected.get(f, NONE), validate_choice=False))
    return MappingForm()


def _campaign(campaign_id: int) -> Campaign:
    campaign = db().get(Campaign, campaign_id)
    if campaign is None:
        abort(404)
    return campaign


def _job(job_id: str) -> imports.UploadJob:
    job = imports.get_job(current_app.config["UPLOAD_DIR"], job_id)
    if job is None:
        abort(404)
    return job


@bp.route("/campaigns/<int:campaign_id>/upload", methods=["GET", "POST"])
def upload(campaign_id: int):
    campaign = _campaign(campaign_id)
    form = UploadForm()
    if form.validate_on_submit():
        try:
            job = imports.new_job(current_app.config["UPLOAD_DIR"], form.file.data, campaign.id, campaign.name,
                                  current_user.username, now())
        except UserError as e:
            form.file.errors = [sentence(str(e), imports.upload_name(form.file.data))]
        else:
            target = url_for("lists.mapping", job_id=job.id)
            return jsonify(next=target) if wants_json() else redirect(target, 303)
    if form.errors and wants_json():
        return jsonify(error=" ".join(e for errs in form.errors.values() for e in errs), errors=form.errors), 400
    limit_mb = (current_app.config.get("MAX_CONTENT_LENGTH") or 0) // (1024 * 1024)
    return render_template("lists/upload.html", campaign=campaign, form=form, limit_mb=limit_mb), \
        400 if form.errors else 200


@bp.route("/uploads/<job_id>", methods=["GET", "POST"])
def mapping(job_id: str):
    job = _job(job_id)
    meta, status = job.meta(), job.status()
    if status.get("state") in ("importing", "done"):
        return redirect(url_for("lists.progress", job_id=job.id))
    campaign = _campaign(meta["campaign_id"])
    try:
        preview = preview_file(job.data_path, meta["filename"])
    except UserError as e:
        return render_template("lists/unreadable.html", campaign=campaign, meta=meta, job=job,
                               error=sentence(str(e), meta["filename"])), 400
    stem = meta["filename"].rsplit(".", 1)[0] if "." in meta["filename"] else meta["filename"]
    form = mapping_form(preview.header, preview.fields, status.get("list_name") or stem[:180])
    if request.method == "GET" and status.get("mapping"):
        for f, col in status["mapping"].items():
            form[f"map_{f}"].data = col
    if form.validate_on_submit() and _mapping_ok(form, preview.header):
        chosen = {f: form[f"map_{f}"].data for f in FIELDS if form[f"map_{f}"].data}
        imports.start_import(current_app._get_current_object(), job, chosen, (form.list_name.data or "").strip()
                             or None, bool(form.force.data), now(), inline=current_app.config["IMPORT_INLINE"])
        return redirect(url_for("lists.progress", job_id=job.id), 303)
    status_code = 400 if request.method == "POST" and (form.errors or form.form_errors) else 200
    return render_template("lists/mapping.html", campaign=campaign, meta=meta, job=job, preview=preview, form=form,
                           fields=FIELDS, failed=status if status.get("state") == "failed" else None), status_code


def _mapping_ok(form: FlaskForm, header: list[str]) -> bool:
    """The phone column is chosen and no column feeds two fields (each error sits next to its field)."""
    ok = True
    for f in FIELDS:
        if form[f"map_{f}"].data and form[f"map_{f}"].data not in header:
            form[f"map_{f}"].errors = [f"The file has no column “{form[f'map_{f}'].data}”."]
            ok = False
    if not form["map_phone"].data:
        form["map_phone"].errors = ["Choose the column that holds the phone numbers."]
        ok = False
    used: dict[str, str] = {}
    for f in FIELDS:
        col = form[f"map_{f}"].data
        if not col:
            continue
        if col in used:
            form[f"map_{f}"].errors = [f"Column “{col}” already feeds {FIELD_LABELS[used[col]]}."]
            ok = False
        used.setdefault(col, f)
    if form["map_name"].data and (form["map_first_name"].data or form["map_last_name"].data):
        form["map_name"].errors = ["Use a full-name column or first/last name columns, not both."]
        ok = False
    return ok


@bp.post("/uploads/<job_id>/discard")
def discard(job_id: str):
    job = _job(job_id)
    campaign_id = job.meta()["campaign_id"]
    if job.status().get("state") == "importing":
        flash("This upload is being imported; it cannot be discarded now.", "error")
        return redirect(url_for("lists.progress", job_id=job.id))
    imports.discard(job)
    flash("Upload discarded; nothing was imported.", "info")
    return redirect(url_for("campaigns.detail", campaign_id=campaign_id))


@bp.get("/uploads/<job_id>/progress")
def progress(job_id: str):
    job = _job(job_id)
    meta, status = job.meta(), job.status()
    if status.get("state") == "failed":
        flash(sentence(status.get("error", "the import failed"), meta["filename"]), "error")
        return redirect(url_for("lists.mapping", job_id=job.id))
    return render_template("lists/progress.html", campaign=_campaign(meta["campaign_id"]), meta=meta, job=job,
                           status=status, poll_s=1)


@bp.get("/uploads/<job_id>/status")
def status(job_id: str):
    job = _job(job_id)
    st = job.status()
    out = {"state": st.get("state"), "rows": st.get("rows", 0), "bytes_done": st.get("bytes_done", 0),
           "total_bytes": st.get("total_bytes", job.meta()["size"])}
    if st.get("state") == "done":
        out["result"] = {k: st["result"][k] for k in ("rows", "accepted", "duplicates", "rejected", "suppressed",
                                                      "list_id", "list_name", "suppressed_by", "blank_lines")}
        out["list_url"] = url_for("lists.detail", list_id=st["result"]["list_id"])
    if st.get("state") == "failed":
        out["error"] = sentence(st.get("error", ""), job.meta()["filename"]) or "The import failed."
        out["mapping_url"] = url_for("lists.mapping", job_id=job.id)
    return jsonify(out)


def _list(list_id: int) -> tuple[LeadList, Campaign]:
    lst = db().get(LeadList, list_id)
    if lst is None:
        abort(404)
    return lst, db().get(Campaign, lst.campaign_id)


@bp.get("/lists/<int:list_id>")
def detail(list_id: int):
    lst, campaign = _list(list_id)
    return render_template("lists/detail.html", lst=lst, campaign=campaign,
                           rejects=reject_reasons(db(), lst.id),
                           suppressed=suppression_reasons(db(), campaign).get(lst.id, Counter()).most_common(),
                           several=several_reasons(db(), lst.id),
                           labels=FIELD_LABELS)


@bp.get("/lists/<int:list_id>/rejects.csv")
def rejects(list_id: int):
    """The rejected rows (``?duplicates=1``: and the duplicates) as formula-safe CSV to fix and upload again."""
    lst, campaign = _list(list_id)
    with_dupes = request.args.get("duplicates") == "1"
    spool = tempfile.SpooledTemporaryFile(  # noqa: SIM115 (closed by the streaming generator below)
        max_size=8 * 1024 * 1024, mode="w+", newline="", encoding="utf-8")
    spool.write("\ufeff")  # Excel opens UTF-8 CSV correctly only with a BOM
    export_rejects(db(), campaign.name, lst.name, spool, with_dupes)
    spool.seek(0)

    def chunks():
        try:
            while chunk := spool.read(64 * 1024):
                yield chunk
        finally:
            spool.close()

    base = re.sub(r"[^A-Za-z0-9._-]+", "-", lst.name).strip("-") or "list"
    name = f"{base}-{'rejected-and-duplicates' if with_dupes else 'rejected'}.csv"
    return Response(chunks(), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})
