"""Builders of the hand-built call log whose every figure is computed by hand in ``test_reports_handbuilt.py``.

Campaign "Acme" in New York (UTC-5 in January). Two lists, two agents, twelve calls over Mon 7 and Tue 8
January 2030 (local), including: a lead moved from list A to list B between its calls, a callback that closes
on attempt 3, an abandoned call followed by a contact, a DNC disposition, a keypress opt-out, a machine, and
a connected call dispositioned "wrong number" (not a contact).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from campaigns.agents.models import Agent, AgentStateEvent
from campaigns.campaign.service import create_campaign
from campaigns.dispatch.models import Call
from campaigns.inbox.models import CarrierCallback
from campaigns.leads.models import Lead, LeadList, RejectedRow

NY = ZoneInfo("America/New_York")
T0 = datetime(2030, 1, 1, tzinfo=UTC)


def local(day: int, hms: str) -> datetime:
    """A New York wall-clock time on January ``day`` 2030, as UTC."""
    h, m, s = (int(x) for x in hms.split(":"))
    return datetime(2030, 1, day, h, m, s, tzinfo=NY).astimezone(UTC)


@dataclass
class Floor:
    campaign_id: int
    lists: dict[str, int] = field(default_factory=dict)
    leads: dict[str, int] = field(default_factory=dict)
    agents: dict[str, int] = field(default_factory=dict)
    calls: dict[int, int] = field(default_factory=dict)


def add_list(s, cid: int, name: str) -> LeadList:
    lst = LeadList(campaign_id=cid, name=name, sha256=name.ljust(64, "0"), uploaded_at=T0)
    s.add(lst)
    s.flush()
    return lst


def add_lead(s, cid: int, list_id: int, phone: str, status: str = "new", suppression: str | None = None) -> Lead:
    lead = Lead(campaign_id=cid, list_id=list_id, phone=phone, status=status, suppression=suppression,
                created_at=T0, updated_at=T0)
    s.add(lead)
    s.flush()
    return lead


def add_call(s, cid: int, lead: Lead | None, list_id: int | None, attempt: int, placed: datetime, *,
             outcome: str, connected: datetime | None = None, agent_id: int | None = None,
             ended: datetime | None = None, dispo: str | None = None, dispo_at: datetime | None = None,
             answered: datetime | None = None, sid: str | None = None, imported: bool = False) -> Call:
    call = Call(campaign_id=cid, lead_id=lead.id if lead else None, list_id=list_id,
                phone=lead.phone if lead else "+12125550199", attempt=attempt, placed_at=placed,
                answered_at=answered or connected, connected_at=connected, agent_id=agent_id, ended_at=ended,
                outcome=outcome, disposition_code=dispo, dispositioned_at=dispo_at, provider_sid=sid,
                status="completed", imported=imported)
    s.add(call)
    s.flush()
    return call


def agent_events(s, cid: int, agent_id: int, day: int, steps: list[tuple[str, str]]) -> None:
    for hms, state in steps:
        s.add(AgentStateEvent(agent_id=agent_id, campaign_id=cid, state=state, at=local(day, hms)))
    s.flush()


def build_floor(s, clock) -> Floor:
    c = create_campaign(s, "Acme", "+12125550100", clock.now())
    cid = c.id
    f = Floor(cid)
    a, b = add_list(s, cid, "List A"), add_list(s, cid, "List B")
    f.lists = {"A": a.id, "B": b.id}
    s.add_all([RejectedRow(list_id=a.id, line=7, kind="rejected", reason="not a phone number", raw=["x"]),
               RejectedRow(list_id=a.id, line=8, kind="duplicate", reason="duplicates line 2", raw=["y"])])
    leads = {
        "a1": add_lead(s, cid, a.id, "+12125550101", "closed"),
        "a2": add_lead(s, cid, a.id, "+12125550102", "closed"),
        "a3": add_lead(s, cid, a.id, "+12125550103", "done"),
        "a4": add_lead(s, cid, a.id, "+12125550104", "dnc"),
        "a5": add_lead(s, cid, a.id, "+12125550105", "suppressed", "national_dnc"),
        "b1": add_lead(s, cid, b.id, "+12125550201", "dnc"),
        "b2": add_lead(s, cid, b.id, "+12125550202", "retry"),
    }
    f.leads = {k: v.id for k, v in leads.items()}
    alice, bob = Agent(name="alice", campaign_id=cid), Agent(name="bob", campaign_id=cid)
    s.add_all([alice, bob])
    s.flush()
    f.agents = {"alice": alice.id, "bob": bob.id}
    L = leads
    calls = [
        add_call(s, cid, L["a1"], a.id, 1, local(7, "09:00:00"), outcome="completed", connected=local(7, "09:00:10"),
                 agent_id=alice.id, ended=local(7, "09:02:10"), dispo="SALE", dispo_at=local(7, "09:02:40")),
        add_call(s, cid, L["a2"], a.id, 1, local(7, "09:01:00"), outcome="no_answer", ended=local(7, "09:01:25")),
        add_call(s, cid, L["a2"], a.id, 2, local(7, "11:00:00"), outcome="completed", connected=local(7, "11:00:08"),
                 agent_id=bob.id, ended=local(7, "11:01:08"), dispo="CALLBK", dispo_at=local(7, "11:01:28")),
        add_call(s, cid, L["a2"], a.id, 3, local(8, "09:30:00"), outcome="completed", connected=local(8, "09:30:05"),
                 agent_id=alice.id, ended=local(8, "09:33:25"), dispo="SALE", dispo_at=local(8, "09:34:05")),
        add_call(s, cid, L["a3"], a.id, 1, local(7, "09:05:00"), outcome="abandoned", answered=local(7, "09:05:08"),
                 ended=local(7, "09:05:10")),
        add_call(s, cid, L["a3"], a.id, 2, local(7, "13:00:00"), outcome="completed", connected=local(7, "13:00:06"),
                 agent_id=bob.id, ended=local(7, "13:00:36"), dispo="NI", dispo_at=local(7, "13:00:46")),
        add_call(s, cid, L["a4"], a.id, 1, local(7, "09:06:00"), outcome="machine", answered=local(7, "09:06:10"),
                 ended=local(7, "09:06:12")),
        add_call(s, cid, L["a4"], b.id, 2, local(7, "14:00:00"), outcome="completed", connected=local(7, "14:00:05"),
                 agent_id=alice.id, ended=local(7, "14:00:20"), dispo="DNC", dispo_at=local(7, "14:00:25")),
        add_call(s, cid, L["b1"], b.id, 1, local(7, "09:07:00"), outcome="busy", ended=local(7, "09:07:03")),
        add_call(s, cid, L["b2"], b.id, 1, local(7, "09:08:00"), outcome="completed", connected=local(7, "09:08:05"),
                 agent_id=bob.id, ended=local(7, "09:08:15"), dispo="WRONG", dispo_at=local(7, "09:08:20")),
        add_call(s, cid, L["b2"], b.id, 2, local(7, "15:00:00"), outcome="failed", ended=local(7, "15:00:01")),
        add_call(s, cid, L["b1"], b.id, 2, local(7, "15:30:00"), outcome="abandoned", answered=local(7, "15:30:07"),
                 ended=local(7, "15:30:09"), sid="CA" + "1" * 32),
    ]
    f.calls = {i + 1: call.id for i, call in enumerate(calls)}
    leads["a4"].list_id = b.id  # moved to list B after its first call
    s.add(CarrierCallback(provider="twilio", call_sid="CA" + "1" * 32, event_key="digits:9", kind="dtmf",
                          digits="9", payload={}, carrier_at=local(7, "15:30:20"), received_at=local(7, "15:30:20")))
    agent_events(s, cid, alice.id, 7, [("09:00:00", "ready"), ("09:00:10", "talking"), ("09:02:10", "wrap"),
                                       ("09:02:40", "ready"), ("10:00:00", "paused"), ("11:00:00", "ready"),
                                       ("14:00:05", "talking"), ("14:00:20", "wrap"), ("14:00:25", "ready"),
                                       ("16:00:00", "offline")])
    agent_events(s, cid, alice.id, 8, [("09:30:00", "ready"), ("09:30:05", "talking"), ("09:33:25", "wrap"),
                                       ("09:34:05", "ready")])
    agent_events(s, cid, bob.id, 7, [("09:00:00", "ready"), ("09:08:05", "talking"), ("09:08:15", "wrap"),
                                     ("09:08:20", "ready"), ("11:00:08", "talking"), ("11:01:08", "wrap"),
                                     ("11:01:28", "ready"), ("13:00:06", "talking"), ("13:00:36", "wrap"),
                                     ("13:00:46", "ready"), ("14:00:00", "offline")])
    s.flush()
    return f
