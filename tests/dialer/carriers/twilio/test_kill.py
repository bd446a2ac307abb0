"""The Twilio worker killed with SIGKILL mid-campaign and started again: no lead is dialed twice, no call is left in
a non-final state, and every call stored as connected was really put through to its agent (the fake's network and
our database agree on every call)."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select

from campaigns.agents import lines as agent_lines
from campaigns.agents import service as agent_svc
from campaigns.agents.models import Agent, AgentLine, AgentStateEvent
from campaigns.campaign.models import Campaign
from campaigns.campaign.service import CampaignSettings, create_campaign
from campaigns.db import session_scope
from campaigns.dispatch.models import Call
from campaigns.dispatch.service import claim, dnc_gate
from campaigns.leads.models import Lead, LeadList
from dialer.carriers.twilio.config import load
from dialer.carriers.twilio.fake import CallScript
from dialer.carriers.twilio.unknown import UNKNOWN_SETTLE_S
from dnc.rules import current_rules
from tests.dialer.carriers.twilio.support import (
    CALLER_ID,
    ShiftedClock,
    env,
    fake_twilio,
    load_registry,
    serve,
    wait_for,
)

ANCHOR = datetime(2030, 1, 8, 15, 0, tzinfo=UTC)
ROOT = Path(__file__).resolve().parents[4]  # the repository: the worker process imports the tests package
LEADS, AGENTS = 40, 4
# a claim never sent is released once nobody can send it (the gate's margin), the call log confirming it (first
# lookup 3 s after, the second 10 s later: ``DIALER_TWILIO_UNKNOWN_CONFIRM_S``), plus the restart and a pass
UNSENT_S = current_rules().send_margin_seconds + UNKNOWN_SETTLE_S + 10 + 10
ANSWERS = [("human", 0.45), ("machine", 0.15), ("busy", 0.15), ("no-answer", 0.15), ("failed", 0.1)]


def floor(sessions, fake, now) -> int:
    rng = random.Random(7)
    with session_scope(sessions) as s:
        c = create_campaign(s, "Spring", CALLER_ID, now, CampaignSettings(seller_name="Acme Sales"))
        c.status, c.pacing_mode, c.power_ratio = "active", "power", 2.0
        lst = LeadList(campaign_id=c.id, name="l", sha256="0" * 64, uploaded_at=now)
        s.add(lst)
        s.flush()
        for i in range(LEADS):
            phone = f"+1212555{2000 + i:04d}"
            answer = rng.choices([a for a, _ in ANSWERS], [w for _, w in ANSWERS])[0]
            fake.script(phone, CallScript(answer=answer, ring_s=rng.uniform(0.2, 1.2), amd_s=0.3,
                                          talk_s=rng.uniform(0.5, 2.0), patience_s=3))
            s.add(Lead(campaign_id=c.id, list_id=lst.id, phone=phone, custom={}, created_at=now, updated_at=now))
        for i in range(AGENTS):
            phone = f"+1212555{3000 + i:04d}"
            fake.script(phone, CallScript(answer="human", ring_s=0.05, talk_s=3600))
            a = agent_svc.create_agent(s, f"agent-{i}", now, campaign=c)
            agent_lines.set_phone(s, a.id, phone, now)
            agent_svc.go_ready(s, a.id, now)
        return c.id


class Agents(threading.Thread):
    """The people at the console: record a disposition in wrap, then go ready again (until told to log out)."""

    def __init__(self, sessions, clock) -> None:
        super().__init__(daemon=True)
        self.sessions, self.clock = sessions, clock
        self.stop, self.logout = threading.Event(), threading.Event()

    def run(self) -> None:
        while not self.stop.wait(0.05):
            with session_scope(self.sessions) as s:
                for a in s.scalars(select(Agent).where(Agent.state != "offline")).all():
                    now = self.clock.now()
                    if self.logout.is_set() and a.state != "talking":
                        agent_svc.go_offline(s, a.id, now)
                    elif a.state == "wrap":
                        call = agent_svc.current_call(s, a.id)
                        if call is not None and call.disposition_code is None and call.ended_at is not None:
                            agent_svc.disposition(s, call.id, "NI", now)
                        agent_svc.go_ready(s, a.id, now)


def spawn(db_url: str, environ: dict, clock: ShiftedClock, out: Path) -> subprocess.Popen:
    """The worker process; its output goes to files (a full pipe would block it)."""
    with open(out.with_suffix(".out"), "w") as so, open(out.with_suffix(".err"), "w") as se:
        return subprocess.Popen([sys.executable, "-m", "tests.dialer.carriers.twilio.worker_proc",
                                 clock.anchor.isoformat(), repr(clock.epoch)],
                                env=os.environ | environ | {"DIALER_DATABASE_URL": db_url}, cwd=ROOT,
                                stdout=so, stderr=se, text=True)


def unsent_claim(sessions, campaign_id: int, clock: ShiftedClock) -> int:
    """A lead claimed through the gate as the worker's dialing turn claims it, whose create the worker never sent:
    what a kill between the claim and the send leaves (a window of up to a second at each placement, which the
    kill used to hit now and then). Returns the call's id."""
    with session_scope(sessions) as s:
        (made,) = claim(s, s.get(Campaign, campaign_id), 1, clock.now(), dnc_gate, provider="twilio")
        return made.call_id


