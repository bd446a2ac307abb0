"""``make demo``: the whole product on one workstation, on SQLite and the simulated carrier.

It builds a fresh demo database (``var/demo/``), imports a generated, messy lead list through the real import and
DNC scrub, loads a generated national registry, creates one login per role, starts campaign "Demo", runs the
dialing worker (``dialer run``: the real dial loop, 19 simulated agents, the simulated carrier) in accelerated time
in a child process, and serves the console at http://127.0.0.1:5000. The person gets the 20th seat (log in as
``agent``) and takes calls like the simulated agents do.

Both processes read one accelerated clock (``DIALER_CLOCK_*``). It starts on the latest weekday at 18:00 UTC, when
the calling window is open in every US zone (13:00 in New York, 08:00 in Honolulu), so the floor moves whatever the
hour the demo is run at.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

DEMO_DIR = Path("var/demo")
PASSWORD = "opendialer-demo"
ROLES = (("admin", "admin"), ("manager", "manager"), ("agent", "agent"), ("compliance", "compliance"),
         ("sales", "sales"))


def demo_start(wall: datetime) -> datetime:
    """18:00 UTC on the latest weekday at or before ``wall``'s date (the window is open coast to coast)."""
    day = wall.astimezone(UTC).date()
    while day.weekday() >= 5:
        day -= timedelta(days=1)
    return datetime(day.year, day.month, day.day, 18, 0, tzinfo=UTC)


def demo_environ(workdir: Path, speed: float, wall: datetime) -> dict[str, str]:
    """What the worker and the console share: the database, the registry, the accelerated clock."""
    return {
        "DIALER_DATABASE_URL": f"sqlite:///{(workdir / 'demo.sqlite3').resolve()}",
        "DIALER_DNC_DIR": str((workdir / "dnc").resolve()),
        "DIALER_VAR_DIR": str(workdir.resolve()),
        "DIALER_CLOCK_ANCHOR": wall.isoformat(),
        "DIALER_CLOCK_START": demo_start(wall).isoformat(),
        "DIALER_CLOCK_SPEED": str(speed),
        "DIALER_COOKIE_SECURE": "0",  # plain http on the workstation
    }


def prepare(rows: int, seats: int) -> None:
    """Migrate, load the campaign, its list and the registry, the logins; start the campaign (environment set)."""
    from campaigns.accounts.users import create_user
    from campaigns.campaign.service import get_campaign, set_status
    from campaigns.db import make_engine, session_factory, session_scope
    from dialer.clock import clock_from_env
    from dialer.demo.campaign import DEMO_CAMPAIGN, run_demo
    from dialer.schema.migrate import upgrade
    from dnc.scrub import DncScrubber

    engine = make_engine()
    upgrade(engine)
    sessions = session_factory(engine)
    now = clock_from_env().now()
    scrubber = DncScrubber(sessions, campaign=lambda s: get_campaign(s, DEMO_CAMPAIGN).id, at=now, operator="demo")
    out = run_demo(sessions, now, DEMO_DIR, rows, scrubber=scrubber)
    r = out.result
    with session_scope(sessions) as s:
        scrubber.record(s, list_ref=f"{r.campaign}/{r.list_name} ({r.source})", file_sha256=r.sha256)
        for username, role in ROLES:
            create_user(s, username, role, PASSWORD, now)
        set_status(s, get_campaign(s, DEMO_CAMPAIGN), "active", now)
    engine.dispose()
    print(f"campaign {r.campaign!r}: {r.rows:,} rows = {r.accepted:,} accepted + {r.duplicates:,} duplicates "
          f"+ {r.rejected:,} rejected + {r.suppressed:,} suppressed; {seats} simulated agents + your seat")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m web.demo", description=__doc__.splitlines()[0])
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=5000)
    p.add_argument("--speed", type=float, default=4.0, help="virtual seconds per real second (default 4)")
    p.add_argument("--agents", type=int, default=19, help="simulated agents besides your seat (default 19)")
    p.add_argument("--rows", type=int, default=5000, help="rows in the generated list (default 5000)")
    args = p.parse_args(argv)
    if not 0.1 <= args.speed <= 50:
        print("error: --speed must be between 0.1 and 50", file=sys.stderr)
        return 2

    shutil.rmtree(DEMO_DIR, ignore_errors=True)  # a fresh demo each time: its clock starts over
    DEMO_DIR.mkdir(parents=True)
    env = demo_environ(DEMO_DIR, args.speed, datetime.now(UTC))
    os.environ.update(env)
    from dnc.errors import UserError
    from web.serve import listen, serve_until_stopped

    try:
        prepare(args.rows, args.agents)
        server = listen(args.host, args.port)
    except UserError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    log = (DEMO_DIR / "worker.log").open("w")
    worker = subprocess.Popen([sys.executable, "-m", "dialer", "run", "--campaign", "Demo", "--speed", str(args.speed),
                               "--agents", str(args.agents)], env=dict(os.environ), stdout=log, stderr=log)
    url = f"http://{args.host}:{server.server_port}"
    print(f"\nconsole at {url}  (the floor runs {args.speed:g}x faster than real time; worker log: "
          f"{DEMO_DIR / 'worker.log'})\nlog in as one of (password {PASSWORD!r}):")
    for username, role in ROLES:
        print(f"  {username:<11} {role}")
    print("the 'agent' login is your own seat: join campaign Demo, go ready, and calls will come to you.\n"
          "Ctrl-C stops the demo.", flush=True)
    try:
        serve_until_stopped(server)
    finally:
        _stop(worker)
        log.close()
    return 0


def _stop(worker: subprocess.Popen) -> None:
    """SIGTERM lets the worker finish its turn and end the calls in flight; kill it if it does not."""
    if worker.poll() is not None:
        return
    worker.terminate()
    deadline = time.monotonic() + 20
    while worker.poll() is None and time.monotonic() < deadline:
        time.sleep(0.1)
    if worker.poll() is None:
        worker.kill()


if __name__ == "__main__":
    sys.exit(main())
