"""A small floor on either store (memory, or SQL on SQLite/PostgreSQL), a carrier the test scripts, and a pacer
that places what the test says: the loop's behaviour is checked the same way on both stores."""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import pytest
from sqlalchemy import insert, select, text

from campaigns.agents.service import create_agent
from campaigns.campaign.models import Campaign
from campaigns.campaign.service import CampaignSettings, create_campaign
from campaigns.db import make_engine, session_factory, session_scope
from campaigns.dispatch.models import Call
from campaigns.leads.models import Lead, LeadList
from dialer.carriers.telephony import CarrierEvent, PlaceFailed
from dialer.loop import DialLoop, MemoryStore, SqlStore
from dialer.loop.memory import MemAgent, MemLead, campaign_view
from dialer.sim.world import dispositions

CALLER = "+12125550100"


def phone(i: int) -> str:
    return f"+1212555{i:04d}"


class FixedPacer:
    """Places ``n`` calls per tick (the test sets it) and remembers every event it was told."""

    def __init__(self) -> None:
        self.n = 0
        self.events: list = []

    def observe(self, ev) -> None:
        self.events.append(ev)

    def plan(self, t: float) -> int:
        n, self.n = self.n, 0
        return n

    def explain(self) -> dict:
        return {"mode": "fixed"}

    def kinds(self, cls) -> list:
        return [e for e in self.events if isinstance(e, cls)]


class ScriptedCarrier:
    """``Telephony`` that records what the loop asked for; the test reports what the network does."""

    name = "script"

    def __init__(self) -> None:
        self.placed: list = []
        self.actions: list[tuple[str, str, object]] = []
        self.fail_next: PlaceFailed | None = None

    def place(self, request) -> str:
        if self.fail_next is not None:
            e, self.fail_next = self.fail_next, None
            raise e
        ref = f"REF{request.call_id}"
        self.placed.append((ref, request))
        return ref

    def connect(self, ref: str, agent_id: int) -> None:
        self.actions.append(("connect", ref, agent_id))

    def abandon(self, ref: str) -> None:
        self.actions.append(("abandon", ref, None))

    def hangup(self, ref: str) -> None:
        self.actions.append(("hangup", ref, None))

    def leave_voicemail(self, ref: str, message: str) -> None:
        self.actions.append(("voicemail", ref, message))

    def did(self, action: str) -> list:
        return [(r, x) for a, r, x in self.actions if a == action]


@dataclass
class Floor:
    store: object
    loop: DialLoop
    carrier: ScriptedCarrier
    pacer: FixedPacer
    campaign_id: int
    agents: list[int]
    t0: datetime
    sessions: object = None
    gate_calls: list = field(default_factory=list)

    def at(self, seconds: float) -> datetime:
        return self.t0 + timedelta(seconds=seconds)

    def dial(self, n: int, t: float) -> list[str]:
        before = len(self.carrier.placed)
        self.pacer.n = n
        self.loop.tick(self.at(t))
        return [ref for ref, _ in self.carrier.placed[before:]]

    def event(self, kind: str, ref: str, t: float, **kw) -> None:
        self.loop.handle(CarrierEvent(kind=kind, provider_ref=ref, at=self.at(t), **kw))

    def ready(self, agent_index: int, t: float) -> None:
        self.loop.agent_state(self.agents[agent_index], "ready", self.at(t))

    def call(self, ref: str):
        return self.store.call_by_ref(ref)

    def lead(self, lead_id: int) -> tuple:
        """(status, attempts, next_attempt_at, last_outcome, suppression)"""
        if isinstance(self.store, MemoryStore):
            x = self.store.leads[lead_id]
            return x.status, x.attempts, x.next_attempt_at, x.last_outcome, x.suppression
        with session_scope(self.sessions) as s:
            x = s.get(Lead, lead_id)
            return x.status, x.attempts, x.next_attempt_at, x.last_outcome, x.suppression

    def call_row(self, call_id: int) -> tuple:
        """(outcome, ended, disposition) of any call, live or finished."""
        if isinstance(self.store, MemoryStore):
            for r in self.store.export_calls():
                if r.id == call_id:
                    return r.outcome, True, r.disposition
            c = self.store.calls[call_id]
            return c.outcome, c.ended_at is not None, c.disposition
        with session_scope(self.sessions) as s:
            c = s.get(Call, call_id)
            return c.outcome, c.ended_at is not None, c.disposition_code


