"""``dialer twilio``: check the Twilio configuration, run the Twilio-compatible fake server offline."""

from __future__ import annotations

import signal
import sys
import threading
from pathlib import Path

import click

from dialer.carriers.twilio.config import load, problems
from dialer.cli.bench import bench
from dialer.cli.context import CliContext, emit_json, pass_ctx, table
from dialer.clock import clock_from_env
from dnc import settings
from dnc.errors import UserError


@click.group("twilio")
def twilio() -> None:
    """Live dialing through Twilio: configuration check, agents' phone lines, the offline fake server."""


@twilio.command("check")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def check(as_json: bool) -> None:
    """Validate the TWILIO_* / DIALER_PUBLIC_BASE_URL environment and name exactly what is missing or wrong."""
    found = problems(settings.current())
    if found:
        raise UserError("Twilio is not configured: " + "; ".join(found))
    cfg = load(settings.current())
    notes = []
    if not cfg.caller_id:
        notes.append("TWILIO_CALLER_ID unset: each campaign's caller ID is used")
    if not cfg.can_issue_tokens:
        notes.append("browser agents disabled: set TWILIO_API_KEY, TWILIO_API_SECRET and TWILIO_TWIML_APP_SID")
    if cfg.public_base_url.startswith("http://"):
        notes.append("DIALER_PUBLIC_BASE_URL is plain http: Twilio should reach the webhooks over https")
    if as_json:
        emit_json({"ok": True, "account_sid": cfg.account_sid, "api_base": cfg.api_base, "cps": cfg.cps,
                   "public_base_url": cfg.public_base_url, "browser_agents": cfg.can_issue_tokens, "notes": notes})
        return
    click.echo(f"Twilio configuration OK: account {cfg.account_sid}, API {cfg.api_base}, {cfg.cps:g} calls/s, "
               f"webhooks at {cfg.public_base_url}/twilio/")
    for n in notes:
        click.echo(f"note: {n}")


def conditions_options(**defaults: float):
    """The fake's real-world conditions as options (``fake.server.Conditions``), with the given defaults."""
    opts = [
        click.option("--create-latency-ms", type=click.FloatRange(0, 60_000), default=defaults["create_latency_ms"],
                     show_default=True, help="Mean time a create takes to answer."),
        click.option("--jitter-ms", type=click.FloatRange(0, 60_000), default=defaults["jitter_ms"],
                     show_default=True, help="Create time uniform within the mean ± this."),
        click.option("--error-429", type=click.FloatRange(0, 0.5), default=defaults["error_429"], show_default=True,
                     help="Share of API requests answered 429 / 20429."),
        click.option("--error-5xx", type=click.FloatRange(0, 0.5), default=defaults["error_5xx"], show_default=True,
                     help="Share of API requests answered 503."),
        click.option("--callback-delay-ms", type=click.FloatRange(0, 60_000), default=defaults["callback_delay_ms"],
                     show_default=True, help="Status and AMD callbacks leave up to this late (out of order)."),
        click.option("--update-latency-ms", type=click.FloatRange(0, 60_000),
                     default=defaults.get("update_latency_ms", 0.0), show_default=True,
                     help="Mean time an update of a call (connect, abandon, hang-up) takes; ± --jitter-ms."),
    ]

    def wrap(f):
        for o in reversed(opts):
            f = o(f)
        return f

    return wrap


@twilio.command("fake-server")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=int, default=8765, show_default=True)
@click.option("--scripts", "scripts_path", type=click.Path(path_type=Path), default=None,
              help='JSON: {"default": {...}, "+12125550100": {"answer": "busy"}, "mix": [{"weight": 0.3, ...}]} '
                   "(fields of CallScript).")
@click.option("--seed", type=int, default=1, show_default=True, help="Which mix script each number draws.")
@click.option("--workers", type=click.IntRange(1, 256), default=16, show_default=True,
              help="Threads sending webhooks and running TwiML.")
