"""Callbacks that behave: only inside the lead's legal window, cancelled when the number goes DNC, never lost.

Forums are full of callbacks that vanish or ring at 22:00. Here a callback is a row with a history (pending, fired,
missed, cancelled). It is due at the first legal instant at or after the time asked for
(``dnc.window.next_opening`` over the lead's candidate zones and states). A personal callback is offered only to
its agent (dialed when that agent is ready) for the campaign's grace period, then to anyone. A callback still not
dialed ``callback_miss_s`` after it was due is marked missed and listed in the missed queue; the lead stays
callable, so the miss is visible without being dropped. A do-not-call request cancels every open callback to the
number, with the reason kept (``campaigns.compliance.dnc_requests``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from campaigns.agents.models import Agent
from campaigns.callbacks.models import Callback
from campaigns.campaign.dial_settings import settings_of
from campaigns.campaign.models import Campaign
from campaigns.dispatch import hours
from campaigns.dispatch.models import Call
from campaigns.leads.models import FINAL_LEAD_STATUSES, Lead
from dnc.errors import UserError
from dnc.window import next_opening
from dnc.zones import candidate_states

CALLBACK_STATUSES = ("pending", "fired", "missed", "cancelled")
OPEN = ("pending", "missed")
REPLACED = "replaced by a newer callback"  # why a moved callback's old row was closed


class OutsideWindow(UserError):
    """A time the lead may not be called at; ``opening`` is the first legal instant after it (offered instead)."""

    def __init__(self, message: str, opening: datetime) -> None:
        super().__init__(message)
        self.opening = opening


def legal_time_for(lead: Lead, requested_at: datetime) -> datetime:
    """The first instant at or after ``requested_at`` when this lead may be called (its window in every zone).

    A lead with no known zone keeps the time asked for: no window can be applied, and the pre-dial gate refuses it
    anyway (``unknown_zone``: the funnel shows it), so the agent's disposition is not refused for it."""
    zones = tuple(lead.zone_list)
    if not zones:
        return requested_at
    when = next_opening(zones, candidate_states(lead.phone, lead.postal_code, lead.state), requested_at)
    if when is None:
        raise UserError(f"lead {lead.id} ({lead.phone}) has no legal calling time within two weeks of "
                        f"{requested_at.isoformat()}")
    return when


def calling_opening(lead: Lead, campaign: Campaign | None, at: datetime) -> datetime:
    """The first instant at or after ``at`` when the dialer would call this lead: the law's window
    (``legal_time_for``) narrowed by the campaign's own calling hours and days at the called party, which the dial
    loop applies too (``campaigns.dispatch.hours``). A lead with no known zone keeps the time, as above."""
    t = legal_time_for(lead, at)
    if campaign is None or not lead.zone_list or not hours.restricts(campaign.calling_hours, campaign.calling_days):
        return t
    for _ in range(16):  # each round moves to the next opening of one of the two; both agree within a few
        own = hours.next_open(lead.zone_list, campaign.calling_hours, campaign.calling_days, t)
        if own is None:
            return t
        t = legal_time_for(lead, own)
        if t == own:
            return t
    return t


def check_in_window(lead: Lead, requested_at: datetime, campaign: Campaign | None = None) -> None:
    """Refuse a time the lead would not be called at (``OutsideWindow`` with the next opening: the law's window and
    the campaign's own hours): a person picking a callback time on screen (a manager moving one, an agent agreeing
    one with the customer) must see that it would ring at another time, and choose, instead of the callback moving
    silently. A naive time is left to ``schedule``, which refuses it in its own words."""
    if requested_at.tzinfo is None:
        return
    opening = calling_opening(lead, campaign, requested_at)
    if opening != requested_at:
        raise OutsideWindow(f"{requested_at.isoformat()} is outside the calling window of lead {lead.id} "
                            f"({lead.phone}); the next opening is {opening.isoformat()}", opening)


