"""Preview dialing: the agent sees the next lead, then dials it or skips it; the pacer never dials by itself.

``preview_next`` holds the next callable lead for the agent (``leads.reserved_agent_id``/``reserved_until``) so no
other agent or worker takes it while the agent reads it; ``preview_dial`` claims it through the pre-dial gate
exactly like the dial loop's claims (``dialing`` status, attempt and ``queued`` call row in one transaction) and
puts the agent on the call at once; the worker places it on its next turn and bridges the answer to that agent.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from campaigns.agents.service import get_agent, record
from campaigns.callbacks.service import fired
from campaigns.callerid.service import choose_caller_id
from campaigns.campaign.models import Campaign
from campaigns.dispatch.listmix import mix_of
from campaigns.dispatch.models import Call
from campaigns.dispatch.rules import CALLABLE_STATUSES, Candidate, after_refusal, apply
from campaigns.dispatch.service import dnc_gate, due_at, not_reserved
from campaigns.leads.models import Lead, LeadList
from dnc.errors import UserError
from dnc.zones import candidate_states

HOLD = timedelta(minutes=10)  # how long a previewed lead stays held for its agent


def _preview_agent(session: Session, agent_ref: int | str):
    agent = get_agent(session, agent_ref, lock=True)
    campaign = session.get(Campaign, agent.campaign_id) if agent.campaign_id is not None else None
    if campaign is None:
        raise UserError(f"agent {agent.name} is not assigned to a campaign")
    if campaign.pacing_mode != "preview":
        raise UserError(f"campaign {campaign.name!r} dials by itself ({campaign.pacing_mode}); preview is for "
                        "campaigns in preview mode")
    if campaign.status != "active":
        raise UserError(f"campaign {campaign.name!r} is {campaign.status}")
    if agent.state != "ready":
        raise UserError(f"agent {agent.name} is {agent.state}: go ready to preview the next lead")
    return agent, campaign


def held_lead(session: Session, agent_id: int, now: datetime) -> Lead | None:
    return session.scalar(select(Lead).where(Lead.reserved_agent_id == agent_id, Lead.reserved_until > now,
                                             Lead.status.in_(CALLABLE_STATUSES)))


def preview_next(session: Session, agent_ref: int | str, now: datetime) -> Lead | None:
    """The lead the agent should look at next (the same one again until it is dialed or skipped); None when no
    lead is callable now."""
    agent, campaign = _preview_agent(session, agent_ref)
    held = held_lead(session, agent.id, now)
    if held is not None:
        return held
    busy = select(Call.phone).where(Call.ended_at.is_(None))
    off = select(LeadList.id).where(LeadList.campaign_id == campaign.id, LeadList.active.is_(False))
    where = [Lead.campaign_id == campaign.id, Lead.status.in_(CALLABLE_STATUSES), due_at() <= now,
             Lead.phone.not_in(busy), not_reserved(now), _not_someone_elses_callback(agent.id),
             Lead.list_id.not_in(off)]  # a disabled list is not previewed either

    def first(*only):
        return session.scalar(select(Lead).where(*where, *only).order_by(Lead.priority.desc(), due_at(), Lead.id)
                              .limit(1).with_for_update(skip_locked=True, of=Lead))

    mix = mix_of(session, campaign.id)
    if mix is None:
        lead = first()
    else:  # the list mix picks among each list's next lead (as the claim does)
        pools = {lid: [x] for lid in mix.lists if (x := first(Lead.list_id == lid)) is not None}
        rest = [x for x in [first(Lead.list_id.not_in(mix.lists))] if x is not None] if mix.weighted else []
        drawn = mix.merge(pools, rest)
        lead = drawn[0] if drawn else None
        if lead is not None:
            mix.finish(session, [lead.id])
    if lead is not None:
        lead.reserved_agent_id, lead.reserved_until = agent.id, now + HOLD
    return lead


def _not_someone_elses_callback(agent_id: int):
    """Another agent's personal callback is theirs to preview (the dial loop routes its answer to them as well)."""
    return or_(Lead.status != "callback", Lead.callback_agent_id.is_(None), Lead.callback_agent_id == agent_id)


