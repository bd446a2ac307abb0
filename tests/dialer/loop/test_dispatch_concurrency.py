"""Two workers claiming from one PostgreSQL at once never dial a lead or a number twice at the same time, and the
database itself refuses a second live call for a lead or a number."""

from __future__ import annotations

import os
import random
import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, insert, select
from sqlalchemy.exc import IntegrityError

from campaigns.campaign.models import Campaign
from campaigns.campaign.service import create_campaign
from campaigns.db import session_scope
from campaigns.dispatch import service as dispatch
from campaigns.dispatch.models import Call
from campaigns.leads.models import Lead, LeadList
from tests.dialer.loop.conftest import fresh_pg, phone


def make_campaign(s, name: str, now, phones: list[str]) -> int:
    c = create_campaign(s, name, "+12125550100", now)
    c.status, c.retry_no_answer_s, c.max_attempts = "active", 0, 3
    lst = LeadList(campaign_id=c.id, name=name, sha256=name.ljust(64, "0"), uploaded_at=now)
    s.add(lst)
    s.flush()
    s.execute(insert(Lead), [{"campaign_id": c.id, "list_id": lst.id, "phone": p, "custom": {}, "created_at": now,
                              "updated_at": now} for p in phones])
    return c.id


def test_the_database_refuses_a_second_live_call_for_a_lead_or_a_number(sessions, clock):
    now = clock.now()
    with session_scope(sessions) as s:
        a = make_campaign(s, "A", now, [phone(1), phone(2)])
        b = make_campaign(s, "B", now, [phone(1)])
        lead1, lead2 = s.scalars(select(Lead.id).where(Lead.campaign_id == a).order_by(Lead.id)).all()
        other = s.scalar(select(Lead.id).where(Lead.campaign_id == b))
        s.add(Call(campaign_id=a, lead_id=lead1, phone=phone(1), placed_at=now))
    for lead, campaign, number in ((lead1, a, phone(9)), (other, b, phone(1))):
        with pytest.raises(IntegrityError), session_scope(sessions) as s:
            s.add(Call(campaign_id=campaign, lead_id=lead, phone=number, placed_at=now))
    with session_scope(sessions) as s:  # once the first call has ended, both are allowed again
        s.execute(Call.__table__.update().values(ended_at=now))
        s.add(Call(campaign_id=a, lead_id=lead1, phone=phone(1), placed_at=now))
        s.add(Call(campaign_id=a, lead_id=lead2, phone=phone(2), placed_at=now))


@pytest.mark.skipif(not os.environ.get("DIALER_TEST_DATABASE_URL"),
                    reason="concurrent workers need PostgreSQL (SQLite has one writer by design)")
def test_two_workers_never_hold_a_lead_or_a_number_twice(request, clock):
    sessions = fresh_pg(request)
    now = clock.now()
    phones_a = [phone(i) for i in range(400)]
    phones_b = [phone(i) for i in range(300, 500)]  # 100 people are on both campaigns' lists
    with session_scope(sessions) as s:
        campaigns = [make_campaign(s, "A", now, phones_a), make_campaign(s, "B", now, phones_b)]
    lock = threading.Lock()
    live_leads: set[int] = set()
    live_phones: set[str] = set()
    problems: list[str] = []
    claimed = [0, 0]
    errors: list[BaseException] = []

    def worker(index: int) -> None:
        rng = random.Random(index)
        mine: list[tuple[int, int, str]] = []
        idle_rounds = 0
        try:
            while idle_rounds < 3 or mine:
                got = []
                for cid in campaigns:
                    with session_scope(sessions) as s:
                        camp = s.get(Campaign, cid)
                        got += dispatch.claim(s, camp, rng.randint(5, 25), now + timedelta(hours=1))
                with lock:
                    for c in got:
                        if c.lead_id in live_leads or c.phone in live_phones:
                            problems.append(f"worker {index} got lead {c.lead_id} / {c.phone} while it was live")
                        live_leads.add(c.lead_id)
                        live_phones.add(c.phone)
                    claimed[index] += len(got)
                mine += [(c.call_id, c.lead_id, c.phone) for c in got]
                idle_rounds = 0 if got else idle_rounds + 1
                rng.shuffle(mine)
                keep = len(mine) // 2 if got else 0  # end about half; everything once the lists run dry
                ending, mine = mine[keep:], mine[:keep]
                with lock:  # forget them before the database does, so a re-claim never looks like a clash
                    live_leads.difference_update(lead for _, lead, _ in ending)
                    live_phones.difference_update(number for _, _, number in ending)
                with session_scope(sessions) as s:
                    for call_id, _, _ in ending:
                        dispatch.end(s, call_id, "no_answer", now + timedelta(seconds=1))  # due again at once
        except BaseException as e:  # surfaced by the main thread
            errors.append(e)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(300)
    assert not errors, errors
    assert not problems, problems[:5]
    assert all(n > 150 for n in claimed), claimed  # both workers really competed
    with session_scope(sessions) as s:
        assert s.scalar(select(func.count()).select_from(Call).where(Call.ended_at.is_(None))) == 0
        # every lead was dialed exactly max_attempts times, never more: no claim was lost or doubled
        per_lead = s.execute(select(Call.lead_id, func.count()).group_by(Call.lead_id)).all()
        assert {n for _, n in per_lead} == {3}
        assert len(per_lead) == 600
        assert sum(claimed) == 1800
