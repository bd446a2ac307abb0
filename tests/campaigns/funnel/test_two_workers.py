"""Idempotent dispatch, end to end: two dial-loop workers (threads, each with its own engine and ``DialLoop``) dial
the same two campaigns on one PostgreSQL over 10,000 leads, 1,000 numbers on both campaigns' lists. No lead and no
number ever has two live attempts, as seen by the workers while they run and as the calls table records it
afterwards, and the database itself refuses a second live call. The test proves the workers really ran at the same
time: it counts the dial-loop turns one worker began while the other was inside its own, and the calls each placed
while the other had calls live; workers that took turns would fail it."""

from __future__ import annotations

import os
import random
import threading
from collections import defaultdict
from datetime import timedelta

import pytest
from sqlalchemy import func, insert, select
from sqlalchemy.exc import IntegrityError

from campaigns.campaign.service import create_campaign
from campaigns.db import make_engine, session_factory, session_scope
from campaigns.dispatch.models import Call
from campaigns.leads.models import Lead, LeadList
from dialer.carriers.telephony import CarrierEvent
from dialer.loop import DialLoop, SqlStore

PG = os.environ.get("DIALER_TEST_DATABASE_URL")
# durability is not what this test is about: commits need not wait for the disk, and no ping per checkout
FAST = {"connect_args": {"options": "-c synchronous_commit=off"}, "pool_pre_ping": False}
pytestmark = [pytest.mark.skipif(not PG, reason="two concurrent workers need PostgreSQL (SQLite has one writer)"),
              pytest.mark.slow]


class SharedClock:
    """One time line for both workers: every reading is a millisecond later than the one before."""

    def __init__(self, t0) -> None:
        self.t, self.lock = t0, threading.Lock()

    def now(self):
        with self.lock:
            self.t += timedelta(milliseconds=1)
            return self.t


class Pacer:
    def observe(self, ev) -> None:
        pass

    def plan(self, t: float) -> int:
        return 40

    def explain(self) -> dict:
        return {}


class Carrier:
    name = "test"

    def __init__(self, worker: int) -> None:
        self.worker, self.placed = worker, []

    def place(self, request) -> str:
        ref = f"W{self.worker}-{request.call_id}"
        self.placed.append((ref, request))
        return ref

    def connect(self, ref, agent_id) -> None: ...
    def abandon(self, ref) -> None: ...
    def hangup(self, ref) -> None: ...


def lead_of(engine, call_ids: list[int]) -> dict[int, int]:
    if not call_ids:
        return {}
    with engine.connect() as conn:
        return dict(conn.execute(select(Call.id, Call.lead_id).where(Call.id.in_(call_ids))).all())


def _campaign(s, name: str, now, phones: list[str]) -> int:
    c = create_campaign(s, name, "+12125550100", now)
    c.status, c.pacing_mode, c.max_attempts = "active", "progressive", 1
    lst = LeadList(campaign_id=c.id, name=name, sha256=name.ljust(64, "0"), uploaded_at=now)
    s.add(lst)
    s.flush()
    s.execute(insert(Lead), [{"campaign_id": c.id, "list_id": lst.id, "phone": p, "custom": {}, "created_at": now,
                              "updated_at": now} for p in phones])
    return c.id