@conditions_options(create_latency_ms=0.0, jitter_ms=0.0, error_429=0.0, error_5xx=0.0, callback_delay_ms=0.0)
def fake_server(host: str, port: int, scripts_path: Path | None, seed: int, workers: int, **conditions) -> None:
    """Run the Twilio-compatible fake (point DIALER_TWILIO_API_BASE at it); uses TWILIO_ACCOUNT_SID/AUTH_TOKEN."""
    from dialer.carriers.twilio.fake import CallScript, FakeTwilio, load_scripts
    from dialer.carriers.twilio.fake.server import Conditions

    env = settings.current()
    sid, token = env.get("TWILIO_ACCOUNT_SID", ""), env.get("TWILIO_AUTH_TOKEN", "")
    missing = [n for n, v in (("TWILIO_ACCOUNT_SID", sid), ("TWILIO_AUTH_TOKEN", token)) if not v]
    if missing:
        raise UserError(f"the fake server signs webhooks like Twilio: set {' and '.join(missing)}")
    default, scripts, mix = load_scripts(scripts_path) if scripts_path else (CallScript(), {}, [])
    creds = []
    if env.get("TWILIO_API_KEY") and env.get("TWILIO_API_SECRET"):
        creds.append((env["TWILIO_API_KEY"], env["TWILIO_API_SECRET"]))
    try:
        clock = clock_from_env()  # the demo's or a benchmark's shared clock, when set
    except ValueError as e:
        raise UserError(str(e)) from None
    try:
        fake = FakeTwilio(sid, token, credentials=creds, default_script=default, scripts=scripts, mix=mix, seed=seed,
                          host=host, port=port, workers=workers, clock=clock, conditions=Conditions(**conditions))
    except OSError as e:
        raise UserError(f"cannot listen on {host}:{port}: {e.strerror}") from None
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    fake.start()
    click.echo(f"fake Twilio listening on {fake.api_base} "
               f"(export DIALER_TWILIO_API_BASE={fake.api_base}); Ctrl-C stops")
    sys.stdout.flush()
    try:
        stop.wait()
    except KeyboardInterrupt:
        pass
    finally:
        fake.stop()


@twilio.command("agent-phone")
@click.argument("agent")
@click.argument("phone", required=False)
@click.option("--browser", is_flag=True, help="The agent answers in the browser (Voice JS SDK) instead of a phone.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@pass_ctx
def agent_phone(ctx: CliContext, agent: str, phone: str | None, browser: bool, as_json: bool) -> None:
    """Where AGENT answers: the dialer rings PHONE into the agent's conference when they go ready (or --browser)."""
    from campaigns.agents import lines as agent_lines

    if browser == bool(phone):
        raise UserError("give the agent's PHONE (+12125550123) or --browser, not both and not neither")
    ref: int | str = int(agent) if agent.isdigit() else agent
    with ctx.session() as s:
        line = agent_lines.set_phone(s, ref, None if browser else phone, ctx.clock.now())
    if as_json:
        emit_json({"agent_id": line.agent_id, "phone": line.phone, "status": line.status})
        return
    where = line.phone or "the browser"
    click.echo(f"agent {agent} answers on {where}; line {line.status}")


@twilio.command("lines")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@pass_ctx
def lines(ctx: CliContext, as_json: bool) -> None:
    """Agents' nailed-up lines: where each answers, whether the line is up and since when."""
    from campaigns.agents import lines as agent_lines

    with ctx.session() as s:
        rows = [{"agent": name, "state": state, "phone": line.phone or "browser", "line": line.status,
                 "since": line.since.isoformat(timespec="seconds"), "call_sid": line.call_sid}
                for name, state, line in agent_lines.all_lines(s)]
    if as_json:
        emit_json({"lines": rows, "up": sum(1 for r in rows if r["line"] == "up")})
        return
    click.echo(table(rows, ["agent", "state", "phone", "line", "since"]))


@bench.command("twilio")
@click.option("--cps", type=click.FloatRange(0.1, 100), default=10.0, show_default=True,
              help="The account's calls-per-second limit the dialer must hold.")
@click.option("--minutes", type=click.FloatRange(0.05, 120), default=5.0, show_default=True)
@click.option("--agents", type=click.IntRange(1, 1000), default=None,
              help="Agents on the floor (default: sized from --cps so the CPS, not the agents, limits dialing: "
                   "139 at 20 calls/s).")
@click.option("--database-url", "bench_url", default=None,
              help="Database to dial from (default: a fresh temporary SQLite file; PostgreSQL is the target).")
@click.option("--seed", type=int, default=1, show_default=True)
@conditions_options(create_latency_ms=0.0, jitter_ms=0.0, error_429=0.01, error_5xx=0.005, callback_delay_ms=200.0)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def bench_twilio(cps: float, minutes: float, agents: int | None, bench_url: str | None, seed: int, as_json: bool,
                 **conditions) -> None:
    """Sustained dialing through the fake Twilio: CPS held, no callback lost, answer-to-agent delays."""
    from dialer.bench.twilio import run

    out = run(bench_url, cps, minutes * 60, agents, None if as_json else lambda m: click.echo(m, err=True), seed,
              conditions)
    if as_json:
        emit_json(out)
        return
    for k, v in out.items():
        if k != "worker":
            click.echo(f"{k:30} {v}")
