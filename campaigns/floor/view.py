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

from campaigns.agents.models import AGENT_STATES, Agent
from campaigns.campaign.models import Campaign
from campaigns.dispatch import service as dispatch
from campaigns.dispatch.models import Call
from campaigns.floor.funnel import guard_warnings
from campaigns.reports.catalog import run_report
from campaigns.reports.metrics import ratio

STALE_AFTER_S = 30  # no decision published for this long: the worker is not dialing this campaign


@dataclass
class FloorAgent:
    id: int
    name: str
    state: str
    reason: str | None
    seconds: float | None
    phone: str | None
    simulated: bool


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
    warnings: list[str] = field(default_factory=list)


def floor(session: Session, campaign: Campaign, now: datetime) -> Floor:
    rows = session.execute(select(Agent, Call.phone).outerjoin(Call, Call.id == Agent.call_id)
                           .where(Agent.campaign_id == campaign.id).order_by(Agent.name)).all()
    agents = [FloorAgent(a.id, a.name, a.state, a.state_reason,
                         (now - a.state_since).total_seconds() if a.state_since else None, phone, a.simulated)
              for a, phone in rows]
    by_state = Counter(a.state for a in agents)
    live = dispatch.live_calls(session, campaign.id)
    waiting = dispatch.waiting_calls(session, campaign.id)
    ringing = sum(1 for c in live if c.answered_at is None)
    talking = sum(1 for c in live if c.connected_at is not None)
    taking = by_state["ready"] + by_state["talking"] + by_state["wrap"]
    today = now.astimezone(ZoneInfo(campaign.timezone)).date()
    summary = run_report(session, "summary", campaign.name, now, today, today).rows[0]
    status = dispatch.pacing_status(session, campaign.id)
    stale = status is None or (now - status.at).total_seconds() > STALE_AFTER_S
    f = Floor(campaign=campaign, at=now, agents=agents, by_state={s: by_state.get(s, 0) for s in AGENT_STATES},
              ringing=ringing, waiting=len(waiting), talking=talking,
              oldest_wait_s=(now - waiting[0].answered_at).total_seconds() if waiting else None,
              dial_level=ratio(len(live), taking), calls_per_ready_agent=ratio(ringing + len(waiting),
                                                                               by_state["ready"]),
              today=summary, pacing=status.status if status else None, pacing_at=status.at if status else None,
              pacing_stale=stale and campaign.status == "active")
    f.warnings = _warnings(f) + guard_warnings(session, campaign)  # abandon levels, fallback, missed callbacks
    return f


def _warnings(f: Floor) -> list[str]:
    out = []
    c = f.campaign
    rate30 = f.today.get("abandon_rate_30d")
    if rate30 is not None and rate30 >= c.abandon_target:
        out.append(f"the 30-day abandon rate {rate30:.2%} is at or above the campaign's target "
                   f"{c.abandon_target:.2%} (legal cap 3 %)")
    if c.status == "active" and not (f.by_state["ready"] + f.by_state["talking"] + f.by_state["wrap"]):
        out.append("no agent is taking calls: nothing is dialed")
    if f.pacing_stale:
        out.append("no dialing decision for this campaign in the last 30 s: is the dialer worker running?")
    if c.status != "active":
        out.append(f"the campaign is {c.status}: nothing is dialed")
    return out
