"""The staffing planner for a campaign's manager: measured inputs, a schedule grid, the simulated plan and
Erlang C for the inbound side — the page form of ``dialer plan``.

Every input travels in the query string (plans are read-only and the same inputs give the same plan), so a
plan can be bookmarked, shared and exported as CSV or XLSX without storing anything.
"""

from __future__ import annotations

import base64
import csv
import io
import math
from datetime import date, timedelta

from flask import Blueprint, Response, abort, render_template, request

from campaigns.agents.models import Agent
from campaigns.campaign.models import Campaign
from campaigns.reports.export import append_text, safe_cell
from dialer.planner import DEFAULT_SEEDS, erlang
from dialer.planner.service import apply_overrides, fewest_agents, read_basis, what_if
from dialer.planner.whatif import parse_schedule
from dnc.errors import UserError
from web.context import db, now
from web.forms import download_name

bp = Blueprint("planner", __name__, url_prefix="/campaigns/<int:campaign_id>/planner")

GRID_HOURS = range(8, 21)  # the federal calling window's hours (8:00-21:00 local)
MAX_WEB_SEEDS = 8
PACER_LABELS = {"predictive": "Predictive", "progressive": "Progressive", "power": "Power"}
OVERRIDES = (("live", "Live answers, % of dials", 100), ("talk_mean_s", "Average talk time, seconds", 1),
             ("wrap_mean_s", "Average wrap time, seconds", 1), ("callable_leads", "Leads left to dial", 1))
GOALS = {"contacts_per_day": "Contacts a day", "occupancy": "Occupancy, %", "list_done_by": "List done by (date)"}


def _campaign(campaign_id: int) -> Campaign:
    c = db().get(Campaign, campaign_id)
    if c is None:
        abort(404)
    return c


@bp.get("")
def index(campaign_id: int):
    campaign = _campaign(campaign_id)
    args = request.args
    error = None
    basis = plan = staff = None
    try:
        history_days = _int(args.get("history_days"), 14, "Days of history")
        grid = _grid(campaign, args)
        days, seeds = _int(args.get("days"), 1, "Days to plan"), _int(args.get("seeds"), DEFAULT_SEEDS, "Seeds")
        basis = read_basis(db(), campaign.name, now(), history_days)
    except UserError as e:
        error = str(e)
        history_days, days, seeds, grid = 14, 1, DEFAULT_SEEDS, _grid(campaign, {})
    db().rollback()  # nothing below reads the database: no transaction stays open while it simulates
    form = {"history_days": history_days, "days": days, "seeds": seeds,
            "start": args.get("start") or (now() + timedelta(days=1)).date().isoformat(),
            "pacers": args.getlist("pacer") or [campaign.pacing_mode if campaign.pacing_mode in PACER_LABELS
                                                 else "predictive"],
            "goal": args.get("goal", ""), "goal_value": args.get("goal_value", ""),
            "overrides": {k: args.get(k, "") for k, _, _ in OVERRIDES}}
    if basis is not None and args.get("run") and error is None:
        try:
            plan, staff = _run(basis, grid, form)
        except UserError as e:
            error = str(e)
    erl = _erlang(args)
    chart = _chart(plan["plans"][0]) if plan else None
    return render_template("planner/index.html", campaign=campaign, basis=basis, grid=grid, form=form,
                           plan=plan, staff=staff, erlang=erl, error=error, chart=chart,
                           pacer_labels=PACER_LABELS, overrides=OVERRIDES, goals=GOALS, export_query=_export_query())


@bp.get("/export.<fmt>")
def export(campaign_id: int, fmt: str):
    if fmt not in ("csv", "xlsx"):
        abort(404)
    campaign = _campaign(campaign_id)
    args = request.args
    try:
        basis = read_basis(db(), campaign.name, now(), _int(args.get("history_days"), 14, "Days of history"))
        db().rollback()
        form = {"days": _int(args.get("days"), 1, "Days to plan"),
                "seeds": _int(args.get("seeds"), DEFAULT_SEEDS, "Seeds"),
                "start": args.get("start") or (now() + timedelta(days=1)).date().isoformat(),
                "pacers": args.getlist("pacer") or ["predictive"], "goal": "", "goal_value": "",
                "overrides": {k: args.get(k, "") for k, _, _ in OVERRIDES}}
        plan, _ = _run(basis, _grid(campaign, args), form)
    except UserError as e:
        return Response(f"The plan could not be made: {e}\n", status=400, mimetype="text/plain")
    rows = _rows(plan)
    name = download_name("plan", campaign.name)
    if fmt == "csv":
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        w.writerow(list(rows[0].keys()))
        for r in rows:
            w.writerow([safe_cell(v) if isinstance(v, str) else v for v in r.values()])
        return Response(buf.getvalue(), mimetype="text/csv",
                        headers={"Content-Disposition": f'attachment; filename="{name}.csv"'})
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = "Plan"
    append_text(ws, list(rows[0].keys()))
    for r in rows:
        append_text(ws, list(r.values()))
    about = wb.create_sheet("About")
    for line in (("Campaign", campaign.name), ("Hours in", campaign.timezone),
                 ("Seeds", plan["seeds"]), ("Figures", "mean of the seeds, with the lowest and highest seed")):
        append_text(about, list(line))
    out = io.BytesIO()
    wb.save(out)
    return Response(out.getvalue(), mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                    headers={"Content-Disposition": f'attachment; filename="{name}.xlsx"'})


