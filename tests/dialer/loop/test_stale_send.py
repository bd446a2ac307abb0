"""A call is never sent on a gate decision older than ``send_margin_seconds``: the gate only made sure the window
stays open that long after it decided. A call whose turn comes later is not sent; its claim is released (the lead
as it was, the attempt not counted, the agent free) with a ledger record saying why, and the next claim asks the
gate again. The worker's clock decides, never the wall clock."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from campaigns.db import session_scope
from campaigns.dispatch.models import Call
from campaigns.leads.models import Lead
from dialer.loop.gating import dnc_gate
from dnc.tables import LedgerRecord
from tests.dialer.loop.conftest import KINDS, build_floor, phone

SQL_KINDS = [k for k in KINDS if k != "memory"]


@pytest.fixture(params=SQL_KINDS)
def gfloor(request, clock, setenv, tmp_path):
    """Preview agents on New York leads at 10:00 on a Tuesday, a national registry loaded: the gate allows them."""
    from tests.dialer.carriers.twilio.support import load_registry

    setenv(DIALER_DNC_DIR=str(tmp_path / "dnc"))
    floor = build_floor(request.param, request, clock, leads=3, pacing_mode="preview", gate=dnc_gate)
    with session_scope(floor.sessions) as s:
        load_registry(s, tmp_path / "dnc", clock.now())
    return floor


def lead_row(f, lead_id: int) -> tuple:
    with session_scope(f.sessions) as s:
        x = s.get(Lead, lead_id)
        return x.status, x.attempts, x.last_called_at, x.next_attempt_at, x.last_outcome


def records(f, kind: str) -> list[LedgerRecord]:
    with session_scope(f.sessions) as s:
        rows = list(s.scalars(select(LedgerRecord).where(LedgerRecord.kind == kind).order_by(LedgerRecord.seq)))
        s.expunge_all()
        return rows


def test_a_call_whose_turn_comes_after_the_margin_is_not_sent_and_its_lead_goes_back(gfloor):
    f = gfloor
    f.ready(0, 0.0)
    before = lead_row(f, 1)
    # the console: the agent dials the lead it is offered; the gate decides at 1 s and the worker places the call on
    # its next turn, which comes 61 s later (a stalled host): the window was only checked up to 61 s
    assert f.store.preview_dial(f.agents[0], 1, f.at(1.0), f.loop.gate) is not None
    (gate_rec,) = [r for r in records(f, "gate") if r.allowed]
    f.loop.tick(f.at(62.0))
    assert f.carrier.placed == [], "a call was sent 61 s after the gate's decision (the margin is 60 s)"
    with session_scope(f.sessions) as s:
        assert s.scalars(select(Call)).all() == []  # no call was made: no call row stays
    assert lead_row(f, 1) == before  # the lead as it was: not an attempt, no outcome, due as before
    assert f.store.agent(f.agents[0]).state == "ready"  # the agent is free again
    (rec,) = records(f, "send_refused")
    body = json.loads(rec.body)
    assert (rec.e164, rec.campaign_id, rec.allowed, rec.reasons) == (phone(0), f.campaign_id, False,
                                                                       "stale_decision")
    assert rec.at == f.at(62.0) and body["decided_at"] == f.at(1.0).isoformat()
    assert body["send_by"] == f.at(61.0).isoformat() and body["gate_seq"] == gate_rec.seq
    assert body["lead_ref"] == "lead:1" and "61" in body["reason"]
    with session_scope(f.sessions) as s:  # the lead's page lists it among its decisions, in words
        from campaigns.leads.search import history

        shown = [(d.kind, d.reasons) for d in history(s, s.get(Lead, 1)).decisions]
    assert ("Call not sent: the pre-dial check had expired",
            ["Not sent in time after the check (call released)"]) in shown


def test_a_call_sent_within_the_margin_goes_out(gfloor):
    f = gfloor
    f.ready(0, 0.0)
    assert f.store.preview_dial(f.agents[0], 1, f.at(1.0), f.loop.gate) is not None
    f.loop.tick(f.at(61.0))  # exactly the margin: the gate checked the window up to here
    assert [r.to for _, r in f.carrier.placed] == [phone(0)]
    assert records(f, "send_refused") == []


def test_the_next_claim_asks_the_gate_again(gfloor):
    f = gfloor
    f.ready(0, 0.0)
    f.store.preview_dial(f.agents[0], 1, f.at(1.0), f.loop.gate)
    f.loop.tick(f.at(90.0))
    assert f.carrier.placed == []
    gates = len(records(f, "gate"))
    assert f.loop.preview_dial(f.agents[0], 1, f.at(91.0)) is not None  # the agent dials it again
    assert [r.to for _, r in f.carrier.placed] == [phone(0)]
    assert len(records(f, "gate")) == gates + 1  # a decision of its own, in the ledger like any other
