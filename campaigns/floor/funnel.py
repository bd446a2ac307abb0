"""What the live floor shows of "why isn't it dialing?": the funnel, the abandon alert level and the fallback, the
missed callbacks, and the warnings they raise, in one JSON-ready dict (``campaigns.floor.view`` adds it to the floor).

The floor polls every few seconds, often from several screens at once; a funnel on a big campaign costs about a
second of database time, so one computed less than ``max_age_s`` ago (by the injected clock) is served again.
"""

from __future__ import annotations

import threading
from datetime import datetime

from sqlalchemy.orm import Session

from campaigns.alerts import service as abandon_alerts
from campaigns.campaign.dial_settings import settings_of
from campaigns.campaign.models import Campaign
from campaigns.campaign.readiness import no_lead_reason
from campaigns.funnel.result import LABELS, Funnel, dry_text
from campaigns.funnel.service import funnel
from campaigns.reports.metrics import percent_text, target_text
from dnc.registry.snapshot import Store

MAX_AGE_S = 10.0
SOON_MIN = 30  # warn when the queue runs dry sooner than this

_cache: dict[tuple[str, int], Funnel] = {}
_lock = threading.Lock()


def cached_funnel(session: Session, campaign: Campaign, now: datetime, max_age_s: float = MAX_AGE_S,
                  registry: Store | None = None) -> Funnel:
    key = (session.get_bind().url.render_as_string(hide_password=True), campaign.id)
    hit = _cache.get(key)
    if hit is not None and hit.status == campaign.status and 0 <= (now - hit.at).total_seconds() < max_age_s:
        return hit
    f = funnel(session, campaign, now, registry=registry)
    with _lock:
        _cache[key] = f
    return f


def floor_funnel(session: Session, campaign: Campaign, now: datetime, max_age_s: float = MAX_AGE_S) -> dict:
    """The funnel (counts that add up, window groups, runway), the abandon guard and the warnings for the floor."""
    f = cached_funnel(session, campaign, now, max_age_s)
    s = settings_of(session, campaign.id)
    g = abandon_alerts.state(session, campaign)
    fallback = abandon_alerts.effective_modes(session, [campaign.id]).get(campaign.id)
    top = sorted(f.blocked.items(), key=lambda kv: -kv[1])
    warnings = guard_warnings(session, campaign)
    if "no_caller_id" in f.blocked:
        warnings.append("every caller ID of the pool is retired or at its daily cap: nothing is dialed")
    if f.runs_dry_in_min is not None and f.runs_dry_in_min <= SOON_MIN:
        warnings.append(dry_text(f.runs_dry_in_min))
    return {
        "at": f.at.isoformat(), "total": f.total, "final": sum(f.final.values()), "final_by": f.final,
        "dialing": f.dialing, "blocked": sum(f.blocked.values()),
        "blocked_by": [{"code": k, "label": LABELS[k], "leads": v} for k, v in top],
        "dialable": f.dialable, "adds_up": f.adds_up,
        "windows": [w.as_dict() for w in f.windows[:8]], "pace_per_min": f.pace_per_min,
        "runs_dry_in_min": f.runs_dry_in_min, "runway": f.runway_text(), "due_next_hour": f.due_next_hour,
        "callbacks": f.callbacks,
        "abandon": None if g is None else {
            "level": g.level, "rate_30d": g.rate, "live_answers_30d": g.live_answers, "abandoned_30d": g.abandoned,
            "machine_hangups_30d": g.machines, "warn": s.abandon_warn_1, "high": s.abandon_warn_2,
            "target": campaign.abandon_target, "checked_at": g.checked_at.isoformat()},
        "fallback": fallback, "warnings": warnings, "notes": f.notes,
    }


def guard_warnings(session: Session, campaign: Campaign) -> list[str]:
    """The floor's warnings about the abandon level (AMD hang-ups named apart), the progressive fallback, the
    missed callbacks and an active campaign with no lead left to call: cheap reads, no funnel."""
    from campaigns.callbacks.service import counts

    s = settings_of(session, campaign.id)
    g = abandon_alerts.state(session, campaign)
    out: list[str] = []
    if g is not None and g.level in ("warn", "high", "over"):
        limit = {"warn": f"at or above {target_text(s.abandon_warn_1)}", "high": f"at or above "
                 f"{target_text(s.abandon_warn_2)}", "over": f"above {target_text(campaign.abandon_target)}"}[g.level]
        out.append(f"30-day abandon rate {percent_text(g.rate)} is {limit} "
                   f"({g.abandoned} of {g.live_answers} "
                   f"live answers; {g.machines} machine hang-ups by AMD are not counted as abandons)")
    fallback = abandon_alerts.effective_modes(session, [campaign.id]).get(campaign.id)
    if fallback:
        out.append(f"pacing fell back to progressive: {fallback}")
    missed = counts(session, campaign)["missed"]
    if missed:
        out.append(f"{missed} missed callback(s) wait in the callback queue")
    why = no_lead_reason(session, campaign) if campaign.status == "active" else None
    if why:
        out.append(f"no lead left to call, so nothing is dialed: {why}")
    return out
