"""A campaign's lists for its manager: enable or disable a list, the list mix (an order or weights), and a reset
for another pass, counted and confirmed on its own page before anything changes.

The rules are ``campaigns.leads.listadmin``'s, shared with ``dialer lists``; every change lands in the campaign's
history with who, when, old and new value, shown at the foot of the page.
"""

from __future__ import annotations

from types import SimpleNamespace

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from campaigns.campaign.history import changes
from campaigns.campaign.models import Campaign
from campaigns.leads import listadmin
from campaigns.leads.models import LeadList
from dnc.errors import UserError
from web.context import db, now
from web.forms import as_id, sentence

bp = Blueprint("listadmin", __name__, url_prefix="/campaigns/<int:campaign_id>/lists")


def _campaign(campaign_id: int) -> Campaign:
    campaign = db().get(Campaign, campaign_id)
    if campaign is None:
        abort(404)
    return campaign


def _list(campaign: Campaign, list_id: int) -> LeadList:
    lst = db().get(LeadList, list_id)
    if lst is None or lst.campaign_id != campaign.id:
        abort(404)
    return lst


def _history(campaign: Campaign, names: dict[int, str]) -> list:
    """The campaign's changes to its lists, each named by the list's name rather than its id."""
    out = []
    for h in changes(db(), campaign.id, limit=200):
        kind, _, ref = h.subject.partition(":")
        if kind == "list" and len(out) < 50:
            name = names.get(int(ref)) if ref.isdigit() else None
            out.append(SimpleNamespace(at=h.at, by=h.by, what=f"list {name or ref}", field=h.field, old=h.old,
                                       new=h.new))
    return out


def _page(campaign: Campaign, error: str | None = None, mode: str | None = None, values: dict | None = None,
          status: int = 200):
    rows = listadmin.lists(db(), campaign)
    current = listadmin.mix_mode(rows)
    names = {x.id: x.name for x in rows}
    return render_template("listadmin/index.html", campaign=campaign, rows=listadmin.overview(db(), campaign),
                           mode=mode or current, current=current, modes=listadmin.MIX_MODES, error=error,
                           values=values or {}, history=_history(campaign, names)), status


@bp.get("/")
def index(campaign_id: int):
    return _page(_campaign(campaign_id))


@bp.post("/<int:list_id>/enabled")
def enabled(campaign_id: int, list_id: int):
    campaign = _campaign(campaign_id)
    lst = _list(campaign, list_id)
    active = request.form.get("enabled") == "1"
    if listadmin.set_active(db(), campaign, lst, active, current_user.username, now()):
        db().commit()
        flash(f"List {lst.name} enabled: its leads are dialed again." if active
              else f"List {lst.name} disabled: its leads are not dialed until it is enabled again.", "success")
    return redirect(url_for("listadmin.index", campaign_id=campaign.id))


@bp.post("/mix")
def mix(campaign_id: int):
    """The mix form: a mode and, per list, a place (order) or a weight; blank boxes leave a list out."""
    campaign = _campaign(campaign_id)
    mode = request.form.get("mode", "")
    values: dict[int, int] = {}
    raw = {x.id: (request.form.get(f"value-{x.id}") or "").strip() for x in listadmin.lists(db(), campaign)}
    try:
        for lid, text in raw.items():
            if mode in ("order", "weights") and text:
                if as_id(text) is None:
                    name = db().get(LeadList, lid).name
                    what = "weight" if mode == "weights" else "place"
                    raise UserError(f"List mix: give {name}'s {what} as a whole number, got {text!r}")
                values[lid] = int(text)
        changed = listadmin.set_mix(db(), campaign, mode, values, current_user.username, now())
        db().commit()
    except UserError as e:
        db().rollback()
        return _page(campaign, sentence(str(e)), mode if mode in listadmin.MIX_MODES else None, raw, 400)
    flash(f"List mix saved: {listadmin.MIX_MODES[mode].lower()}; the dialer uses it from its next turn."
          if changed else "Nothing changed.", "success")
    return redirect(url_for("listadmin.index", campaign_id=campaign.id))


@bp.route("/<int:list_id>/reset", methods=["GET", "POST"])
def reset(campaign_id: int, list_id: int):
    """Step 1 (GET): which finished leads may come back, with counts. Step 2 (POST ``review``): the count to
    confirm. Step 3 (POST ``confirm`` with the count confirmed): done, unless the list changed in between."""
    campaign = _campaign(campaign_id)
    lst = _list(campaign, list_id)
    chosen = request.form.getlist("choice") if request.method == "POST" else []
    step = request.form.get("step", "choose")
    error = None
    try:
        plan = listadmin.plan(db(), campaign, lst, chosen, now())
    except UserError as e:
        plan, error, step = listadmin.plan(db(), campaign, lst, [], now()), sentence(str(e)), "choose"
    if step in ("review", "confirm") and not plan.chosen:
        error, step = "Choose which leads to reset.", "choose"
    if step == "confirm":
        try:
            expected = int(request.form.get("expected", ""))
        except ValueError:
            expected = -1
        try:
            done = listadmin.reset(db(), campaign, lst, chosen, current_user.username, now(), expected=expected)
            db().commit()
        except UserError as e:
            db().rollback()
            error, step = sentence(str(e)), "review"
        else:
            flash(f"{done.total:,} leads of {lst.name} are back in the queue, due now.", "success")
            return redirect(url_for("listadmin.index", campaign_id=campaign.id))
    return render_template("listadmin/reset.html", campaign=campaign, lst=lst, plan=plan, step=step, error=error,
                           kept_words=listadmin.KEPT), 400 if error else 200