def schedule(session: Session, lead: Lead, requested_at: datetime, now: datetime, *, agent_id: int | None = None,
             note: str = "") -> Callback:
    """Schedule a callback (personal when ``agent_id`` is given); it replaces any open one for the lead."""
    if lead.status in FINAL_LEAD_STATUSES:
        raise UserError(f"lead {lead.id} is {lead.status}; it cannot get a callback")
    if requested_at.tzinfo is None:
        raise UserError("give the callback time with its zone or offset")
    if requested_at <= now:
        raise UserError(f"callback time {requested_at.isoformat()} is not in the future")
    if agent_id is not None:
        agent = session.get(Agent, agent_id)
        if agent is None:
            raise UserError(f"no agent {agent_id}")
    due = legal_time_for(lead, requested_at)
    # Two people scheduling for one lead at once: the second waits for the first's lead row (PostgreSQL; SQLite's
    # one writer serializes them anyway), then replaces its callback; the partial unique index
    # uq_callbacks_open_lead refuses a second open callback whatever happens.
    session.execute(select(Lead.id).where(Lead.id == lead.id).with_for_update())
    for old in _open_for_lead(session, lead.id):
        old.status, old.closed_at, old.cancelled_reason = "cancelled", now, REPLACED
    cb = Callback(campaign_id=lead.campaign_id, lead_id=lead.id, agent_id=agent_id, requested_at=requested_at,
                  due_at=due, status="pending", note=note[:400], created_at=now)
    session.add(cb)
    if lead.status != "dialing":  # on a call, the disposition moves the lead on; here it waits for the time
        lead.status = "callback"
    lead.callback_at, lead.callback_agent_id, lead.next_attempt_at, lead.updated_at = due, agent_id, due, now
    session.flush()
    return cb


def _open_for_lead(session: Session, lead_id: int) -> list[Callback]:
    return list(session.scalars(select(Callback).where(Callback.lead_id == lead_id, Callback.status.in_(OPEN))))


def fired(session: Session, lead_id: int, now: datetime) -> None:
    """The dial loop claimed the callback's lead: its open (pending or missed) callback is done."""
    for cb in _open_for_lead(session, lead_id):
        cb.status, cb.closed_at = "fired", now


def cancel_for_number(session: Session, e164: str, reason: str, now: datetime, campaign_id: int | None = None
                      ) -> list[Callback]:
    """A DNC request cancels every open callback to that number (one campaign's, with ``campaign_id``); the rows
    stay and are listed with the reason."""
    q = (select(Callback).join(Lead, Lead.id == Callback.lead_id)
         .where(Lead.phone == e164, Callback.status.in_(OPEN)))
    if campaign_id is not None:
        q = q.where(Callback.campaign_id == campaign_id)
    rows = list(session.scalars(q))
    for cb in rows:
        cb.status, cb.closed_at, cb.cancelled_reason = "cancelled", now, reason[:200]
        lead = session.get(Lead, cb.lead_id)
        if lead is not None:
            lead.callback_agent_id = None
    session.flush()
    return rows


def cancel(session: Session, callback_id: int, reason: str, now: datetime) -> Callback:
    """A manager cancels an open callback; the lead goes back to ordinary retries."""
    cb = _get_open(session, callback_id)
    if not reason.strip():
        raise UserError("cancelling a callback needs a reason")
    cb.status, cb.closed_at, cb.cancelled_reason = "cancelled", now, reason.strip()[:200]
    lead = session.get(Lead, cb.lead_id)
    if lead is not None and lead.status == "callback":
        lead.status, lead.callback_at, lead.callback_agent_id, lead.updated_at = "retry", None, None, now
    session.flush()
    return cb


