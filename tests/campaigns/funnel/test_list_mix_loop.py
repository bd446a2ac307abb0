"""The list mix inside the real dial loop (SQL store, a fixed pace, every call rings out): over an hour of turns the
calls placed come from each enabled list in its weight's share, and none from a disabled list."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

from sqlalchemy import insert, select

from campaigns.campaign.models import Campaign
from campaigns.campaign.service import create_campaign
from campaigns.db import session_scope
from campaigns.dispatch.models import Call
from campaigns.leads import listadmin
from campaigns.leads.models import Lead, LeadList
from dialer.carriers.telephony import CarrierEvent
from dialer.loop import DialLoop, SqlStore
from dnc.zones import candidate_zones
from tests.campaigns.funnel.test_dial_integration import Carrier, Pacer


def test_the_loop_dials_each_list_in_its_share(sessions, clock):
    start = clock.now()  # Tuesday 10:00 New York
    with session_scope(sessions) as s:
        c = create_campaign(s, "Mix", "+12125550100", start)
        c.status, c.pacing_mode, c.max_attempts, c.retry_no_answer_s = "active", "progressive", 50, 3600
        lists = [LeadList(campaign_id=c.id, name=n, sha256=n * 64, uploaded_at=start) for n in "abc"]
        s.add_all(lists)
        s.flush()
        for k, lst in enumerate(lists):
            s.execute(insert(Lead), [{"campaign_id": c.id, "list_id": lst.id, "phone": p, "custom": {},
                                      "created_at": start, "updated_at": start,
                                      "timezones": ",".join(candidate_zones(p))}
                                     for p in (f"+1212{k + 2}55{i:04d}" for i in range(200))])
        listadmin.set_mix(s, c, "weights", {lists[0].id: 3, lists[1].id: 1, lists[2].id: 4}, "mgr", start)
        listadmin.set_active(s, c, lists[2], False, "mgr", start)
        cid, ids = c.id, [x.id for x in lists]
    carrier = Carrier()
    loop = DialLoop(SqlStore(sessions, provider="rec"), carrier, pacer_factory=lambda v: Pacer(3))
    t = start
    while t < start + timedelta(hours=1):  # a turn a minute; each call rings out 30 s later
        loop.tick(t)
        for req in list(carrier.requests):
            if not getattr(req, "_done", False):
                loop.handle(CarrierEvent("ended", f"R{req.call_id}", t + timedelta(seconds=30), outcome="no_answer"))
                object.__setattr__(req, "_done", True)
        t += timedelta(minutes=1)
    with session_scope(sessions) as s:
        per = Counter(s.scalars(select(Call.list_id).where(Call.campaign_id == cid)))
        assert s.get(Campaign, cid).status == "active"
    assert sum(per.values()) == 180  # 3 calls a turn, 60 turns
    assert per == Counter({ids[0]: 135, ids[1]: 45})  # 3:1, and nothing from the disabled list
