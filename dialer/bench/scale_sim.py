"""``dialer bench scale --carrier sim``: many simulated agents over many campaigns and several workers on one
PostgreSQL, in real time: each worker is ``dialer run`` (the simulated carrier, its own simulated agents per
campaign it owns), as the demo runs it, so what is measured is the product's loop and database work at floor size:
the dial loop's turn (p50/p99, reported by each worker), claims per second, PostgreSQL's CPU, the same checks
as the Twilio run (no lead or number with two live calls, no call left open), and each campaign's abandons with its
worst running rate (``scale_abandons``).
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import func, select

from campaigns.db import make_engine, session_factory, session_scope
from campaigns.dispatch.models import Call
from dialer.bench.scale import _db_cpu, cpu_s, double_dials, require_empty, setup
from dialer.bench.scale_abandons import campaign_abandons
from dialer.bench.twilio import ANCHOR, _registry, clock_settings
from dialer.clock import ScaledClock
from dialer.schema.migrate import upgrade
from dialer.sim.live import ensure_agents
from dnc import settings


def run(url: str, workers: int, campaigns: int, agents: int, seconds: float,
        progress: Callable[[str], None] | None = None) -> dict:
    say = progress or (lambda msg: None)
    with tempfile.TemporaryDirectory(prefix="dialer-bench-scale-sim-") as tmp_dir, \
            settings.overridden(DIALER_DNC_DIR=str(Path(tmp_dir) / "dnc")):
        tmp = Path(tmp_dir)
        engine = make_engine(url)
        upgrade(engine)
        sessions = session_factory(engine)
        require_empty(sessions, url)
        clock = ScaledClock(datetime.now(UTC), 1.0, start=ANCHOR)
        _registry(sessions, tmp / "dnc", clock.now())
        ids = setup(sessions, clock.now(), campaigns, 0, int(agents * seconds / 3) + 2000 * campaigns)
        per_campaign = agents // campaigns
        for cid in ids:  # the seats exist before any worker starts: the workers only log them in
            ensure_agents(sessions, cid, per_campaign, per_campaign, clock.now())
        env = settings.child_environ(**(clock_settings(clock) | {
            "DIALER_DATABASE_URL": url, "DIALER_DNC_DIR": str(tmp / "dnc"), "DIALER_LOG_LEVEL": "warning"}))
        procs = []
        for w in range(workers):
            out = open(tmp / f"worker-{w}.json", "w")  # noqa: SIM115 - closed below
            err = open(tmp / f"worker-{w}.log", "w")  # noqa: SIM115
            procs.append((subprocess.Popen([sys.executable, "-m", "dialer", "run", "--agents", str(per_campaign),
                                            "--json"], env=env, stdout=out, stderr=err), out, err))
        say(f"{workers} simulated workers, {campaigns} campaigns, {agents} agents, {seconds:g} s ...")
        t0 = time.monotonic()
        placed0 = None
        cpu: dict[str, float] = {}
        while time.monotonic() - t0 < seconds:
            time.sleep(2.0)
            for w, (p, _, _) in enumerate(procs):
                got = cpu_s(p.pid)
                if got is not None:
                    cpu[f"worker-{w}"] = got
            if placed0 is None and time.monotonic() - t0 >= min(60.0, seconds / 3):  # after the agents logged in
                placed0 = (time.monotonic(), _count(sessions))
        db_cpu = _db_cpu(sessions)
        t1, placed1 = time.monotonic(), _count(sessions)
        for p, _, _ in procs:
            p.send_signal(signal.SIGTERM)
        reports = []
        for w, (p, out, err) in enumerate(procs):
            try:
                p.wait(120)
            except subprocess.TimeoutExpired:
                p.kill()
            out.close()
            err.close()
            text = (tmp / f"worker-{w}.json").read_text().strip()
            reports.append(json.loads(text.splitlines()[-1]) if text else
                           {"error": (tmp / f"worker-{w}.log").read_text()[-800:]})
        with session_scope(sessions) as s:
            leads, phones = double_dials(s)
            open_calls = s.scalar(select(func.count()).select_from(Call).where(Call.ended_at.is_(None)))
            total = s.scalar(select(func.count()).select_from(Call))
            abandons = campaign_abandons(s, ids)
        engine.dispose()
    turns = [r.get("turn_p99_ms") for r in reports if r.get("turn_p99_ms") is not None]
    return {
        "carrier": "sim", "workers": workers, "campaigns": len(ids), "agents": agents, "seconds": seconds,
        "calls_placed": total,
        "claims_per_s": round((placed1 - placed0[1]) / (t1 - placed0[0]), 2) if placed0 else None,
        "loop_turn_p50_ms": max((r.get("turn_p50_ms") or 0 for r in reports), default=None),
        "loop_turn_p99_ms": max(turns) if turns else None,
        "postgresql_cpu_s": db_cpu, "cpu_s": {k: round(v, 1) for k, v in cpu.items()},
        "double_dials": leads + phones, "calls_not_final": open_calls,
        "abandon_rate_max": max((a["abandon_rate"] for a in abandons.values()), default=None),
        "abandon_worst_running_max": max((a["worst_running_rate"] for a in abandons.values()), default=None),
        "abandons_by_campaign": abandons,
        "workers_report": reports,
    }


def _count(sessions) -> int:
    with session_scope(sessions) as s:
        return s.scalar(select(func.count()).select_from(Call)) or 0