def _run(basis, grid: dict[int, int], form: dict):
    overrides = {}
    for key, label, scale in OVERRIDES:
        raw = (form["overrides"].get(key) or "").strip()
        if raw:
            try:
                overrides[key] = float(raw) / scale
            except ValueError:
                raise UserError(f"{label}: {raw!r} is not a number") from None
            if not math.isfinite(overrides[key]):  # 1e400, inf, nan (and 400 digits: inf)
                raise UserError(f"{label}: {raw[:20]!r} is not a number a plan can use")
    apply_overrides(basis.inputs, overrides)
    text = ",".join(f"{h}-{h + 1}:{n}" for h, n in grid.items() if n > 0)
    if not text:
        raise UserError("Schedule: put a number of agents in at least one hour")
    try:
        first = date.fromisoformat(form["start"])
    except ValueError:
        raise UserError(f"First day: {form['start']!r} is not a date") from None
    if not 2000 <= first.year <= 2999:  # the simulated days run past it: year 9999 overflows the calendar
        raise UserError(f"First day: {first} is outside the years 2000 to 2999")
    if not 1 <= form["seeds"] <= MAX_WEB_SEEDS:
        raise UserError(f"Seeds: between 1 and {MAX_WEB_SEEDS}")
    schedule = parse_schedule(text, first, form["days"])
    pacers = tuple(p for p in form["pacers"] if p in PACER_LABELS) or ("predictive",)
    plan = what_if(basis, schedule, form["seeds"], pacers)
    staff = None
    if form["goal"] in GOALS and form["goal_value"].strip():
        raw = form["goal_value"].strip()
        try:
            value = raw if form["goal"] == "list_done_by" else float(raw) / (100 if form["goal"] == "occupancy"
                                                                               else 1)
            if form["goal"] == "list_done_by":
                date.fromisoformat(raw)
        except ValueError:
            raise UserError(f"{GOALS[form['goal']]}: {raw!r} does not fit") from None
        staff = fewest_agents(basis, schedule, form["goal"], value, form["seeds"])
    return plan, staff


def _grid(campaign: Campaign, args) -> dict[int, int]:
    """Agents per hour from the form, or the campaign's assigned agents from 9:00 to 17:00 to start from."""
    if any(f"h{h}" in args for h in GRID_HOURS):
        return {h: max(0, min(5000, _int(args.get(f"h{h}"), 0, f"Agents at {h}:00"))) for h in GRID_HOURS}
    from sqlalchemy import func, select

    assigned = db().scalar(select(func.count()).select_from(Agent).where(Agent.campaign_id == campaign.id)) or 0
    return {h: (assigned if 9 <= h < 17 else 0) for h in GRID_HOURS}


def _erlang(args) -> dict | None:
    if not args.get("erlang"):
        return None
    try:
        calls, aht = float(args.get("e_calls", "")), float(args.get("e_aht", ""))
        sl, within = float(args.get("e_sl", "80")), float(args.get("e_within", "20"))
        occ = float(args.get("e_occ", "85"))
        load = erlang.load_of(calls, 1800, aht)
        best = erlang.agents_for(load, aht, service_level=sl / 100, target_s=within, max_occupancy=occ / 100)
        levels = erlang.table(load, aht, within, max(1, best.agents - 3), best.agents + 3)
        return {"load": load, "best": best, "levels": levels}
    except ValueError:
        return {"error": "Erlang C: give calls per half hour and the handle time as numbers"}
    except UserError as e:
        return {"error": f"Erlang C: {e}"}


def _rows(plan: dict) -> list[dict]:
    rows = []
    for p in plan["plans"]:
        for h in p["hourly"]:
            rows.append({"Pacing": PACER_LABELS.get(p["pacer"], p["pacer"]), "Day": h["day"], "Hour": h["hour"],
                         "Agents": h["agent_hours"]["mean"], "Dials": h["dials"]["mean"],
                         "Contacts": h["contacts"]["mean"], "Contacts (lowest seed)": h["contacts"]["min"],
                         "Contacts (highest seed)": h["contacts"]["max"], "Closes": h["closes"]["mean"],
                         "Occupancy %": round(h["occupancy"]["mean"] * 100, 1),
                         "Abandon %": round(h["abandon"]["mean"] * 100, 2)})
    return rows


def _chart(p: dict) -> str:
    """Contacts per hour (mean, with the seeds' range) as an SVG data URI: no script, nothing to inject."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    xs = [f"{h['day'][5:]} {h['hour']}" for h in p["hourly"]]
    fig = Figure(figsize=(12.0, 3.4), dpi=100)  # wide, so the page shows its labels at reading size
    ax = fig.add_subplot()
    idx = range(len(xs))
    ax.fill_between(idx, [h["contacts"]["min"] for h in p["hourly"]], [h["contacts"]["max"] for h in p["hourly"]],
                    alpha=0.25, label="lowest to highest seed")
    ax.plot(idx, [h["contacts"]["mean"] for h in p["hourly"]], marker="o", markersize=3, label="contacts (mean)")
    ax.set_ylabel("contacts per hour")
    step = max(1, len(xs) // 12)
    ax.set_xticks(list(idx)[::step], xs[::step], rotation=45, ha="right", fontsize=7)
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="svg", metadata={"Date": None})
    return "data:image/svg+xml;base64," + base64.b64encode(buf.getvalue()).decode()


def _export_query() -> str:
    return request.query_string.decode("ascii", "replace")


def _int(raw: str | None, default: int, label: str = "") -> int:
    try:
        return int(raw) if raw not in (None, "") else default
    except ValueError:
        raise UserError(f"{label or 'A number'}: {raw!r} is not a whole number") from None
