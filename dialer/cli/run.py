"""``dialer run``: the dialing worker in wall-clock time, on the simulated carrier or on Twilio."""

from __future__ import annotations

import contextlib
import faulthandler
import io
import signal
import time
from datetime import UTC, datetime
from pathlib import Path

import click
from sqlalchemy import select

from campaigns.campaign.models import Campaign
from campaigns.campaign.service import get_campaign
from campaigns.db import session_factory, session_scope
from dialer.cli.context import CliContext, emit_json, pass_ctx
from dialer.clock import ScaledClock
from dialer.schema.migrate import require_head
from dialer.sim.load import SHIPPED_SCENARIOS
from dnc import settings
from dnc.errors import UserError


@click.command("run")
@click.option("--campaign", "campaign_name", default=None,
              help="Dial only this campaign (default: every active campaign this worker's share gives it).")
@click.option("--carrier", type=click.Choice(["sim", "twilio"]), default="sim", show_default=True)
@click.option("--speed", type=click.FloatRange(0.1, 1000), default=1.0, show_default=True,
              help="Simulated carrier only: virtual seconds per wall-clock second.")
@click.option("--scenario", "scenario_path", type=click.Path(path_type=Path, dir_okay=False), default=None,
              help="Simulated carrier only: who answers and how agents behave (default: the base scenario).")
@click.option("--agents", type=click.IntRange(0, 10_000), default=None,
              help="Simulated carrier only: make sure each campaign it dials has this many simulated agents.")
@click.option("--staff", "staffed", multiple=True, metavar="CAMPAIGN",
              help="Simulated carrier only: the campaigns simulated agents staff (repeatable; default: every one it "
                   "dials); any other is staffed by the people at the console only.")
@click.option("--seed", type=int, default=None, help="Simulated carrier only: random seed.")
@click.option("--for", "duration_s", type=click.FloatRange(min=0), default=None,
              help="Stop after this many seconds (virtual with the simulated carrier); default: until Ctrl-C.")
@click.option("--metrics-port", type=click.IntRange(0, 65535), default=None,
              help="Serve /metrics, /healthz and /readyz on this port (0: a free one, printed in the log).")
@click.option("--metrics-host", default="127.0.0.1", show_default=True,
              help="Address of the --metrics-port listener (0.0.0.0 for a scraper on another host).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object when the worker stops.")
@pass_ctx
def run_worker(ctx: CliContext, campaign_name: str | None, carrier: str, speed: float, scenario_path: Path | None,
               agents: int | None, staffed: tuple[str, ...], seed: int | None, duration_s: float | None,
               metrics_port: int | None, metrics_host: str, as_json: bool) -> None:
    """The dialing worker: dial active campaigns with the simulated carrier or Twilio until stopped."""
    if carrier == "twilio" and speed != 1.0:
        raise UserError("--speed applies to the simulated carrier only; Twilio runs in real time")
    if carrier == "twilio" and staffed:
        raise UserError("--staff applies to the simulated carrier only; on Twilio people staff every campaign")
    require_head(ctx.engine)
    stop_flag = {"stop": False, "listen": (metrics_host, metrics_port)}

    def on_signal(signum, frame) -> None:
        if stop_flag["stop"]:  # the second: give the campaigns back now (the next owner takes the calls over)
            stop_flag["now"] = True
        stop_flag["stop"] = True  # finish the turn, stop dialing, let calls in flight end

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    # `kill -USR1 PID`: every thread's stack in the log (not when stderr is no real file, as under a test)
    with contextlib.suppress(io.UnsupportedOperation, ValueError, AttributeError):
        faulthandler.register(signal.SIGUSR1, all_threads=True)
    sessions = session_factory(ctx.engine)
    from dialer.loop.gating import warm_gate

    warm_gate()  # before any campaign is taken: not inside the first claim's write transaction
    try:
        if carrier == "sim":
            out = _run_sim(ctx, sessions, campaign_name, speed, scenario_path, agents, staffed, seed, duration_s,
                           stop_flag)
        else:
            out = _run_twilio(ctx, sessions, campaign_name, duration_s, stop_flag)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    if as_json:
        emit_json(out)
    else:
        click.echo(", ".join(f"{k} {v}" for k, v in out.items() if not isinstance(v, dict | list)))