def reschedule(session: Session, callback_id: int, requested_at: datetime, now: datetime,
               agent_id: int | None = None, *, strict: bool = False) -> Callback:
    """Move an open callback (e.g. one from the missed queue) to a new time; the old row is closed as replaced.

    ``strict``: a time outside the lead's calling window is refused (``OutsideWindow`` with the next opening)
    instead of being moved to that opening silently: a manager picking a time on screen wants to see it."""
    cb = _get_open(session, callback_id)
    lead = session.get(Lead, cb.lead_id)
    if strict:
        check_in_window(lead, requested_at, session.get(Campaign, cb.campaign_id))
    return schedule(session, lead, requested_at, now, agent_id=agent_id if agent_id is not None else cb.agent_id,
                    note=cb.note)


def assign(session: Session, callback_id: int, agent_id: int | None, now: datetime) -> Callback:
    """Hand an open callback to one agent (personal) or to anyone on the campaign (``agent_id`` None), keeping its
    time: a manager re-routes a callback whose agent left without moving what the customer agreed to."""
    cb = _get_open(session, callback_id)
    if agent_id is not None and session.get(Agent, agent_id) is None:
        raise UserError(f"no agent {agent_id}")
    cb.agent_id = agent_id
    lead = session.get(Lead, cb.lead_id)
    if lead is not None and lead.status == "callback":
        lead.callback_agent_id, lead.updated_at = agent_id, now
    session.flush()
    return cb


def assignable_agents(session: Session, campaign_id: int) -> list[tuple[int, str]]:
    """(id, name) of the agents a callback of the campaign may be given to: those on the campaign now and those
    already holding one of its callbacks, by name."""
    holding = select(Callback.agent_id).where(Callback.campaign_id == campaign_id, Callback.agent_id.is_not(None))
    rows = session.execute(select(Agent.id, Agent.name).where(or_(Agent.campaign_id == campaign_id,
                                                                  Agent.id.in_(holding)))
                           .order_by(Agent.name, Agent.id))
    return [(i, n) for i, n in rows]


def _get_open(session: Session, callback_id: int) -> Callback:
    cb = session.get(Callback, callback_id)
    if cb is None:
        raise UserError(f"no callback {callback_id}")
    if cb.status not in OPEN:
        raise UserError(f"callback {callback_id} is {cb.status}; only pending or missed callbacks can change")
    return cb


def claimable(now: datetime, grace_s: int, ready_agents):
    """SQL condition on leads: not a personal callback still reserved for an agent who is not ready. A personal
    callback is reserved for ``grace_s`` after it is due; ``ready_agents`` selects the campaign's ready agents."""
    return or_(Lead.status != "callback", Lead.callback_agent_id.is_(None),
               Lead.callback_at <= now - timedelta(seconds=grace_s), Lead.callback_agent_id.in_(ready_agents))


def callback_agent(session: Session, call_id: int) -> int | None:
    """The agent a call's personal callback was for, when that agent is ready now: the answered call goes to
    them (the callback fired when this call was claimed, so its ``closed_at`` is the call's ``placed_at``)."""
    return session.scalar(
        select(Agent.id).join(Callback, Callback.agent_id == Agent.id).join(Call, Call.lead_id == Callback.lead_id)
        .where(Call.id == call_id, Callback.status == "fired", Callback.closed_at == Call.placed_at,
               Agent.state == "ready").limit(1))


def mark_missed(session: Session, now: datetime) -> int:
    """Pending callbacks not dialed ``callback_miss_s`` (a campaign setting) after they were due become missed:
    listed in the queue, the lead still callable. Returns how many."""
    n = 0
    campaign_ids = session.scalars(select(Callback.campaign_id).where(Callback.status == "pending",
                                                                      Callback.due_at <= now).distinct()).all()
    for cid in campaign_ids:
        miss = timedelta(seconds=settings_of(session, cid).callback_miss_s)
        rows = session.scalars(select(Callback).where(Callback.campaign_id == cid, Callback.status == "pending",
                                                      Callback.due_at <= now - miss)).all()
        for cb in rows:
            cb.status = "missed"
        n += len(rows)
    session.flush()
    return n


