"""The Twilio path: a create held back past ``send_margin_seconds`` after the gate's decision (its account's send clock
crowded by other workers, a throttled attempt waiting for a slot of its own) is not written to Twilio at all; its
claim is released with a ledger record. The real twilio client talks to the fake server over HTTP; the worker's
clock is a manual one that the pacer's waits move on."""

from __future__ import annotations

import json
import random
from datetime import timedelta

import pytest
from sqlalchemy import select

from campaigns.db import session_scope
from campaigns.dispatch.models import Call
from campaigns.leads.models import Lead
from dialer.carriers.sendpace import MemoryBudget, SendPacer
from dialer.carriers.twilio.adapter import Backoff, TwilioTelephony
from dialer.carriers.twilio.config import load
from dialer.carriers.twilio.fake import CallScript
from dialer.loop import DialLoop
from dialer.loop.gating import dnc_gate
from dialer.loop.placement import ConcurrentPlacer
from dnc.tables import LedgerRecord
from tests.dialer.carriers.twilio.support import env, fake_twilio, load_registry, wait_for
from tests.dialer.loop.conftest import KINDS, build_floor, phone

PUBLIC = "https://127.0.0.1:9"  # nothing listens: the fake's webhooks fail fast


class CrowdedBudget(MemoryBudget):
    """The account's send clock shared with other workers: right after this worker's first booking they take the
    next ``crowd_s`` seconds of slots, so a send that needs another slot (a throttled retry) waits that long."""

    def __init__(self, rate: float, crowd_s: float) -> None:
        super().__init__(rate)
        self.crowd_s, self.crowded = crowd_s, False

    def reserve(self, n, now, horizon_s):
        slots = super().reserve(n, now, horizon_s)
        if slots and not self.crowded:
            self.crowded = True
            self._next = slots[-1] + timedelta(seconds=self.crowd_s)
        return slots


@pytest.fixture
def fake():
    with fake_twilio(default_script=CallScript(ring_s=5, patience_s=5)) as f:
        yield f


@pytest.fixture(params=[k for k in KINDS if k != "memory"])
def world(request, clock, setenv, tmp_path, fake):
    """New York leads at 10:00 on a Tuesday, a registry loaded, the dial loop on Twilio with concurrent placement."""
    setenv(DIALER_DNC_DIR=str(tmp_path / "dnc"))
    f = build_floor(request.param, request, clock, leads=3, agents=1)
    with session_scope(f.sessions) as s:
        load_registry(s, tmp_path / "dnc", clock.now())
    return f


def start(f, clock, fake, crowd_s: float = 0.0, budget: MemoryBudget | None = None, sleep=None):
    pacer = SendPacer(budget or CrowdedBudget(1.0, crowd_s), 1.0, clock, margin_s=0, sleep=sleep or clock.advance)
    tel = TwilioTelephony(load(env(PUBLIC, fake.api_base)), pacer=pacer, sleep=clock.advance,
                          backoff=Backoff(attempts=4, base_s=0.01), rng=random.Random(1))
    placer = ConcurrentPlacer(tel.place_paced, pacer, f.store, "twilio", 1.0, clock,
                              request_times=lambda: list(tel.request_s))
    f.loop = DialLoop(f.store, tel, pacer_factory=lambda c: f.pacer, gate=dnc_gate, placer=placer)
    f.ready(0, 0.0)
    return placer


def dial_one(f, clock, fake, placer, throttle: int = 1) -> None:
    fake.throttle(throttle)  # the first attempt is refused with 429: its retry needs a slot of its own
    f.pacer.n = 1
    f.loop.tick(clock.now())
    wait_for(lambda: placer.in_flight() == 0, timeout=20, what="the placement finished")
    f.loop.advance(clock.now())  # the loop takes in what the placer's thread did


def sent_to(fake, number: str) -> list:
    return [c for c in list(fake.calls.values()) if c.params.get("To") == number]


def test_a_create_held_back_past_the_margin_never_reaches_twilio(world, clock, fake):
    f = world
    t0 = clock.now()
    placer = start(f, clock, fake, crowd_s=70)
    dial_one(f, clock, fake, placer)
    assert sent_to(fake, phone(0)) == [], "a call went out 70 s after the gate's decision (the margin is 60 s)"
    assert clock.now() < t0 + timedelta(seconds=60)  # a slot after the margin is not even waited for
    with session_scope(f.sessions) as s:
        assert s.scalars(select(Call)).all() == []
        lead = s.get(Lead, 1)
        assert (lead.status, lead.attempts, lead.last_called_at, lead.next_attempt_at) == ("new", 0, None, None)
        (rec,) = s.scalars(select(LedgerRecord).where(LedgerRecord.kind == "send_refused")).all()
        body = json.loads(rec.body)
    assert (rec.e164, rec.allowed, rec.reasons) == (phone(0), False, "stale_decision")
    assert body["decided_at"] == t0.isoformat() and body["send_by"] == (t0 + timedelta(seconds=60)).isoformat()
    assert rec.at < t0 + timedelta(seconds=60) and body["sends_at"] == (t0 + timedelta(seconds=70)).isoformat()
    assert f.loop.stats.placed == 0 and f.loop.stats.send_refused == 1


def test_a_thread_kept_off_the_cpu_past_the_margin_writes_nothing(world, clock, fake):
    """The slot is within the margin, but the sending thread wakes 65 s late (a loaded host): the hook that runs
    as the request's first byte would go out refuses it, so the twilio client's request is never written."""
    f = world
    t0 = clock.now()
    budget = MemoryBudget(1.0)
    budget.reserve(1, t0, 1.0)  # another worker's slot: ours is a second later, so the thread sleeps for it
    overslept: list[float] = []

    def sleep(s: float) -> None:
        clock.advance(s + (65.0 if not overslept else 0.0))
        overslept.append(s)

    placer = start(f, clock, fake, budget=budget, sleep=sleep)
    dial_one(f, clock, fake, placer, throttle=0)
    assert overslept and clock.now() > t0 + timedelta(seconds=60)
    assert sent_to(fake, phone(0)) == [], "a call went out 66 s after the gate's decision (the margin is 60 s)"
    assert placer.pacer._writing == 0 and not placer.pacer._sent  # the guard counts no send that never was
    with session_scope(f.sessions) as s:
        assert s.scalars(select(Call)).all() == []
        (rec,) = s.scalars(select(LedgerRecord).where(LedgerRecord.kind == "send_refused")).all()
    assert rec.at > t0 + timedelta(seconds=60) and rec.reasons == "stale_decision"
    assert f.loop.stats.send_refused == 1


def test_a_create_within_the_margin_is_sent(world, clock, fake):
    f = world
    t0 = clock.now()
    placer = start(f, clock, fake, crowd_s=30)
    dial_one(f, clock, fake, placer)
    (call,) = sent_to(fake, phone(0))
    with session_scope(f.sessions) as s:
        row = s.scalars(select(Call)).one()
        assert row.provider_sid == call.sid and t0 + timedelta(seconds=30) <= row.placed_at <= t0 + timedelta(
            seconds=60)
        assert s.scalars(select(LedgerRecord).where(LedgerRecord.kind == "send_refused")).all() == []