def call_exists(sessions, call_id: int) -> bool:
    with session_scope(sessions) as s:
        return s.get(Call, call_id) is not None


def counts(sessions) -> dict:
    with session_scope(sessions) as s:
        return {"calls": s.scalar(select(func.count()).select_from(Call)),
                "live": s.scalar(select(func.count()).select_from(Call).where(Call.ended_at.is_(None))),
                "connected": s.scalar(select(func.count()).select_from(Call).where(Call.connected_at.is_not(None))),
                "callable": s.scalar(select(func.count()).select_from(Lead).where(
                    Lead.status.in_(("new", "dialing"))))}


def _state(sessions) -> dict:
    with session_scope(sessions) as s:
        return {"leads": dict(s.execute(select(Lead.status, func.count()).group_by(Lead.status)).all()),
                "agents": dict(s.execute(select(Agent.state, func.count()).group_by(Agent.state)).all()),
                "live": [(c.id, c.status, c.provider_sid, c.answered_at is not None) for c in
                         s.scalars(select(Call).where(Call.ended_at.is_(None)))],
                "dialing": [(x.id, x.attempts, [(c.id, c.status, c.outcome, c.connected_at, c.agent_id,
                                                 c.disposition_code) for c in s.scalars(
                    select(Call).where(Call.lead_id == x.id))]) for x in s.scalars(
                    select(Lead).where(Lead.status.in_(("dialing", "new"))))],
                "events": [(e.agent_id, e.state, e.reason, e.at.strftime("%S.%f")) for e in s.scalars(
                    select(AgentStateEvent).order_by(AgentStateEvent.id))],
                "calls": [(c.id, c.agent_id, c.connected_at.strftime("%S.%f"), c.ended_at.strftime("%S.%f"),
                           c.disposition_code) for c in s.scalars(select(Call).where(
                               Call.connected_at.is_not(None), Call.ended_at.is_not(None)).order_by(Call.agent_id,
                                                                                                     Call.id))]}


def _lines(sessions) -> list:
    with session_scope(sessions) as s:
        return [(a.id, a.state, line.status, line.call_sid) for a, line in s.execute(
            select(Agent, AgentLine).join(AgentLine, AgentLine.agent_id == Agent.id).order_by(Agent.id))]


