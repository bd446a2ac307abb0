"""The strategy inside the real dial loop: the pool number on every call (row and carrier request) with local
presence and a daily cap that holds through a simulated day, personal callbacks that wait for their agent and reach
them, dispositions through the callback engine and the DNC service, and the abandon guard's fallback explained."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

from sqlalchemy import func, insert, select

from campaigns.agents import service as agents
from campaigns.agents.service import create_agent
from campaigns.alerts.service import check
from campaigns.callbacks import service as cb
from campaigns.callerid.service import add_number
from campaigns.campaign.models import Campaign
from campaigns.campaign.service import create_campaign
from campaigns.db import session_scope
from campaigns.dispatch import service as dispatch
from campaigns.dispatch.models import Call
from campaigns.leads.models import Lead, LeadList
from dialer.carriers.telephony import CarrierEvent
from dialer.loop import DialLoop, SqlStore
from dnc.zones import candidate_zones


class Pacer:
    def __init__(self, n: int) -> None:
        self.n = n

    def observe(self, ev) -> None:
        pass

    def plan(self, t: float) -> int:
        return self.n

    def explain(self) -> dict:
        return {"mode": "fixed"}


class Carrier:
    name = "rec"

    def __init__(self) -> None:
        self.requests = []

    def place(self, request) -> str:
        self.requests.append(request)
        return f"R{request.call_id}"

    def connect(self, ref, agent_id) -> None: ...
    def abandon(self, ref) -> None: ...
    def hangup(self, ref) -> None: ...


def _campaign(s, now, phones: list[str], name="Pool") -> int:
    c = create_campaign(s, name, "+12125550100", now)
    c.status, c.pacing_mode, c.max_attempts, c.retry_no_answer_s = "active", "progressive", 50, 600
    lst = LeadList(campaign_id=c.id, name="l", sha256="p" * 64, uploaded_at=now)
    s.add(lst)
    s.flush()
    s.execute(insert(Lead), [{"campaign_id": c.id, "list_id": lst.id, "phone": p, "custom": {}, "created_at": now,
                              "updated_at": now, "timezones": ",".join(candidate_zones(p))} for p in phones])
    return c.id


def test_pool_numbers_local_presence_and_the_daily_cap_through_a_simulated_day(sessions, clock):
    start = clock.now()  # Tuesday 10:00 New York
    phones = [p for i in range(40) for p in (f"+1212555{i:04d}", f"+1312555{i:04d}")]  # New York, Chicago, ...
    with session_scope(sessions) as s:
        cid = _campaign(s, start, phones)
        c = s.get(Campaign, cid)
        c.local_presence = True
        add_number(s, c, "+12125550101", start, daily_cap=30)
        add_number(s, c, "+13125550102", start, daily_cap=20)
    carrier = Carrier()
    loop = DialLoop(SqlStore(sessions, provider="rec"), carrier, pacer_factory=lambda v: Pacer(4))
    t = start
    while t < start + timedelta(hours=11):  # one day, a turn every 10 minutes; every call rings out
        loop.tick(t)
        for req in list(carrier.requests):
            if not getattr(req, "_done", False):
                loop.handle(CarrierEvent("ended", f"R{req.call_id}", t + timedelta(seconds=30), outcome="no_answer"))
                object.__setattr__(req, "_done", True)
        t += timedelta(minutes=10)
    with session_scope(sessions) as s:
        rows = s.execute(select(Call.id, Call.phone, Call.caller_id)).all()
    shown = {r.id: r.caller_id for r in rows}
    assert all(req.caller_id == shown[req.call_id] for req in carrier.requests)  # what the carrier was told
    per = Counter(r.caller_id for r in rows)
    assert per == {"+12125550101": 30, "+13125550102": 20}  # each at its cap, never over
    # local presence: each call showed a number of the lead's own area code until that number's cap was reached
    # (the Chicago one after 20 calls), then the other one
    local = [r.caller_id[2:5] == r.phone[2:5] for r in sorted(rows)]
    assert all(local[:40]) and sum(local) == 40 + local[40:].count(True) and local[40:].count(True) == 5
    assert loop.explain(cid)["capped_by"] == "leads"
    loop.tick(start + timedelta(days=1))  # the campaign's next day: the caps start again
    assert len(carrier.requests) == 54


def test_a_personal_callback_waits_for_its_agent_and_reaches_them(session, leads, campaign, clock):
    now = clock.now()
    ann = create_agent(session, "ann", now, campaign=campaign)
    bob = create_agent(session, "bob", now, campaign=campaign)
    agents.go_ready(session, bob.id, now - timedelta(minutes=30))  # bob has waited longest
    lead = leads.add("+12125551001")
    c = cb.schedule(session, lead, now + timedelta(minutes=5), now - timedelta(hours=1), agent_id=ann.id)
    due = c.due_at
    assert dispatch.claim(session, campaign, 5, due) == []  # ann is offline: it waits for her
    agents.go_ready(session, ann.id, due + timedelta(minutes=1))
    got = dispatch.claim(session, campaign, 5, due + timedelta(minutes=2))
    assert [g.lead_id for g in got] == [lead.id] and c.status == "fired"
    call = session.get(Call, got[0].call_id)
    assert agents.longest_idle(session, campaign.id, call.id) == ann.id  # the answered call goes to her
    assert agents.longest_idle(session, campaign.id) == bob.id  # any other call: the longest idle
    dispatch.end(session, call.id, "no_answer", due + timedelta(minutes=3))
    # another personal callback: ann logs out; after the 15-minute grace anyone may take it
    agents.go_offline(session, ann.id, due + timedelta(minutes=4))
    c2 = cb.schedule(session, lead, due + timedelta(hours=1), due + timedelta(minutes=4), agent_id=ann.id)
    assert dispatch.claim(session, campaign, 5, c2.due_at + timedelta(minutes=14)) == []
    assert [g.lead_id for g in dispatch.claim(session, campaign, 5, c2.due_at + timedelta(minutes=15))] == [lead.id]


def test_dispositions_go_through_the_callback_engine_and_the_dnc_service(session, leads, campaign, clock):
    from zoneinfo import ZoneInfo

    now = clock.now()
    ann = create_agent(session, "ann", now, campaign=campaign)
    bob = create_agent(session, "bob", now, campaign=campaign)
    first, second = leads.add("+12125551001"), leads.add("+12125551002")
    twin_campaign = create_campaign(session, "Twin", "+12125550100", now)
    leads.campaign = twin_campaign
    twin = leads.add("+12125551002")
    pending = cb.schedule(session, twin, now + timedelta(days=1), now)
    leads.campaign = campaign
    calls = dispatch.claim(session, campaign, 2, now)
    ten_pm = now.astimezone(ZoneInfo("America/New_York")).replace(hour=22, minute=0)
    for g, agent in zip(calls, (ann, bob), strict=True):
        call = session.get(Call, g.call_id)
        call.answered_at, call.answered_by = now, "human"
        agents.go_ready(session, agent.id, now)
        assert agents.connect(session, call.id, agent.id, now)
        dispatch.end(session, call.id, "completed", now + timedelta(minutes=2))
        if call.lead_id == first.id:
            agents.disposition(session, call.id, "CALLBK", now + timedelta(minutes=3), callback_at=ten_pm,
                               agent_ref=agent.id)
        else:
            agents.disposition(session, call.id, "DNC", now + timedelta(minutes=3), agent_ref=agent.id)
    [mine] = cb.queue(session, campaign.id)
    assert mine.lead_id == first.id and mine.agent == "ann"  # personal by default
    assert mine.due_at == ten_pm.replace(hour=8) + timedelta(days=1)  # 22:00 became 08:00 the next morning
    assert session.get(Call, calls[0].call_id).callback_at == mine.due_at  # the agent's list shows the real time
    assert (first.status, first.callback_at) == ("callback", mine.due_at)
    # the DNC disposition cancelled the other campaign's callback for the same person, and closed that lead
    assert (pending.status, twin.status, second.status) == ("cancelled", "dnc", "dnc")
    assert "do-not-call request" in pending.cancelled_reason


def test_at_the_abandon_target_the_loop_paces_progressive_and_says_why(sessions, clock):
    now = clock.now()
    with session_scope(sessions) as s:
        cid = _campaign(s, now, ["+12125551001"], name="Guarded")
        c = s.get(Campaign, cid)
        c.pacing_mode = "predictive"
        for i in range(20):
            s.add(Call(campaign_id=cid, phone=f"+1999555{i:04d}", placed_at=now - timedelta(hours=2),
                       ended_at=now - timedelta(hours=2), outcome="abandoned" if i < 2 else "completed"))
        s.flush()
        assert check(s, c, now).fallback
    store = SqlStore(sessions)
    [view] = store.active_campaigns(now)
    assert view.pacing_mode == "progressive" and "10.0 %" in view.fallback
    loop = DialLoop(store, Carrier(), pacer_factory=lambda v: Pacer(0))
    loop.tick(now)
    assert loop.explain(cid)["mode"] == "progressive" and "progressive pacing" in loop.explain(cid)["fallback"]
    with session_scope(sessions) as s:
        assert s.scalar(select(func.count()).select_from(Call).where(Call.ended_at.is_(None))) == 0