def test_two_dial_loop_workers_never_hold_a_lead_or_a_number_twice(request, clock):
    from tests.dialer.loop.conftest import fresh_pg

    fresh_pg(request)  # empty, migrated
    t0 = clock.now()
    phones = [f"+1212{5550000 + i:07d}" for i in range(9000)]
    with session_scope(session_factory(request.getfixturevalue("_pg_engine"))) as s:
        _campaign(s, "A", t0, phones[:6000])
        _campaign(s, "B", t0, phones[5000:9000])  # 1,000 people are on both lists
    shared = SharedClock(t0)
    lock = threading.Lock()
    live_leads: dict[int, str] = {}
    live_phones: dict[str, str] = {}
    problems: list[str] = []
    placed = [0, 0]
    errors: list[BaseException] = []
    refused = []
    inside = [False, False]
    overlaps = [0, 0]  # turns a worker began while the other was inside its own turn
    live_of = [0, 0]  # each worker's calls live now
    beside = [0, 0]  # calls a worker placed while the other had calls live

    def worker(index: int) -> None:
        engine = make_engine(PG, **FAST)
        try:
            store = SqlStore(session_factory(engine), provider=f"w{index}")
            carrier = Carrier(index)
            loop = DialLoop(store, carrier, pacer_factory=lambda c: Pacer())
            rng = random.Random(index)
            mine: list[tuple[str, int, str]] = []
            idle = 0
            while idle < 3 or mine:
                before = len(carrier.placed)
                with lock:
                    inside[index] = True
                    overlaps[index] += inside[1 - index]
                try:
                    loop.tick(shared.now())
                finally:
                    with lock:
                        inside[index] = False
                new = [(ref, r.call_id, r.to) for ref, r in carrier.placed[before:]]
                leads = lead_of(engine, [call_id for _, call_id, _ in new])
                with lock:
                    for ref, call_id, number in new:
                        lead = leads[call_id]
                        if lead in live_leads or number in live_phones:
                            problems.append(f"{ref}: lead {lead} / {number} already live as "
                                            f"{live_leads.get(lead) or live_phones.get(number)}")
                        live_leads[lead], live_phones[number] = ref, ref
                    placed[index] += len(new)
                    beside[index] += len(new) if live_of[1 - index] else 0
                    live_of[index] += len(new)
                mine += [(ref, leads[call_id], number) for ref, call_id, number in new]
                idle = 0 if new else idle + 1
                rng.shuffle(mine)
                keep = len(mine) // 2 if new else 0  # end about half; everything once nothing new comes
                ending, mine = mine[keep:], mine[:keep]
                for ref, lead, number in ending:
                    with lock:  # forget it before the database does: a re-claim is then never a false clash
                        live_leads.pop(lead, None)
                        live_phones.pop(number, None)
                        live_of[index] -= 1
                    loop.handle(CarrierEvent("ended", ref, shared.now(), outcome="no_answer"))
        except BaseException as e:  # surfaced by the main thread
            errors.append(e)
        finally:
            engine.dispose()

    def try_second_live_call() -> None:
        """While the workers run: the database refuses a second live call for a live call's lead or number."""
        engine = make_engine(PG)
        try:
            for _ in range(200):
                with session_scope(session_factory(engine)) as s:
                    live = s.scalars(select(Call).where(Call.ended_at.is_(None)).limit(1)).first()
                    if live is None:
                        continue
                    lead_id, number, cid = live.lead_id, live.phone, live.campaign_id
                for values in ({"lead_id": lead_id, "phone": "+19995550000"}, {"lead_id": None, "phone": number}):
                    try:
                        with engine.begin() as conn:
                            conn.execute(insert(Call).values(campaign_id=cid, placed_at=t0, **values))
                        refused.append(("accepted", values))
                    except IntegrityError as e:
                        if "uq_calls_live" in str(e.orig):
                            refused.append(("refused", values))
                        else:
                            raise
                return
        finally:
            engine.dispose()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    try_second_live_call()
    for t in threads:
        t.join(600)
    assert not errors, errors
    assert not problems, problems[:5]
    # the database refused both, unless the lead or number happened to end just before (then it accepted
    # nothing either: an accepted row would be a second live call only if the first was still live)
    assert refused and all(r[0] == "refused" for r in refused), refused
    assert all(n > 1000 for n in placed), placed  # both workers really dialed
    assert sum(overlaps) >= 5, overlaps  # and at the same time: turns overlapped (not by turns) ...
    assert all(n >= 100 for n in beside), beside  # ... each placing calls while the other's were live
    engine = request.getfixturevalue("_pg_engine")
    with session_scope(session_factory(engine)) as s:
        assert s.scalar(select(func.count()).select_from(Call).where(Call.ended_at.is_(None))) == 0
        per_lead = dict(s.execute(select(Call.lead_id, func.count()).group_by(Call.lead_id)).all())
        assert len(per_lead) == 10_000 and set(per_lead.values()) == {1}  # each lead once: none lost or doubled
        assert sum(placed) == 10_000
        assert s.scalar(select(func.count()).select_from(Lead).where(Lead.status != "exhausted")) == 0
        # afterwards, from the calls table: no two calls of a number ever overlapped in time
        spans = defaultdict(list)
        for number, start, end in s.execute(select(Call.phone, Call.placed_at, Call.ended_at)):
            spans[number].append((start, end))
        overlaps = [n for n, ss in spans.items() if any(x[1] > y[0] for x, y in zip(sorted(ss), sorted(ss)[1:],
                                                                                      strict=False))]
        assert overlaps == [], overlaps[:5]
        assert sum(len(v) > 1 for v in spans.values()) == 1000  # the shared numbers were each called twice
