"""The live floor for the campaign manager: a page that updates itself every few seconds from a JSON endpoint.

Everything shown is read by ``campaigns.floor.view.floor`` (agents, calls, today's figures from the report
service, the pacer's published explanation); this module only picks the campaign and serializes.
"""

from __future__ import annotations

from flask import Blueprint, abort, current_app, jsonify, render_template, request, url_for
from flask_login import current_user

from campaigns.agents.models import Agent
from campaigns.agents.service import TAKEN_OFF, go_offline
from campaigns.agents.states import reason_words
from campaigns.alerts import service as abandon_alerts
from campaigns.alerts.levels import tone
from campaigns.callbacks.service import counts as callback_counts
from campaigns.campaign.dial_settings import settings_of
from campaigns.campaign.history import record
from campaigns.campaign.models import Campaign
from campaigns.campaign.service import list_campaigns
from campaigns.floor.view import floor, plain_sentence
from campaigns.funnel.result import LABELS as FUNNEL_LABELS
from campaigns.funnel.service import funnel
from campaigns.reports.metrics import GLOSSARY
from campaigns.reports.rollup import refresh
from web.context import console, db, now, reads
from web.floor_format import capped_text, pacer_inputs, time_text, window_text
from web.forms import as_id

bp = Blueprint("floor", __name__, url_prefix="/floor")
TODAY_KEYS = ("dials", "live_answers", "contacts", "closes", "abandoned", "hit_rate", "abandon_rate",
              "abandon_rate_30d", "live_answers_30d", "abandoned_30d", "first_call_close", "aht_seconds")
def _campaign() -> Campaign | None:
    cid = as_id(request.args.get("campaign_id"))
    if cid is not None:
        c = reads().get(Campaign, cid)
        if c is None:
            abort(404)
        return c
    rows = list_campaigns(reads())
    pick = next((r for r in rows if r.status == "active"), rows[0] if rows else None)
    return reads().get(Campaign, pick.id) if pick else None


def as_json(f) -> dict:
    zone = f.campaign.timezone
    return {"at": f.at.isoformat(), "at_text": time_text(f.at, zone),
            "campaign": {"id": f.campaign.id, "name": f.campaign.name, "status": f.campaign.status,
                         "target": f.campaign.abandon_target},
            "by_state": f.by_state,
            "agents": [{"id": a.id, "name": a.name, "state": a.state, "reason": reason_words(a.reason) or None,
                        "reason_code": a.reason, "seconds": a.seconds,
                        "phone": a.phone, "simulated": a.simulated, "after_call": a.after_call} for a in f.agents],
            "ringing": f.ringing, "waiting": f.waiting, "talking": f.talking, "oldest_wait_s": f.oldest_wait_s,
            "dial_level": f.dial_level, "calls_per_ready_agent": f.calls_per_ready_agent,
            "today": {k: f.today.get(k) for k in TODAY_KEYS},
            "abandon_30d": {"level": f.abandon_level_30d, "tone": tone(f.abandon_level_30d)},
            "pacing": pacer_inputs((f.pacing or {}).get("pacer", {})),
            "decision": {k: (f.pacing or {}).get(k) for k in ("planned", "allowed", "placed", "capped_by",
                                                                "live_lines", "mode")} if f.pacing else None,
            "capped_text": capped_text((f.pacing or {}).get("capped_by")),
            "pacing_at": f.pacing_at.isoformat() if f.pacing_at else None,
            "pacing_at_text": time_text(f.pacing_at, zone), "warnings": f.warnings,
            "sentence": plain_sentence(f.pacing, f.by_state, f.campaign.status)}


def guard_json(campaign: Campaign, live_answers_30d: int = 0) -> dict:
    """The abandon alert level (ok, warn, high, over; none before the worker's first check; said in words,
    ``level_text`` and ``checked_text``, until a live answer gives it something to judge), the fallback to
    progressive pacing and the missed callbacks, with where to act on them."""
    g = abandon_alerts.state(reads(), campaign)
    s = settings_of(reads(), campaign.id)
    level_text, checked_text = abandon_alerts.level_words(campaign, g, live_answers_30d)
    return {"level": g.level if g else None, "level_text": level_text, "checked_text": checked_text,
            "tone": tone(g.level if g else None), "rate_30d": g.rate if g else None,
            "warn": s.abandon_warn_1,
            "high": s.abandon_warn_2, "target": campaign.abandon_target,
            "fallback": abandon_alerts.effective_modes(reads(), [campaign.id]).get(campaign.id),
            "missed_callbacks": callback_counts(reads(), campaign)["missed"],
            "callbacks_url": url_for("callbacks.index", campaign_id=campaign.id),
            "strategy_url": url_for("strategy.edit", campaign_id=campaign.id)}


