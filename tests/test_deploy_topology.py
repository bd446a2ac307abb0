"""The documented production topology (deploy/), started here as real processes on PostgreSQL: the fake Twilio,
``dialer serve console`` and ``dialer serve webhooks`` on gunicorn, two ``dialer run --carrier twilio`` workers and
``dialer jobs serve``, run with the very commands of deploy/compose.yaml and deploy/systemd/. The console says
ready, calls go out and reach agents end to end, and when the worker owning the campaign is killed the campaign
moves to the other worker and dials again.

The processes share a clock moved to a Tuesday morning (``DIALER_CLOCK_*``) so the calling window is open whatever
the time the suite runs; everything else is as deployed.
"""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
import requests
from sqlalchemy import func, select

from campaigns.agents import lines as agent_lines
from campaigns.agents import service as agent_svc
from campaigns.campaign.service import CampaignSettings, create_campaign
from campaigns.db import make_engine, session_factory, session_scope
from campaigns.dispatch.models import Call
from campaigns.leads.models import Lead, LeadList
from campaigns.leases import ownership
from dialer.clock import ScaledClock
from dnc import settings
from tests.conftest import PG_URL
from tests.dialer.carriers.twilio.support import CALLER_ID, env, load_registry, wait_for
from tests.dialer.carriers.twilio.test_kill import Agents

ROOT = Path(__file__).resolve().parents[1]
START = datetime(2030, 1, 8, 15, 0, tzinfo=UTC)  # a Tuesday, 10:00 in New York
LEADS, AGENTS = 400, 4
pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(not PG_URL, reason="the production topology runs on PostgreSQL "
                                                    "(set DIALER_TEST_DATABASE_URL)")]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Topology:
    """Starts the processes, keeps their logs, stops what is still running."""

    def __init__(self, tmp: Path, environ: dict[str, str]) -> None:
        self.tmp, self.environ, self.procs, self.killed = tmp, environ, {}, set()

    def start(self, name: str, *args: str) -> subprocess.Popen:
        with open(self.tmp / f"{name}.log", "w") as log:
            proc = subprocess.Popen([sys.executable, "-m", "dialer", *args], env=self.environ, cwd=ROOT,
                                    stdout=log, stderr=subprocess.STDOUT, text=True)
        self.procs[name] = proc
        return proc

    def log(self, name: str) -> str:
        return (self.tmp / f"{name}.log").read_text()

    def logs(self) -> str:
        return "\n".join(f"--- {n}\n{self.log(n)[-2500:]}" for n in self.procs)

    def alive(self) -> None:
        dead = {n: p.returncode for n, p in self.procs.items() if p.poll() is not None and n not in self.killed}
        assert not dead, f"{dead} exited\n{self.logs()}"

    def stop(self) -> None:
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in self.procs.values():
            try:
                proc.wait(70)
            except subprocess.TimeoutExpired:
                proc.kill()


def _floor(sessions, now) -> tuple[int, dict]:
    """A predictive-enough campaign (power 2) of 400 leads, four agents on phones, and the fake's scripts."""
    scripts = {"default": {"answer": "human", "ring_s": 0.5, "amd_s": 0.3, "talk_s": 1.0, "patience_s": 5}}
    with session_scope(sessions) as s:
        c = create_campaign(s, "Spring", CALLER_ID, now, CampaignSettings(seller_name="Acme Sales",
                                                                         callback_number="+18005550100"))
        c.status, c.pacing_mode, c.power_ratio = "active", "power", 2.0
        lst = LeadList(campaign_id=c.id, name="l", sha256="0" * 64, uploaded_at=now)
        s.add(lst)
        s.flush()
        for i in range(LEADS):
            s.add(Lead(campaign_id=c.id, list_id=lst.id, phone=f"+1212555{2000 + i:04d}", custom={},
                       created_at=now, updated_at=now))
        for i in range(AGENTS):
            phone = f"+1212555{1000 + i:04d}"
            scripts[phone] = {"answer": "human", "ring_s": 0.05, "talk_s": 3600}
            a = agent_svc.create_agent(s, f"agent-{i}", now, campaign=c)
            agent_lines.set_phone(s, a.id, phone, now)
            agent_svc.go_ready(s, a.id, now)
        return c.id, scripts


def _ready(base: str) -> tuple[int, dict]:
    try:
        r = requests.get(base + "/readyz", timeout=5)
        return r.status_code, r.json()
    except requests.RequestException as e:
        return 0, {"error": type(e).__name__}


def _calls(sessions, **where) -> int:
    q = select(func.count()).select_from(Call)
    if where.get("connected"):
        q = q.where(Call.connected_at.is_not(None))
    if where.get("since") is not None:
        q = q.where(Call.placed_at > where["since"])
    with session_scope(sessions) as s:
        return s.scalar(q) or 0


