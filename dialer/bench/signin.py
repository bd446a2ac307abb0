"""Sign-in contention on SQLite: does the console stall the dial loop's writes?

SQLite has one write lock. A console request that held it across slow work (a sign-in's password check, a floor
poll's reads) made every other process's write wait: eight people signing in at once used to stall the dial loop for
seconds, longer than the 2-second answer rule. This benchmark serves the console as deployed (``dialer serve
console``, gunicorn processes), signs in from several clients at once in a loop, polls a floor, and meanwhile a
separate process writes as the dial loop does (a short IMMEDIATE transaction updating an agent, every 50 ms),
timing each write from BEGIN to COMMIT.
"""

from __future__ import annotations

import multiprocessing
import re
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime
from pathlib import Path

import numpy as np
import requests
from sqlalchemy import update

from campaigns.accounts.passwords import hash_password
from campaigns.accounts.users import create_user
from campaigns.agents import service as agents
from campaigns.agents.models import Agent
from campaigns.campaign.service import create_campaign, set_status
from campaigns.db import make_engine, session_factory
from dialer.schema.migrate import upgrade
from dnc import settings

PASSWORD = "bench-sign-in-password"
CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"|<meta name="csrf-token" content="([^"]+)">')


def _seed(url: str, clients: int, now: datetime) -> tuple[int, int]:
    """Users who sign in, a manager for the floor, an active campaign with a staffed floor; (campaign, agent)."""
    engine = make_engine(url)
    upgrade(engine)
    sessions = session_factory(engine)
    hashed = hash_password(PASSWORD)  # the product's own scrypt cost: what every sign-in pays
    with sessions() as s:
        for i in range(clients):
            create_user(s, f"bench-signer-{i}", "sales", "", now, password_hash=hashed)
        create_user(s, "bench-floor", "manager", "", now, password_hash=hashed)
        c = create_campaign(s, "Bench floor", "+12125550100", now)
        set_status(s, c, "active", now)
        seats = [agents.create_agent(s, f"bench-seat-{i:02d}", now, campaign=c) for i in range(20)]
        for a in seats:
            agents.go_ready(s, a.id, now)
        s.commit()
        out = c.id, seats[0].id
    engine.dispose()
    return out


def _dial_loop_writes(url: str, agent_id: int, seconds: float, every_s: float, conn) -> None:
    """A separate process writing like the dial loop: one short transaction per turn; sends back the latencies."""
    engine = make_engine(url)  # the product's engine: IMMEDIATE transactions, DIALER_SQLITE_BUSY_TIMEOUT_S (30 s)
    sessions = session_factory(engine)
    out: list[float] = []
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        t0 = time.perf_counter()
        with sessions() as s:
            s.execute(update(Agent).where(Agent.id == agent_id).values(state_reason=f"w{len(out)}"))
            s.commit()
        out.append(time.perf_counter() - t0)
        time.sleep(max(0.0, every_s - (time.perf_counter() - t0)))
    engine.dispose()
    conn.send(out)
    conn.close()


def _token(http: requests.Session, base: str, path: str = "/login") -> str:
    m = CSRF.search(http.get(base + path, timeout=60).text)
    if m is None:
        raise RuntimeError(f"no CSRF token on {path}")
    return m.group(1) or m.group(2)


def _sign_in(base: str, username: str) -> requests.Session:
    http = requests.Session()
    r = http.post(base + "/login", data={"username": username, "password": PASSWORD,
                                         "csrf_token": _token(http, base)}, allow_redirects=False, timeout=60)
    if r.status_code != 302:
        raise RuntimeError(f"sign-in of {username} answered {r.status_code}")
    return http


def _signer(base: str, username: str, stop: threading.Event, times: list[float], errors: list[str]) -> None:
    while not stop.is_set():
        t0 = time.perf_counter()
        try:
            _sign_in(base, username).close()
        except (RuntimeError, requests.RequestException) as e:  # counted: a frozen database answers 500
            errors.append(str(e))
            continue
        times.append(time.perf_counter() - t0)


def _poller(base: str, campaign_id: int, every_s: float, stop: threading.Event, times: list[float],
            errors: list[str]) -> None:
    http = None
    while not stop.is_set():
        t0 = time.perf_counter()
        try:
            http = http or _sign_in(base, "bench-floor")
            http.get(f"{base}/floor/{campaign_id}/data", timeout=60).raise_for_status()
        except (RuntimeError, requests.RequestException) as e:
            errors.append(str(e))
        else:
            times.append(time.perf_counter() - t0)
        stop.wait(max(0.0, every_s - (time.perf_counter() - t0)))


def _ms(values: list[float], q: float) -> float | None:
    return round(float(np.percentile(values, q)) * 1000, 1) if values else None


def run(clients: int, seconds: float, poll_s: float, workers: int, threads: int, now: datetime) -> dict:
    with tempfile.TemporaryDirectory(prefix="dialer-bench-signin-") as tmp:
        url = f"sqlite:///{Path(tmp) / 'bench.sqlite3'}"
        campaign_id, agent_id = _seed(url, clients, now)
        env = settings.child_environ(DIALER_DATABASE_URL=url, DIALER_VAR_DIR=str(Path(tmp) / "var"),
                                     DIALER_COOKIE_SECURE="0", DIALER_SQLITE_LOCKING="immediate",
                                     DIALER_PUBLIC_BASE_URL="")  # plain http here, whatever the shell's floor says
        server = subprocess.Popen([sys.executable, "-m", "dialer", "serve", "console", "--bind", "127.0.0.1:0",
                                   "--workers", str(workers), "--threads", str(threads), "--no-access-log"],
                                  env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        try:
            ready = server.stdout.readline().strip()
            if "listening on" not in ready:
                raise RuntimeError(f"the console did not start: {ready!r}")
            base = ready.rsplit(" ", 1)[-1]
            _sign_in(base, "bench-floor").close()  # every worker process warmed up once
            receive, send = multiprocessing.get_context("spawn").Pipe(duplex=False)
            writer = multiprocessing.get_context("spawn").Process(
                target=_dial_loop_writes, args=(url, agent_id, seconds, 0.05, send))
            stop = threading.Event()
            signs: list[float] = []
            polls: list[float] = []
            errors: list[str] = []
            load = [threading.Thread(target=_signer, args=(base, f"bench-signer-{i}", stop, signs, errors),
                                     daemon=True) for i in range(clients)]
            load.append(threading.Thread(target=_poller, args=(base, campaign_id, poll_s, stop, polls, errors),
                                         daemon=True))
            writer.start()
            for t in load:
                t.start()
            writes = receive.recv()
            writer.join()
            stop.set()
            for t in load:
                t.join(timeout=60)
        finally:
            server.terminate()
            server.wait(30)
    return {"backend": "sqlite", "clients": clients, "seconds": seconds, "server": f"{workers}x{threads}",
            "sign_ins": len(signs), "sign_in_p50_ms": _ms(signs, 50), "floor_polls": len(polls),
            "floor_poll_p50_ms": _ms(polls, 50), "errors": len(errors), "writes": len(writes),
            "write_p50_ms": _ms(writes, 50),
            "write_p99_ms": _ms(writes, 99), "write_max_ms": round(max(writes) * 1000, 1) if writes else None}
