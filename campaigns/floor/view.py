"""The live floor of one campaign, read for the console every few seconds: agents by state and for how long,
calls ringing and waiting, dial level, today's hit rate, abandon rate today and over 30 days, and the pacer's
explanation of its last decision (published by the dial loop in ``pacing_status``).

Reads only. Rates come from the report service (``run_report("summary")``), so the floor and the reports agree.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from campaigns.agents.after_call import after_call_words
from campaigns.agents.models import AGENT_STATES, Agent
from campaigns.alerts.levels import abandon_level
from campaigns.campaign.dial_settings import settings_of
from campaigns.campaign.models import Campaign
from campaigns.dispatch import service as dispatch
from campaigns.dispatch.models import Call
from campaigns.floor.funnel import guard_warnings
from campaigns.leases.ownership import owners
from campaigns.reports.catalog import run_report
from campaigns.reports.metrics import percent_text, ratio, target_text

# The worker is judged alive for a campaign while it holds the campaign's lease (renewed every 2 s, 8 s long) or
# published a decision in the last 20 s (it publishes every 5 s): a live worker never looks stale, a dead one
# shows within about 20 s plus one poll of the page.
STALE_AFTER_S = 20


@dataclass
class FloorAgent:
    id: int
    name: str
    state: str
    reason: str | None
    seconds: float | None
    phone: str | None
    simulated: bool
    after_call: str | None = None  # what the agent said they do after this call, in words ("pause (lunch)")


@dataclass
class Floor:
    campaign: Campaign
    at: datetime
    agents: list[FloorAgent]
    by_state: dict[str, int]
    ringing: int
    waiting: int
    talking: int
    oldest_wait_s: float | None
    dial_level: float | None  # live lines per agent taking calls (ready + talking + wrap)
    calls_per_ready_agent: float | None  # calls ringing or waiting per ready agent
    today: dict
    pacing: dict | None
    pacing_at: datetime | None
    pacing_stale: bool
    abandon_level_30d: str = "ok"  # ``campaigns.alerts.levels``: the colour every page gives the 30-day rate
    warnings: list[str] = field(default_factory=list)


def floor(session: Session, campaign: Campaign, now: datetime, refreshed: bool = False) -> Floor:
    """The floor now. ``refreshed``: the caller brought the rollups up to date and committed, so this only reads
    (on a reading session it then holds no lock at all, see ``campaigns.db.read_engine``)."""
    rows = session.execute(select(Agent, Call.phone).outerjoin(Call, Call.id == Agent.call_id)
                           .where(Agent.campaign_id == campaign.id).order_by(Agent.name)).all()
    agents = [FloorAgent(a.id, a.name, a.state, a.state_reason,
                         (now - a.state_since).total_seconds() if a.state_since else None, phone, a.simulated,
                         after_call_words(a) if a.state in ("talking", "wrap") else None)
              for a, phone in rows]
    by_state = Counter(a.state for a in agents)
    live = dispatch.live_calls(session, campaign.id)
    waiting = dispatch.waiting_calls(session, campaign.id)
    ringing = sum(1 for c in live if c.answered_at is None)
    talking = sum(1 for c in live if c.connected_at is not None)
    taking = by_state["ready"] + by_state["talking"] + by_state["wrap"]
    today = now.astimezone(ZoneInfo(campaign.timezone)).date()
    summary = run_report(session, "summary", campaign.name, now, today, today, refreshed=refreshed).rows[0]
    status = dispatch.pacing_status(session, campaign.id)
    owned = campaign.id in owners(session, now)
    stale = not owned and (status is None or (now - status.at).total_seconds() > STALE_AFTER_S)
    f = Floor(campaign=campaign, at=now, agents=agents, by_state={s: by_state.get(s, 0) for s in AGENT_STATES},
              ringing=ringing, waiting=len(waiting), talking=talking,
              oldest_wait_s=(now - waiting[0].answered_at).total_seconds() if waiting else None,
              dial_level=ratio(len(live), taking), calls_per_ready_agent=ratio(ringing + len(waiting),
                                                                               by_state["ready"]),
              today=summary, pacing=status.status if status else None, pacing_at=status.at if status else None,
              pacing_stale=stale and campaign.status == "active",
              abandon_level_30d=abandon_level(summary.get("abandon_rate_30d"), summary.get("live_answers_30d") or 0,
                                              settings_of(session, campaign.id), campaign.abandon_target))
    f.warnings = _warnings(f) + guard_warnings(session, campaign)  # abandon levels, fallback, missed callbacks
    return f


STOPPED = {"draft": "the campaign is a draft: nothing is dialed until it is started",
           "paused": "the campaign is paused: nothing is dialed until it is started again",
           "finished": "the campaign is finished: nothing is dialed"}


def _warnings(f: Floor) -> list[str]:
    out = []
    c = f.campaign
    if f.abandon_level_30d == "over":
        out.append(f"the 30-day abandon rate {percent_text(f.today.get('abandon_rate_30d'))} is above the "
                   f"campaign's target {target_text(c.abandon_target)} (legal cap 3 %)")
    if c.status == "active" and not (f.by_state["ready"] + f.by_state["talking"] + f.by_state["wrap"]):
        out.append("no agent is taking calls: nothing is dialed")
    if f.pacing_stale:
        out.append(f"no dialing worker has taken this campaign in the last {STALE_AFTER_S} s: is the dialer worker "
                   "running?")
    if c.status != "active":
        out.append(STOPPED.get(c.status, f"the campaign is {c.status}: nothing is dialed"))
    return out


# why nothing (or less) was dialed when the loop's claim came back short of what the pacer asked (``capped_by``
# "leads"): then the pacer's own reason (its risk, the cap on calls per agent) is not what holds dialing back
NO_LEADS_DUE = "no more leads are due now (the dialable funnel says what holds the rest back)"


NOT_RUNNING = {"paused": "Not dialing: the campaign is paused.", "finished": "Not dialing: the campaign is finished.",
               "draft": "Not dialing: the campaign has not been started."}


def plain_sentence(status: dict | None, by_state: dict[str, int], campaign_status: str = "active") -> str:
    """The floor's answer to "why is it dialing like this?": the pace over the last minute for the agents taking
    calls, then what holds the pacer back now (the pacer's own sentence, after its "placing N now"). A campaign not
    running is not dialed whatever the last decision said: the worker gives it back and publishes no more."""
    if campaign_status in NOT_RUNNING:
        return NOT_RUNNING[campaign_status]
    if not status:
        return "The dialer has not published a decision for this campaign yet."
    pacer = status.get("pacer") or {}
    said = str(pacer.get("sentence") or "")
    if said.startswith("Not dialing"):
        return said
    minute = status.get("minute") or {}
    placed, seconds = int(minute.get("placed", 0)), float(minute.get("seconds", 0.0))
    taking = by_state.get("ready", 0) + by_state.get("talking", 0) + by_state.get("wrap", 0)
    agents = f"{taking} agent{'' if taking == 1 else 's'} taking calls"
    if seconds >= 50:
        pace = f"Dialing {placed} call{'' if placed == 1 else 's'} a minute for {agents}"
    else:
        pace = f"Dialed {placed} call{'' if placed == 1 else 's'} in the last {seconds:.0f} s for {agents}"
    why = NO_LEADS_DUE + "." if status.get("capped_by") == "leads" else said.split("; ", 1)[1] if "; " in said else ""
    return f"{pace}; {why}" if why else f"{pace}."
