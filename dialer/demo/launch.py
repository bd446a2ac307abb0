"""``make demo`` (``dialer demo --serve``): the whole product on one workstation, on SQLite and the simulated carrier.

It builds a fresh demo database (``var/demo/``), imports a generated, messy lead list through the real import and
DNC scrub, loads a generated national registry, creates one login per role, starts campaign "Demo", then runs two
processes exactly as an installation would: the dialing worker (``dialer run``: the real dial loop, simulated agents,
the simulated carrier) and the console (``dialer serve console`` on gunicorn). The person gets one more seat (log in
as ``agent``) and takes calls like the simulated agents do. The simulated agents staff campaign Demo only: a campaign
the manager creates and starts is dialed for the people at the console, so its floor says who really takes calls.

Every process reads one accelerated clock (``DIALER_CLOCK_*``). It starts on the latest weekday at 18:00 UTC, when
the calling window is open in every US zone (13:00 in New York, 08:00 in Honolulu), so the floor moves whatever the
hour the demo is run at. The settings are also written to ``var/demo/env.sh``: ``. var/demo/env.sh`` points a shell's
``dialer`` commands at the running demo (same database, registry and clock).
"""

from __future__ import annotations

import os
import shlex
import shutil
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from dnc import settings
from dnc.errors import UserError

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


def demo_settings(workdir: Path, speed: float, wall: datetime) -> dict[str, str]:
    """What the worker, the console and the person's shell share: the database, the registry, the clock."""
    return {
        "DIALER_DATABASE_URL": f"sqlite:///{(workdir / 'demo.sqlite3').resolve()}",
        "DIALER_DNC_DIR": str((workdir / "dnc").resolve()),
        "DIALER_VAR_DIR": str(workdir.resolve()),
        "DIALER_CLOCK_ANCHOR": wall.isoformat(),
        "DIALER_CLOCK_START": demo_start(wall).isoformat(),
        "DIALER_CLOCK_SPEED": str(speed),
        "DIALER_COOKIE_SECURE": "0",  # plain http on the workstation
        # no Twilio in the demo: a shell set up for live dialing must not lend it its https address (blank = unset),
        # or the plain-http console refuses to send cookies without Secure
        "DIALER_PUBLIC_BASE_URL": "",
        "DIALER_CONSOLE_TIMEZONE": "America/New_York",  # the demo campaign's zone: every page reads the same clock
    }


def write_env_file(workdir: Path, values: dict[str, str]) -> Path:
    path = workdir / "env.sh"
    lines = ["# . var/demo/env.sh: point this shell's `dialer` at the running demo"]
    lines += [f"export {k}={shlex.quote(v)}" for k, v in values.items()]
    path.write_text("\n".join(lines) + "\n")
    return path


PID_FILE = "demo.pid"  # the running demo's process id: ``dialer`` in this directory adopts env.sh while it lives


def running_demo(workdir: Path = DEMO_DIR) -> dict[str, str] | None:
    """The settings of the demo running from this directory (its ``env.sh``), or None when none runs."""
    pid_file, env_file = workdir / PID_FILE, workdir / "env.sh"
    try:
        pid = int(pid_file.read_text().strip())
        os.kill(pid, 0)
        text = env_file.read_text()
    except (OSError, ValueError):
        return None
    values = {}
    for line in text.splitlines():
        words = shlex.split(line, comments=True)
        if len(words) == 2 and words[0] == "export" and "=" in words[1]:
            key, _, value = words[1].partition("=")
            values[key] = value
    return values or None


def prepare(rows: int, seats: int) -> str:
    """Migrate, load the campaign, its list and the registry, the logins; start the campaign (settings in force)."""
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
        for username, role in ROLES:
            create_user(s, username, role, PASSWORD, now)
        set_status(s, get_campaign(s, DEMO_CAMPAIGN), "active", now)
    engine.dispose()
    return (f"campaign {r.campaign!r}: {r.rows:,} rows = {r.accepted:,} accepted + {r.duplicates:,} duplicates "
            f"+ {r.rejected:,} rejected + {r.suppressed:,} suppressed; {seats} simulated agents + your seat")


def worker_args(speed: float, agents: int, staff_every_campaign: bool = False) -> list[str]:
    """The demo's ``dialer run``: every active campaign is dialed, one the manager creates, fills and starts too, but
    the ``agents`` simulated agents staff campaign Demo only, so a new campaign's floor shows the agents it really has
    (the person's seat) unless ``staff_every_campaign`` asks otherwise."""
    from dialer.demo.campaign import DEMO_CAMPAIGN

    staff = [] if staff_every_campaign else ["--staff", DEMO_CAMPAIGN]
    return ["run", "--speed", str(speed), "--agents", str(agents), *staff]