@pytest.mark.slow
def test_sigkill_mid_campaign_then_restart_dials_no_lead_twice_and_leaves_no_call_open(db_url, sessions, session,
                                                                                       tmp_path):
    from web import create_app

    clock = ShiftedClock(ANCHOR)
    load_registry(session, tmp_path / "dnc", clock.now())
    with fake_twilio(clock=clock) as fake:
        cid = floor(sessions, fake, clock.now())
        app = create_app({"TESTING": True, "SESSIONS": sessions, "CLOCK": clock, "SECRET_KEY": "t" * 40,
                          "VAR_DIR": tmp_path / "var", "DNC_DIR": tmp_path / "dnc", "SESSION_COOKIE_SECURE": False,
                          "TWILIO_ENVIRON": env("https://placeholder.invalid", fake.api_base)})
        with serve(app) as base:
            environ = env(base, fake.api_base, TWILIO_CPS="4") | {"DIALER_DNC_DIR": str(tmp_path / "dnc")}
            app.extensions["twilio"].config = load(environ)
            people = Agents(sessions, clock)
            people.start()
            first = spawn(db_url, environ, clock, tmp_path / "first")
            try:
                # mid-campaign: calls placed, some connected to agents, some still ringing or talking
                wait_for(lambda: first.poll() is not None or (
                    counts(sessions)["connected"] >= 2 and counts(sessions)["live"] >= 2), timeout=60,
                    what="a campaign in full swing")
                assert first.poll() is None, (tmp_path / "first.err").read_text()
            finally:
                first.send_signal(signal.SIGKILL)
                first.wait(10)
            killed = counts(sessions)
            assert killed["live"] >= 1  # the kill left calls open that only the restart can settle
            unsent = unsent_claim(sessions, cid, clock)  # and always a claim it died with before sending it
            killed_at = time.monotonic()

            second = spawn(db_url, environ, clock, tmp_path / "second")
            try:
                try:  # the restart releases it once it could not be sent any more (the gate's 60 s margin)
                    wait_for(lambda: second.poll() is not None or not call_exists(sessions, unsent), timeout=UNSENT_S,
                             what="the claim the killed worker never sent released")
                    settled_s = time.monotonic() - killed_at
                    assert second.poll() is None, (tmp_path / "second.err").read_text()[-3000:]
                    # not before: the worker holding it, had it only stalled, could have sent it until then
                    assert settled_s > current_rules().send_margin_seconds - 1, settled_s
                    wait_for(lambda: second.poll() is not None or (
                        counts(sessions)["callable"] == 0 and counts(sessions)["live"] == 0), timeout=90,
                        what="every lead dialed once and every call over")
                except AssertionError as e:
                    raise AssertionError(f"{e}: {counts(sessions)}; {_state(sessions)}\n"
                                         f"{(tmp_path / 'second.err').read_text()[-3000:]}") from None
                # the restart must run: a supervisor restarts at once, on the killed worker's fresh heartbeat
                assert second.poll() is None, (tmp_path / "second.err").read_text()[-3000:]
                people.logout.set()  # agents log out: the worker hangs their nailed-up lines up
                try:
                    wait_for(lambda: not [c for c in fake.live_calls()], timeout=60, what="every leg hung up")
                except AssertionError as e:
                    raise AssertionError(f"{e}: {[(c.to, c.status) for c in fake.live_calls()]}; {_lines(sessions)}\n"
                                         f"{(tmp_path / 'second.err').read_text()[-3000:]}") from None
                second.send_signal(signal.SIGTERM)
                second.wait(30)
            finally:
                if second.poll() is None:
                    second.kill()
            people.stop.set()
            people.join(5)
            assert second.returncode == 0, (tmp_path / "second.err").read_text()
            report = json.loads((tmp_path / "second.out").read_text().strip().splitlines()[-1])
            assert report["reconciled_at_start"]["errors"] == [] and report["unsettled_at_stop"] == 0

    customer = {c.sid: c for c in fake.calls.values() if c.to.startswith("+12125552")}
    with session_scope(sessions) as s:
        calls = s.scalars(select(Call).where(Call.campaign_id == cid)).all()
        leads = s.scalars(select(Lead).where(Lead.campaign_id == cid)).all()
        # no call left non-final, in our database or on the network
        assert all(c.ended_at is not None and c.outcome is not None for c in calls)
        assert all(c.status in ("completed", "busy", "no-answer", "failed", "canceled") for c in customer.values())
        # every call Twilio placed is one of ours, once
        assert sorted(c.provider_sid for c in calls) == sorted(customer)
        # no lead dialed twice: retries are hours away, so each number was called exactly once
        per_phone: dict[str, int] = {}
        for c in customer.values():
            per_phone[c.to] = per_phone.get(c.to, 0) + 1
        assert set(per_phone.values()) == {1} and len(per_phone) == LEADS
        # every call the database says was connected really reached its agent's conference on the network
        for c in calls:
            if c.connected_at is not None:
                assert f"agent-{c.agent_id}" in customer[c.provider_sid].rooms_joined, (c.id, c.agent_id)
        assert all(lead.attempts == 1 and lead.status not in ("new", "dialing") for lead in leads)
        assert s.get(Campaign, cid).status == "active"