def floor_json(campaign: Campaign) -> dict:
    """Polled every few seconds by every manager: the rollups are refreshed first in their own transaction (on
    SQLite the reading session takes the write lock only when there is something to absorb, and only until that
    commit), then everything is read holding no lock, so a poll never stalls the dial loop's writes."""
    refresh(reads(), campaign, now())
    reads().commit()
    out = as_json(floor(reads(), campaign, now(), refreshed=True))
    out["guard"] = guard_json(campaign, out["today"].get("live_answers_30d") or 0)
    return out


def poll_seconds() -> float:
    """How often the floor page polls, in wall seconds. ``FLOOR_POLL_SECONDS`` is meant in the clock's seconds: on the
    demo's accelerated clock the page polls that much more often (at most once a second), so a stale worker shows
    within the same clock time there too (20 s without a lease or a decision, plus one poll)."""
    base = float(current_app.config["FLOOR_POLL_SECONDS"])
    speed = float(getattr(console().clock, "speed", 1.0) or 1.0)
    return max(1.0, base / speed) if speed > 1 else base


@bp.get("/")
def index():
    campaign = _campaign()
    data = dialable = None
    if campaign is not None:
        data = floor_json(campaign)
        dialable = funnel_json(campaign)
    return render_template("floor/index.html", campaign=campaign, campaigns=list_campaigns(reads()), f=data,
                           funnel=dialable, glossary=GLOSSARY, poll_s=poll_seconds(),
                           funnel_poll_s=current_app.config["FUNNEL_POLL_SECONDS"])


@bp.get("/<int:campaign_id>/data")
def data(campaign_id: int):
    campaign = reads().get(Campaign, campaign_id)
    if campaign is None:
        abort(404)
    return jsonify(floor_json(campaign))


def funnel_json(campaign: Campaign) -> dict:
    """The dialable funnel (issue 8's ``campaigns.funnel.service``): every lead counted once under what blocks it."""
    f = funnel(reads(), campaign, now(), registry=console().dnc_store)
    out = f.as_dict()
    out["runway"] = f.runway_text()
    out["window_texts"] = [window_text(w, campaign.timezone) for w in out["windows"]]  # as the page shows them
    out["rows"] = ([{"key": k, "label": FUNNEL_LABELS.get(k, k), "leads": n, "group": "final"}
                    for k, n in f.final.items() if n]
                   + ([{"key": "dialing", "label": FUNNEL_LABELS["dialing"], "leads": f.dialing, "group": "dialing"}]
                      if f.dialing else [])
                   + [{"key": k, "label": FUNNEL_LABELS.get(k, k), "leads": n, "group": "blocked"}
                      for k, n in sorted(f.blocked.items(), key=lambda kv: -kv[1])]
                   + [{"key": "dialable", "label": FUNNEL_LABELS["dialable"], "leads": f.dialable,
                       "group": "dialable"}])
    return out


@bp.get("/<int:campaign_id>/funnel")
def dialable(campaign_id: int):
    """Polled less often than the floor: it counts every lead of the campaign."""
    campaign = reads().get(Campaign, campaign_id)
    if campaign is None:
        abort(404)
    return jsonify(funnel_json(campaign))


@bp.post("/<int:campaign_id>/agents/<int:agent_id>/offline")
def force_offline(campaign_id: int, agent_id: int):
    """The manager takes a seat off the floor (someone left without signing out); a call in progress is hung up.
    Recorded twice: the seat's state history says why it went offline (reason ``floor``, which the agent's page
    explains), and the campaign's history says who did it and when."""
    agent = db().get(Agent, agent_id)
    if agent is None or agent.campaign_id != campaign_id:
        abort(404)
    was = agent.state
    changed = go_offline(db(), agent.id, now(), TAKEN_OFF)
    if changed:
        record(db(), campaign_id, now(), current_user.username, "Seat", f"{agent.name}: {was}",
               f"{agent.name}: offline (taken off the floor)", subject=f"agent:{agent.id}")
    db().commit()
    return jsonify(agent=agent.name, state="offline", changed=changed)