def preview_skip(session: Session, agent_ref: int | str, lead_id: int, now: datetime) -> None:
    """The agent passes on the lead: it goes back to the queue as it was (no attempt, no change of turn)."""
    agent = get_agent(session, agent_ref)
    lead = session.get(Lead, lead_id, with_for_update=True)
    if lead is None or lead.reserved_agent_id != agent.id:
        raise UserError(f"lead {lead_id} is not held for agent {agent.name}")
    lead.reserved_agent_id = lead.reserved_until = None


@dataclass(frozen=True)
class PreviewDial:
    """What came of the agent's choice: the call now queued for the worker, or why the gate refused it (the lead
    was then rescheduled or closed like any refused lead)."""

    call: Call | None
    refused: tuple[str, ...] = ()  # the gate's reason codes
    why: tuple[str, ...] = ()  # the same reasons in words


def preview_dial(session: Session, agent_ref: int | str, lead_id: int, now: datetime,
                 gate: Callable | None = dnc_gate) -> PreviewDial:
    """Dial the lead the agent previewed: the gate decides, the claim is written, and the agent is on the call."""
    agent, campaign = _preview_agent(session, agent_ref)
    lead = session.get(Lead, lead_id, with_for_update=True)
    if lead is None or lead.campaign_id != campaign.id:
        raise UserError(f"lead {lead_id} is not a lead of campaign {campaign.name!r}")
    # Only the lead this agent was offered, while it is held for them: the lead id comes from the browser, and any
    # other (one called two minutes ago, another agent's personal callback, a lead of no one's preview) is what
    # preview_next's rules held back.
    offered = lead.reserved_agent_id == agent.id and lead.reserved_until is not None and lead.reserved_until > now
    if not offered or lead.status not in CALLABLE_STATUSES:
        why = lead.status if offered else "it is not the lead previewed for you; open the next lead"
        raise UserError(f"lead {lead_id} cannot be dialed now ({why})")
    lead.reserved_agent_id = lead.reserved_until = None
    return claim_for_agent(session, agent, campaign, lead, now, gate)


def claim_for_agent(session: Session, agent, campaign: Campaign, lead: Lead, now: datetime,
                    gate: Callable | None = dnc_gate, on_refusal: Callable | None = None) -> PreviewDial:
    """An agent's own dial of ``lead`` (preview or manual): the pre-dial gate decides (as a click-to-dial), the
    claim is written like the dial loop's and the agent is on the call; the worker places it on its next turn.
    A refused lead is rescheduled or closed (``on_refusal(lead, decision)`` instead, when given)."""
    if gate is not None:
        zones = tuple(z for z in (lead.timezones or "").split(",") if z)
        decision = gate(session, Candidate(lead.id, campaign.id, lead.phone, lead.state, lead.postal_code, zones,
                                           "click_to_dial"), now)
        if not decision.allowed:
            if on_refusal is not None:
                on_refusal(lead, decision)
            else:
                apply(lead, after_refusal(decision.reasons, getattr(decision, "opens_at", None), now), now)
            return PreviewDial(None, tuple(getattr(r, "code", str(r)) for r in decision.reasons),
                               tuple(getattr(r, "text", str(r)) for r in decision.reasons))
    shown = choose_caller_id(session, campaign, lead.phone, now, candidate_states(lead.phone, lead.postal_code,
                                                                                  lead.state))
    if shown is None:
        raise UserError(f"every caller ID of campaign {campaign.name!r} is retired or at its daily cap")
    if lead.status == "callback":
        fired(session, lead.id, now)
    call = Call(campaign_id=campaign.id, lead_id=lead.id, list_id=lead.list_id, phone=lead.phone,
                caller_id=shown, attempt=lead.attempts + 1, status="queued", placed_at=now,
                agent_id=agent.id)
    try:
        with session.begin_nested():
            lead.status, lead.attempts, lead.last_called_at, lead.updated_at = "dialing", lead.attempts + 1, now, now
            session.add(call)
            session.flush()
    except IntegrityError:
        raise UserError(f"{lead.phone} is on another call right now; try again in a moment") from None
    if agent.state not in ("ready", "paused"):  # paused: an agent dialing by hand is off the pacer's pool already
        raise UserError(f"agent {agent.name} is {agent.state}: finish the call first")
    agent.call_id = call.id
    record(session, agent, "talking", None, now)
    return PreviewDial(call)
