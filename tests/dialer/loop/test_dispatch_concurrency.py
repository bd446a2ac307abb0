"""Two workers claiming from one PostgreSQL at once never dial a lead or a number twice at the same time, and the
database itself refuses a second live call for a lead or a number.

Each concurrent test proves its race happened: two claims are held inside their open transactions at once (a
barrier), a claim is seen waiting for the other's lock (``pg_locks``), or the long run counts the claims that
overlapped; a run where the writers took turns would fail, not pass."""

from __future__ import annotations

import os
import random
import threading
import time
from datetime import timedelta

import pytest
from sqlalchemy import func, insert, select, text
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


def run_two(worker, timeout_s: float, errors: list) -> None:
    """``worker(0)`` and ``worker(1)`` on threads of their own, waited for; what either raised fails the test."""
    threads = [threading.Thread(target=worker, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout_s)
    assert not errors, errors


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


PG_ONLY = pytest.mark.skipif(not os.environ.get("DIALER_TEST_DATABASE_URL"),
                             reason="concurrent workers need PostgreSQL (SQLite has one writer by design)")


@PG_ONLY
def test_two_claims_inside_open_transactions_at_once_take_different_leads(request, clock):
    """Both claims run while the other's transaction is open (a barrier before and after, commit only after both
    claimed): the second skips the rows the first locked. Without the row locks both would take the same first
    leads (same order, same count)."""
    sessions = fresh_pg(request)
    now = clock.now()
    with session_scope(sessions) as s:
        cid = make_campaign(s, "A", now, [phone(i) for i in range(20)])
    barrier = threading.Barrier(2, timeout=20)
    got: dict[int, list] = {}
    errors: list[BaseException] = []

    def worker(index: int) -> None:
        try:
            with session_scope(sessions) as s:
                camp = s.get(Campaign, cid)
                barrier.wait()  # both transactions are open
                got[index] = dispatch.claim(s, camp, 5, now)
                barrier.wait()  # both claimed before either commits: the claims overlapped
        except BaseException as e:  # surfaced by the main thread
            errors.append(e)

    run_two(worker, 60, errors)
    first, second = ({c.lead_id for c in got[i]} for i in range(2))
    assert len(first) == len(second) == 5 and not first & second, (first, second)


@PG_ONLY
def test_a_claim_of_a_number_live_in_an_open_claim_waits_for_it_then_takes_other_numbers(request, clock):
    """Campaigns A and B share numbers. A's claim holds its transaction open; B's claim of the same numbers is seen
    waiting on the live-call index (``pg_locks``), and once A commits it loses those numbers and takes others."""
    sessions = fresh_pg(request)
    engine = request.getfixturevalue("_pg_engine")
    now = clock.now()
    with session_scope(sessions) as s:
        a = make_campaign(s, "A", now, [phone(i) for i in range(5)])
        b = make_campaign(s, "B", now, [phone(i) for i in range(10)])  # its first 5 are A's
    claimed_a, release = threading.Event(), threading.Event()
    got: dict[str, list] = {}
    errors: list[BaseException] = []

    def claim_a() -> None:
        try:
            with session_scope(sessions) as s:
                got["a"] = dispatch.claim(s, s.get(Campaign, a), 5, now)
                claimed_a.set()
                release.wait(20)  # A's calls are inserted, not committed
        except BaseException as e:
            errors.append(e)
            claimed_a.set()

    def claim_b() -> None:
        try:
            with session_scope(sessions) as s:
                got["b"] = dispatch.claim(s, s.get(Campaign, b), 5, now)
        except BaseException as e:
            errors.append(e)

    def waiting() -> bool:
        with engine.connect() as conn:
            return bool(conn.scalar(text("SELECT count(*) FROM pg_locks WHERE NOT granted")))

    ta = threading.Thread(target=claim_a)
    ta.start()
    assert claimed_a.wait(20) and not errors, errors
    tb = threading.Thread(target=claim_b)
    tb.start()
    deadline, waited = time.monotonic() + 20, False
    while time.monotonic() < deadline and not waited and tb.is_alive():
        waited = waiting()
        time.sleep(0.02)
    release.set()
    ta.join(30)
    tb.join(30)
    assert not errors, errors
    assert waited, "B's claim never waited for A's open claim: the race did not happen"
    numbers_a, numbers_b = ({c.phone for c in got[k]} for k in "ab")
    assert numbers_a == {phone(i) for i in range(5)}
    assert numbers_b == {phone(i) for i in range(5, 10)}  # the shared numbers were A's; B took its own


@PG_ONLY
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
    inside = [False, False]
    overlaps = [0]  # claims begun while the other worker was inside its own claim

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
                        with lock:
                            inside[index] = True
                            overlaps[0] += inside[1 - index]
                        try:
                            got += dispatch.claim(s, camp, rng.randint(5, 25), now + timedelta(hours=1))
                            s.flush()
                        finally:
                            with lock:
                                inside[index] = False
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

    run_two(worker, 300, errors)
    assert not problems, problems[:5]
    assert all(n > 150 for n in claimed), claimed  # both workers really dialed
    assert overlaps[0] >= 5, overlaps  # and their claims ran at the same time (not by turns)
    with session_scope(sessions) as s:
        assert s.scalar(select(func.count()).select_from(Call).where(Call.ended_at.is_(None))) == 0
        # every lead was dialed exactly max_attempts times, never more: no claim was lost or doubled
        per_lead = s.execute(select(Call.lead_id, func.count()).group_by(Call.lead_id)).all()
        assert {n for _, n in per_lead} == {3}
        assert len(per_lead) == 600
        assert sum(claimed) == 1800