@dataclass
class Demo:
    worker: subprocess.Popen
    console: subprocess.Popen
    url: str
    logs: list


def launch(host: str, port: int, speed: float, agents: int, rows: int, say=print,
           staff_every_campaign: bool = False) -> Demo:
    """A fresh demo: data prepared, worker and console started (the console answering) when this returns."""
    shutil.rmtree(DEMO_DIR, ignore_errors=True)  # a fresh demo each time: its clock starts over
    DEMO_DIR.mkdir(parents=True)
    values = demo_settings(DEMO_DIR, speed, datetime.now(UTC))
    write_env_file(DEMO_DIR, values)
    with settings.overridden(**values):
        say(prepare(rows, agents))
        env = settings.child_environ()
    dialer = [sys.executable, "-m", "dialer"]
    worker_log, console_log = (DEMO_DIR / "worker.log").open("w"), (DEMO_DIR / "console.log").open("w")
    worker = subprocess.Popen(dialer + worker_args(speed, agents, staff_every_campaign), env=env, stdout=worker_log,
                              stderr=worker_log)
    console = subprocess.Popen(dialer + ["serve", "console", "--bind", f"{host}:{port}", "--workers", "2"],
                               env=env, stdout=subprocess.PIPE, stderr=console_log, text=True)
    demo = Demo(worker, console, "", [worker_log, console_log])
    ready = console.stdout.readline().strip() if console.stdout else ""
    if "listening on" not in ready:
        stop(demo)
        raise UserError(f"the console did not start on {host}:{port} (is the port in use?); see {DEMO_DIR}/console.log")
    demo.url = ready.rsplit(" ", 1)[-1]
    # The rest of the console's stdout is its access log: copy it to console.log for as long as the console runs. A
    # pipe nobody reads holds 64 KiB, after which every console thread blocks in ``write`` and the demo stops answering.
    threading.Thread(target=_copy_lines, args=(console.stdout, console_log), name="demo-console-log",
                     daemon=True).start()
    (DEMO_DIR / PID_FILE).write_text(str(os.getpid()))
    return demo


def _copy_lines(source, target) -> None:
    """Copy ``source`` line by line into ``target`` until the process behind it closes it (or the log is closed)."""
    try:
        for line in source:
            target.write(line)
            target.flush()
    except (OSError, ValueError):  # ValueError: ``stop`` closed the log while a last line was on its way
        pass


def stop(demo: Demo) -> None:
    """SIGTERM lets the worker finish its turn and end the calls in flight, and the console finish its requests."""
    for proc in (demo.console, demo.worker):
        if proc.poll() is None:
            proc.terminate()
    deadline = time.monotonic() + 20
    for proc in (demo.console, demo.worker):
        while proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.1)
        if proc.poll() is None:
            proc.kill()
    for f in demo.logs:
        f.close()
    (DEMO_DIR / PID_FILE).unlink(missing_ok=True)


def _interrupt(_signum, _frame) -> None:
    raise KeyboardInterrupt


def serve_demo(host: str, port: int, speed: float, agents: int, rows: int, staff_every_campaign: bool = False
               ) -> None:
    # SIGTERM (kill, a process manager) ends the demo as Ctrl-C does: its worker and console stop with it, rather than
    # running on orphaned with the port and the database
    signal.signal(signal.SIGTERM, _interrupt)
    demo = launch(host, port, speed, agents, rows, staff_every_campaign=staff_every_campaign)
    print(f"\nconsole at {demo.url}  (the floor runs {speed:g}x faster than real time; logs: {DEMO_DIR}/worker.log, "
          f"{DEMO_DIR}/console.log)\nlog in as one of (password {PASSWORD!r}):")
    for username, role in ROLES:
        print(f"  {username:<11} {role}")
    print("the 'agent' login is your own seat: join campaign Demo, go ready, and calls will come to you. The simulated "
          "agents staff campaign Demo only: a campaign you create is staffed by your seat (or start the demo with "
          "--staff-every-campaign).\n"
          f"`dialer` commands run from this directory use this demo by themselves (`dialer campaigns funnel Demo`); "
          f"elsewhere, `. {(DEMO_DIR / 'env.sh').resolve()}` first. Ctrl-C stops the demo.",
          flush=True)
    try:
        while demo.worker.poll() is None and demo.console.poll() is None:
            time.sleep(0.5)
        print(f"error: the {'worker' if demo.worker.poll() is not None else 'console'} stopped; see its log in "
              f"{DEMO_DIR}/", file=sys.stderr)
    except KeyboardInterrupt:
        pass
    finally:
        stop(demo)
