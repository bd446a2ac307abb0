"""A worker stopped with SIGTERM (``dialer run --carrier twilio`` as a real process) places nothing new at once, lets
the calls its agents are on finish under itself for up to ``DIALER_WORKER_DRAIN_S``, holding the campaign's lease
meanwhile (a second worker dials nothing of it), then gives the campaign back; a second SIGTERM, or the drain
timeout, gives it back at once and the call's end reaches the next owner. No lead is dialed twice.

Two workers need PostgreSQL; on SQLite the one worker's drain is checked alone."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select

from campaigns.agents import lines as agent_lines
from campaigns.agents import service as agent_svc
from campaigns.campaign.service import CampaignSettings, create_campaign
from campaigns.db import session_scope
from campaigns.dispatch.models import Call
from campaigns.leads.models import Lead, LeadList
from campaigns.leases.ownership import owners
from dialer.bench.scale import double_dials
from dialer.carriers.twilio.config import load
from dialer.carriers.twilio.fake import CallScript
from dialer.clock import ScaledClock
from tests.dialer.carriers.twilio.support import CALLER_ID, env, fake_twilio, load_registry, serve, wait_for
from tests.dialer.carriers.twilio.test_kill import Agents

ANCHOR = datetime(2030, 1, 8, 15, 0, tzinfo=UTC)  # a Tuesday, 10:00 in New York: the calling window is open
ROOT = Path(__file__).resolve().parents[4]
TALKER, AGENT_PHONE = "+12125556001", "+12125556900"
NEXT = [f"+1212555{6002 + i:04d}" for i in range(3)]


def _floor(sessions, fake, now, talk_s: float) -> int:
    """One agent on a phone; the first lead talks ``talk_s`` with them, the others briefly."""
    with session_scope(sessions) as s:
        c = create_campaign(s, "Spring", CALLER_ID, now, CampaignSettings(seller_name="Acme Sales"))
        c.status, c.pacing_mode = "active", "progressive"
        lst = LeadList(campaign_id=c.id, name="l", sha256="0" * 64, uploaded_at=now)
        s.add(lst)
        s.flush()
        for i, phone in enumerate([TALKER, *NEXT]):
            talk = talk_s if phone == TALKER else 1.0
            fake.script(phone, CallScript(answer="human", ring_s=0.3, amd_s=0.3, talk_s=talk))
            s.add(Lead(campaign_id=c.id, list_id=lst.id, phone=phone, priority=10 - i, custom={}, created_at=now,
                       updated_at=now))
        fake.script(AGENT_PHONE, CallScript(answer="human", ring_s=0.05, talk_s=3600))
        a = agent_svc.create_agent(s, "ann", now, campaign=c)
        agent_lines.set_phone(s, a.id, AGENT_PHONE, now)
        agent_svc.go_ready(s, a.id, now)
        return c.id


class Floor:
    """The fake Twilio, the webhooks on a real port, the people at the console and ``dialer run`` processes."""

    def __init__(self, db_url, sessions, session, tmp_path: Path, talk_s: float, drain_s: str) -> None:
        self.db_url, self.sessions, self.tmp = db_url, sessions, tmp_path
        self.clock = ScaledClock(datetime.now(UTC), 1.0, start=ANCHOR)
        load_registry(session, tmp_path / "dnc", self.clock.now())
        self.talk_s, self.drain_s = talk_s, drain_s
        self.procs: dict[str, subprocess.Popen] = {}

    def __enter__(self) -> Floor:
        from web import create_app

        self._fake = fake_twilio(clock=self.clock)
        self.fake = self._fake.__enter__()
        self.cid = _floor(self.sessions, self.fake, self.clock.now(), self.talk_s)
        app = create_app({"TESTING": True, "SESSIONS": self.sessions, "CLOCK": self.clock, "SECRET_KEY": "t" * 40,
                          "VAR_DIR": self.tmp / "var", "DNC_DIR": self.tmp / "dnc", "SESSION_COOKIE_SECURE": False,
                          "TWILIO_ENVIRON": env("https://placeholder.invalid", self.fake.api_base)})
        self._served = serve(app)
        base = self._served.__enter__()
        self.environ = env(base, self.fake.api_base, TWILIO_CPS="4") | {
            "DIALER_DNC_DIR": str(self.tmp / "dnc"), "DIALER_DATABASE_URL": self.db_url, "DIALER_LOG_LEVEL": "info",
            "DIALER_CLOCK_ANCHOR": self.clock.anchor.isoformat(), "DIALER_CLOCK_START": self.clock.start.isoformat(),
            "DIALER_CLOCK_SPEED": "1.0", "DIALER_WORKER_DRAIN_S": self.drain_s,
            "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
        app.extensions["twilio"].config = load(self.environ)
        self.people = Agents(self.sessions, self.clock)
        self.people.start()
        return self

    def __exit__(self, *exc) -> None:
        for p in self.procs.values():
            if p.poll() is None:
                p.send_signal(signal.SIGKILL)
                p.wait(10)
        self.people.stop.set()
        self.people.join(5)
        self._served.__exit__(None, None, None)
        self._fake.__exit__(None, None, None)

    def spawn(self, name: str) -> subprocess.Popen:
        with open(self.tmp / f"{name}.log", "w") as out:
            self.procs[name] = subprocess.Popen([sys.executable, "-m", "dialer", "run", "--carrier", "twilio"],
                                                env=os.environ | self.environ, cwd=ROOT, stdout=out,
                                                stderr=subprocess.STDOUT, text=True)
        return self.procs[name]

    def logs(self) -> str:
        return "\n".join(f"--- {n}\n{(self.tmp / f'{n}.log').read_text()[-2500:]}" for n in self.procs)

    def holder(self) -> str | None:
        with session_scope(self.sessions) as s:
            return owners(s, self.clock.now()).get(self.cid)

    def holding(self) -> subprocess.Popen:
        """The worker process holding the campaign."""
        holder = wait_for(self.holder, 60, "the campaign held by a worker", every=0.1)
        return next(p for p in self.procs.values() if holder.endswith(f":{p.pid}"))

    def call(self, phone: str) -> Call | None:
        with session_scope(self.sessions) as s:
            return s.scalar(select(Call).where(Call.phone == phone).order_by(Call.id.desc()).limit(1))

    def calls(self) -> int:
        with session_scope(self.sessions) as s:
            return s.scalar(select(func.count()).select_from(Call).where(Call.campaign_id == self.cid)) or 0

    def talking(self) -> Call:
        return wait_for(lambda: (c := self.call(TALKER)) is not None and c.connected_at is not None and c, 60,
                        "the first lead with the agent", every=0.1)

    def start(self, two: bool) -> subprocess.Popen:
        """One worker (two on PostgreSQL) running, the first lead talking with the agent; returns the holder."""
        self.spawn("a")
        if two:
            self.spawn("b")
        try:
            self.talking()
        except AssertionError as e:
            raise AssertionError(f"{e}\n{self.logs()}") from None
        return self.holding()


@pytest.mark.slow
def test_a_stopping_worker_lets_its_agents_call_finish_holding_the_campaign_then_hands_it_over(db_url, sessions,
                                                                                               session, tmp_path):
    two = db_url.startswith("postgresql")
    with Floor(db_url, sessions, session, tmp_path, talk_s=8.0, drain_s="60") as floor:
        first = floor.start(two)
        held_by, before = floor.holder(), floor.calls()
        first.send_signal(signal.SIGTERM)
        try:
            done = wait_for(lambda: (c := floor.call(TALKER)) is not None and c.ended_at is not None and c, 30,
                            "the agent's call over", every=0.05)
        except AssertionError as e:
            raise AssertionError(f"{e}\n{floor.logs()}") from None
        # it ended under the stopping worker, which still held the campaign and dialed nothing meanwhile
        assert first.poll() is None, f"the worker left before its agent's call ended\n{floor.logs()}"
        assert floor.holder() == held_by and floor.calls() == before
        assert done.outcome == "completed" and done.agent_id is not None
        leg = next(c for c in floor.fake.calls.values() if c.sid == done.provider_sid)
        assert leg.status == "completed" and leg.duration_s >= 7  # the person talked to the end, not cut off
        first.wait(30)
        assert first.returncode == 0, floor.logs()
        if two:  # then the other worker takes the campaign and dials the next lead
            wait_for(lambda: floor.holder() not in (None, held_by), 30, "the campaign taken by the other worker")
            wait_for(lambda: floor.call(NEXT[0]) is not None, 60, "the next lead dialed by the other worker")
        with session_scope(sessions) as s:
            assert double_dials(s) == (0, 0)


@pytest.mark.slow
def test_a_second_sigterm_gives_the_campaign_back_at_once_and_the_call_ends_under_the_next_owner(db_url, sessions,
                                                                                                session, tmp_path):
    two = db_url.startswith("postgresql")
    with Floor(db_url, sessions, session, tmp_path, talk_s=15.0, drain_s="60") as floor:
        first = floor.start(two)
        held_by = floor.holder()
        first.send_signal(signal.SIGTERM)
        time.sleep(1.5)
        assert first.poll() is None, f"the first SIGTERM did not let the agent's call finish\n{floor.logs()}"
        first.send_signal(signal.SIGTERM)
        first.wait(15)
        assert floor.call(TALKER).ended_at is None  # given back with the call still going
        if two:
            wait_for(lambda: floor.holder() not in (None, held_by), 30, "the campaign taken by the other worker")
            done = wait_for(lambda: (c := floor.call(TALKER)) is not None and c.ended_at is not None and c, 30,
                            "the call's end delivered by the next owner", every=0.1)
            assert done.outcome == "completed" and done.agent_id is not None
            with session_scope(sessions) as s:
                assert double_dials(s) == (0, 0)


@pytest.mark.slow
def test_the_drain_timeout_gives_the_campaign_back_with_the_call_still_going(db_url, sessions, session, tmp_path):
    with Floor(db_url, sessions, session, tmp_path, talk_s=20.0, drain_s="4") as floor:
        first = floor.start(False)
        first.send_signal(signal.SIGTERM)
        sent = time.monotonic()
        time.sleep(2.0)
        assert first.poll() is None, f"the worker did not drain its agent's call\n{floor.logs()}"
        first.wait(20)
        assert time.monotonic() - sent < 15  # the drain timeout (4 s), not the call's end (20 s)
        assert floor.call(TALKER).ended_at is None