@dataclass(frozen=True)
class CallbackRow:
    id: int
    lead_id: int
    phone: str
    name: str
    agent: str | None
    requested_at: datetime
    due_at: datetime
    status: str
    reason: str | None
    lead_status: str
    zones: tuple[str, ...] = ()  # the lead's candidate zones: its times are shown and entered in the first
    note: str = ""
    closed_at: datetime | None = None

    def state(self, now: datetime) -> str:
        """What a person calls it: a pending callback is ``due`` once its time has come, ``waiting`` before."""
        if self.status == "pending":
            return "due" if self.due_at <= now else "waiting"
        return self.status

    def as_dict(self) -> dict:
        d = dict(self.__dict__)
        d["requested_at"], d["due_at"] = self.requested_at.isoformat(), self.due_at.isoformat()
        d["zones"] = list(self.zones)
        d["closed_at"] = self.closed_at.isoformat() if self.closed_at else None
        return d


def queue(session: Session, campaign_id: int, statuses: tuple[str, ...] = OPEN, agent_id: int | None = None,
          limit: int = 500, *, now: datetime | None = None, due: bool | None = None, shared: bool = False,
          recent: bool = False) -> list[CallbackRow]:
    """Callbacks by status, soonest first (the missed queue, a manager's view, or one agent's own list).

    With ``now``: ``due=True`` keeps the callbacks whose time has come, ``due=False`` those still ahead.
    ``shared`` keeps only the campaign callbacks (anyone may take them), ``agent_id`` one agent's personal ones.
    ``recent`` lists the last closed first (fired or cancelled callbacks: what just happened)."""
    bad = sorted(set(statuses) - set(CALLBACK_STATUSES))
    if bad:
        raise UserError(f"callback status {', '.join(bad)} is not one of {', '.join(CALLBACK_STATUSES)}")
    q = (select(Callback, Lead, Agent.name).join(Lead, Lead.id == Callback.lead_id)
         .outerjoin(Agent, Agent.id == Callback.agent_id)
         .where(Callback.campaign_id == campaign_id, Callback.status.in_(statuses))
         .order_by(*((Callback.closed_at.desc(), Callback.id.desc()) if recent else (Callback.due_at, Callback.id)))
         .limit(limit))
    if agent_id is not None:
        q = q.where(Callback.agent_id == agent_id)
    elif shared:
        q = q.where(Callback.agent_id.is_(None))
    if due is not None:
        if now is None:
            raise ValueError("due= needs now=")
        q = q.where(Callback.due_at <= now if due else Callback.due_at > now)
    return [CallbackRow(cb.id, lead.id, lead.phone, f"{lead.first_name} {lead.last_name}".strip(), agent,
                        cb.requested_at, cb.due_at, cb.status, cb.cancelled_reason, lead.status,
                        tuple(lead.zone_list), cb.note, cb.closed_at)
            for cb, lead, agent in session.execute(q)]


def tallies(session: Session, campaign_id: int, now: datetime) -> dict[str, int]:
    """How many callbacks of the campaign stand where: due now, waiting for their time, missed, fired, cancelled."""
    by_status = dict(session.execute(select(Callback.status, func.count()).where(Callback.campaign_id == campaign_id)
                                     .group_by(Callback.status)).all())
    due = session.scalar(select(func.count()).select_from(Callback).where(
        Callback.campaign_id == campaign_id, Callback.status == "pending", Callback.due_at <= now)) or 0
    out = {"due": due, "waiting": by_status.get("pending", 0) - due}
    out.update({s: by_status.get(s, 0) for s in ("missed", "fired", "cancelled")})
    return out


def counts(session: Session, campaign: Campaign) -> dict[str, int]:
    """Open callbacks of the campaign by status (the floor shows the missed count)."""
    rows = session.execute(select(Callback.status, func.count()).where(
        Callback.campaign_id == campaign.id, Callback.status.in_(OPEN)).group_by(Callback.status)).all()
    out = dict.fromkeys(OPEN, 0)
    out.update({s: n for s, n in rows})
    return out