def test_the_documented_topology_dials_end_to_end_and_survives_a_dead_worker(_pg_engine, tmp_path):
    from tests.conftest import _truncate

    _truncate(_pg_engine)
    anchor = datetime.now(UTC)
    clock = ScaledClock(anchor, 1.0, START)
    sessions = session_factory(make_engine(PG_URL))
    dnc_dir = tmp_path / "dnc"
    with session_scope(sessions) as s:
        load_registry(s, dnc_dir, clock.now())
    cid, scripts = _floor(sessions, clock.now())
    (tmp_path / "scripts.json").write_text(json.dumps(scripts))

    fake_port, hooks_port, console_port = free_port(), free_port(), free_port()
    ports = {"worker-a": free_port(), "worker-b": free_port(), "jobs": free_port()}
    hooks = f"http://127.0.0.1:{hooks_port}"
    environ = settings.child_environ(
        **env(hooks, f"http://127.0.0.1:{fake_port}", TWILIO_CPS="5"),
        DIALER_DATABASE_URL=PG_URL, DIALER_DNC_DIR=str(dnc_dir), DIALER_VAR_DIR=str(tmp_path / "var"),
        DIALER_SECRET_KEY="k" * 48, DIALER_COOKIE_SECURE="0", DIALER_METRICS_DIR=str(tmp_path / "metrics"),
        DIALER_LOG_FORMAT="json", DIALER_CLOCK_ANCHOR=anchor.isoformat(), DIALER_CLOCK_SPEED="1",
        DIALER_CLOCK_START=START.isoformat())
    top = Topology(tmp_path, environ)
    people = Agents(sessions, clock)
    try:
        # the commands of deploy/: migrate, then every long-running process
        subprocess.run([sys.executable, "-m", "dialer", "db", "upgrade"], env=environ, cwd=ROOT, check=True,
                       capture_output=True)
        top.start("fake", "twilio", "fake-server", "--port", str(fake_port), "--scripts",
                  str(tmp_path / "scripts.json"))
        top.start("webhooks", "serve", "webhooks", "--bind", f"127.0.0.1:{hooks_port}", "--workers", "2")
        top.start("console", "serve", "console", "--bind", f"127.0.0.1:{console_port}", "--workers", "2")
        top.start("jobs", "jobs", "serve", "--metrics-port", str(ports["jobs"]))
        for name in ("worker-a", "worker-b"):
            top.start(name, "run", "--carrier", "twilio", "--metrics-port", str(ports[name]))
        console = f"http://127.0.0.1:{console_port}"

        # ready: every process answers /readyz 200 once a worker holds the campaign
        wait_for(lambda: top.alive() or _ready(console)[0] == 200, timeout=90, what="the console ready")
        status, body = _ready(console)
        assert set(body["checks"]) == {"database", "registry", "leases", "callbacks"}, body
        # each ready in turn (on a loaded machine a worker's lease may lapse and pass to the other for a moment)
        wait_for(lambda: _ready(hooks)[0] == 200, timeout=30, what="the webhooks ready")
        for name, port in ports.items():
            wait_for(lambda p=port: _ready(f"http://127.0.0.1:{p}")[0] == 200, timeout=30, what=f"{name} ready")
            assert requests.get(f"http://127.0.0.1:{port}/healthz", timeout=5).status_code == 200

        # end to end: calls placed through the fake Twilio, answered, put through to agents
        people.start()
        wait_for(lambda: top.alive() or _calls(sessions, connected=True) >= 5, timeout=90,
                 what="five calls put through to agents")
        def owner() -> str | None:
            with session_scope(sessions) as s:
                return ownership.owners(s, clock.now()).get(cid)

        owner = wait_for(owner, timeout=30, what="an owner of the campaign")
        first = next(n for n in ("worker-a", "worker-b") if owner.endswith(f":{top.procs[n].pid}"))
        other = "worker-b" if first == "worker-a" else "worker-a"
        text = requests.get(f"http://127.0.0.1:{ports[first]}/metrics", timeout=5).text
        placed = [x for x in text.splitlines() if x.startswith(f'dialer_calls_placed_total{{campaign="{cid}"}}')]
        assert placed and float(placed[0].rsplit(" ", 1)[-1]) > 0, text[:2000]
        assert "dialer_http_requests_total" in requests.get(console + "/metrics", timeout=5).text

        # the owner dies: the campaign moves to the other worker, which dials it again
        top.procs[first].kill()
        top.killed.add(first)
        killed_at = clock.now()
        survivor = top.procs[other].pid

        def moved() -> bool:
            top.alive()
            with session_scope(sessions) as s:
                return ownership.owners(s, clock.now()).get(cid, "").endswith(f":{survivor}")

        wait_for(moved, timeout=30, what="the campaign taken over by the other worker")
        wait_for(lambda: top.alive() or _calls(sessions, since=killed_at) >= 3, timeout=60,
                 what="calls placed by the surviving worker")
        wait_for(lambda: _ready(console)[0] == 200, timeout=30, what="the console ready again")
    finally:
        people.stop.set()
        top.stop()
        if people.is_alive():
            people.join(5)
    logs = top.logs()
    assert "Traceback" not in top.log("console") + top.log("webhooks"), logs
    assert '"logger": "dialer.decisions"' in top.log(other), "the worker logs its pacing decisions"