def build_floor(kind: str, request, clock, *, leads: int = 10, agents: int = 2, gate=None, cps=None,
                max_lines=None, machine_action="hangup", pacing_mode="progressive") -> Floor:
    t0 = clock.now()
    pacer = FixedPacer()
    carrier = ScriptedCarrier()
    sessions = None
    if kind == "memory":
        store = MemoryStore()
        store.add_campaign(campaign_view(1, "Spring", pacing_mode=pacing_mode, max_lines=max_lines,
                                         machine_action=machine_action, voicemail_message="Call us back",
                                         caller_id=CALLER), dispositions())
        for i in range(leads):
            store.add_lead(MemLead(i + 1, 1, phone(i), t0))
        ids = list(range(1, agents + 1))
        for i in ids:
            store.add_agent(MemAgent(i, f"agent{i}", 1))
        campaign_id = 1
    else:
        sessions = sessions_for(kind, request)
        with session_scope(sessions) as s:
            c = create_campaign(s, "Spring", CALLER, t0, CampaignSettings(pacing_mode=pacing_mode))
            c.status, c.max_lines, c.machine_action, c.voicemail_message = "active", max_lines, machine_action, \
                "Call us back"
            lst = LeadList(campaign_id=c.id, name="l", sha256="0" * 64, uploaded_at=t0)
            s.add(lst)
            s.flush()
            if leads:
                s.execute(insert(Lead), [{"campaign_id": c.id, "list_id": lst.id, "phone": phone(i), "custom": {},
                                          "created_at": t0, "updated_at": t0} for i in range(leads)])
            ids = [create_agent(s, f"agent{i + 1}", t0, campaign=c).id for i in range(agents)]
            campaign_id = c.id
            assert s.scalars(select(Lead.id).order_by(Lead.id)).all() == list(range(1, leads + 1))
        store = SqlStore(sessions, provider="script")
    floor = Floor(store, None, carrier, pacer, campaign_id, ids, t0, sessions)
    if gate is not None:
        def recording_gate(ctx, candidate, now):
            floor.gate_calls.append(candidate)
            return gate(ctx, candidate, now)
    floor.loop = DialLoop(store, carrier, pacer_factory=lambda c: pacer,
                          gate=recording_gate if gate is not None else None, cps=cps)
    return floor


KINDS = ["memory", "sqlite"] + (["postgresql"] if os.environ.get("DIALER_TEST_DATABASE_URL") else [])


@pytest.fixture(params=KINDS)
def kind(request):
    return request.param


def sessions_for(kind: str, request):
    """Sessions on a migrated, empty database of ``kind`` (sqlite: a copy of the suite's template)."""
    if kind != "sqlite":
        return fresh_pg(request)
    path = request.getfixturevalue("tmp_path") / "loop.sqlite3"
    shutil.copy(request.getfixturevalue("_sqlite_template"), path)
    engine = make_engine(f"sqlite:///{path}")
    request.addfinalizer(engine.dispose)
    return session_factory(engine)


def fresh_pg(request):
    """Sessions on the suite's PostgreSQL database (migrated once per session), emptied."""
    engine = request.getfixturevalue("_pg_engine")
    with engine.begin() as conn:
        names = conn.execute(text("SELECT tablename FROM pg_tables WHERE schemaname = 'public' "
                                  "AND tablename <> 'alembic_version'")).scalars().all()
        conn.execute(text(f"TRUNCATE {', '.join(names)} RESTART IDENTITY CASCADE"))
    return session_factory(engine)


@pytest.fixture
def floor(kind, request, clock):
    return build_floor(kind, request, clock)


def campaign_row(sessions, campaign_id: int) -> Campaign:
    with session_scope(sessions) as s:
        return s.get(Campaign, campaign_id)