def _campaign(sessions, name: str) -> Campaign:
    with session_scope(sessions) as s:
        c = get_campaign(s, name)
        if c.status != "active":
            raise UserError(f"campaign {c.name!r} is {c.status}: start it with `dialer campaigns start {c.name}`")
        return c


def _run_sim(ctx, sessions, campaign_name, speed, scenario_path, agents, staffed, seed, duration_s,
             stop_flag) -> dict:
    from dialer.jobs.catalog import start_worker_scheduler
    from dialer.loop.gating import dnc_gate
    from dialer.loop.worker import worker_name
    from dialer.sim import load_scenario
    from dialer.sim.live import LiveSimulation

    scenario = load_scenario(scenario_path or SHIPPED_SCENARIOS / "base.toml")
    only = {_campaign(sessions, campaign_name).id} if campaign_name is not None else None
    with session_scope(sessions) as s:  # a campaign named to staff must exist, whatever its status
        staff = {get_campaign(s, name).id for name in staffed} if staffed else None
    now = ctx.clock.now()
    sim = LiveSimulation(scenario, scenario.seed if seed is None else seed, sessions, now, agents=agents, only=only,
                         gate=dnc_gate, holder=worker_name(), clock=ctx.clock, staff=staff)
    sim.ownership.claim_sqlite(ctx.clock)  # one dialing worker per SQLite file: refused with a reason

    wall0 = time.monotonic()
    # the worker's periodic jobs (missed callbacks, abandon guard and alerts, caller-ID health, reports) on the
    # simulation's own clock: it reads what the loop writes, ``speed`` times the wall clock from ``now``
    sim_clock = ScaledClock(datetime.now(UTC), speed, start=now)
    scheduler = start_worker_scheduler(sessions, sim_clock, worker_name())
    listener = _observe(sim.loop, sessions, sim_clock, worker_name(), stop_flag["listen"])
    try:
        sim.serve(speed, lambda: stop_flag["stop"], until=float("inf") if duration_s is None else duration_s)
    finally:
        scheduler.shutdown(wait=True)
        if listener is not None:
            listener.stop()
    st = sim.loop.stats
    with session_scope(sessions) as s:
        names = sorted(s.scalars(select(Campaign.name).where(Campaign.id.in_(set(sim.floors) or {-1}))))
    return {"campaigns": names, "carrier": "sim", "speed": speed,
            "agents": sum(len(f.agents) for f in sim.floors.values()),
            "virtual_s": round(sim.stopped_at or 0.0, 1), "wall_s": round(time.monotonic() - wall0, 1),
            "placed": st.placed, "connected": st.connected, "abandoned": st.abandoned, "place_failed": st.place_failed,
            "send_refused": st.send_refused, "errors": len(st.errors), "turn_p50_ms": sim.turn_ms(50),
            "turn_p99_ms": sim.turn_ms(99)}


def _run_twilio(ctx, sessions, campaign_name, duration_s, stop_flag) -> dict:
    from dialer.carriers.twilio.config import load
    from dialer.carriers.twilio.worker import build_worker, serve

    config = load(settings.current())
    ids = {_campaign(sessions, campaign_name).id} if campaign_name is not None else None
    worker = build_worker(sessions, ctx.clock, config, campaign_ids=ids)
    start = time.monotonic()

    def stop() -> bool:
        return stop_flag["stop"] or (duration_s is not None and time.monotonic() - start >= duration_s)

    from dialer.observe.metrics import CPS_LIMIT

    CPS_LIMIT.set(config.cps)
    listener = _observe(worker.loop, sessions, ctx.clock, worker.holder, stop_flag["listen"])
    try:
        return serve(worker, sessions, ctx.clock, stop, agents_drain_s=settings.current().worker_drain_s,
                     stop_now=lambda: bool(stop_flag.get("now")))
    finally:
        if listener is not None:
            listener.stop()


def _observe(loop, sessions, clock, holder: str, listen: tuple[str, int | None]):
    """Count and log what the loop decides; with ``--metrics-port``, serve /metrics, /healthz and /readyz."""
    from dialer.observe.metrics import DecisionLog, LoopMetrics

    loop.observer = LoopMetrics(DecisionLog())
    host, port = listen
    if port is None:
        return None
    from dialer.observe.listener import start_listener
    from dnc.registry.snapshot import default_store

    return start_listener(sessions, clock, host, port, holder=holder, beats=lambda: loop.stats.ticks,
                          registry=default_store())[0]
