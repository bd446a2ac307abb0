"""``dialer run``: the dialing worker in wall-clock time, on the simulated carrier or on Twilio."""

from __future__ import annotations

import signal
import time
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import click
from sqlalchemy import func, select

from campaigns.agents.models import Agent
from campaigns.agents.service import create_agent
from campaigns.campaign.models import Campaign
from campaigns.campaign.service import get_campaign
from campaigns.db import session_factory, session_scope
from dialer.cli.context import CliContext, emit_json, pass_ctx
from dialer.clock import ScaledClock
from dialer.sim.load import SHIPPED_SCENARIOS
from dnc import settings
from dnc.errors import UserError


@click.command("run")
@click.option("--campaign", "campaign_name", default=None,
              help="Dial only this campaign (with the simulated carrier: the campaign to simulate).")
@click.option("--carrier", type=click.Choice(["sim", "twilio"]), default="sim", show_default=True)
@click.option("--speed", type=click.FloatRange(0.1, 1000), default=1.0, show_default=True,
              help="Simulated carrier only: virtual seconds per wall-clock second.")
@click.option("--scenario", "scenario_path", type=click.Path(path_type=Path, dir_okay=False), default=None,
              help="Simulated carrier only: who answers and how agents behave (default: the base scenario).")
@click.option("--agents", type=click.IntRange(0, 10_000), default=None,
              help="Simulated carrier only: make sure the campaign has this many simulated agents.")
@click.option("--seed", type=int, default=None, help="Simulated carrier only: random seed.")
@click.option("--for", "duration_s", type=click.FloatRange(min=0), default=None,
              help="Stop after this many seconds (virtual with the simulated carrier); default: until Ctrl-C.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object when the worker stops.")
@pass_ctx
def run_worker(ctx: CliContext, campaign_name: str | None, carrier: str, speed: float, scenario_path: Path | None,
               agents: int | None, seed: int | None, duration_s: float | None, as_json: bool) -> None:
    """The dialing worker: dial active campaigns with the simulated carrier or Twilio until stopped."""
    if carrier == "twilio" and speed != 1.0:
        raise UserError("--speed applies to the simulated carrier only; Twilio runs in real time")
    stop_flag = {"stop": False}

    def on_signal(signum, frame) -> None:
        stop_flag["stop"] = True  # finish the turn, stop dialing, let calls in flight end

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    sessions = session_factory(ctx.engine)
    try:
        if carrier == "sim":
            out = _run_sim(ctx, sessions, campaign_name, speed, scenario_path, agents, seed, duration_s, stop_flag)
        else:
            out = _run_twilio(ctx, sessions, campaign_name, duration_s, stop_flag)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    if as_json:
        emit_json(out)
    else:
        click.echo(", ".join(f"{k} {v}" for k, v in out.items() if not isinstance(v, dict | list)))


def _simulated_agents(sessions, campaign: Campaign, wanted: int | None, default: int, now) -> list[int]:
    """The campaign's simulated agents, created up to ``wanted`` (or the scenario's count when it has none)."""
    with session_scope(sessions) as s:
        ids = list(s.scalars(select(Agent.id).where(Agent.campaign_id == campaign.id, Agent.simulated.is_(True))
                             .order_by(Agent.id)))
        want = wanted if wanted is not None else (len(ids) or default)
        row, k = s.get(Campaign, campaign.id), 0
        while len(ids) < want:
            k += 1
            name = f"sim-{campaign.id}-{k:03d}"
            if s.scalar(select(func.count()).select_from(Agent).where(Agent.name == name)) == 0:
                ids.append(create_agent(s, name, now, campaign=row, simulated=True).id)
        return ids[:want]


def _campaign(sessions, name: str | None) -> Campaign:
    with session_scope(sessions) as s:
        if name is not None:
            c = get_campaign(s, name)
        else:
            active = list(s.scalars(select(Campaign).where(Campaign.status == "active")))
            if len(active) != 1:
                names = ", ".join(c.name for c in active) or "none"
                raise UserError(f"name the campaign to simulate with --campaign (active campaigns: {names})")
            c = active[0]
        if c.status != "active":
            raise UserError(f"campaign {c.name!r} is {c.status}: start it with `dialer campaigns start {c.name}`")
        return c


def _run_sim(ctx, sessions, campaign_name, speed, scenario_path, agents, seed, duration_s, stop_flag) -> dict:
    from dialer.jobs.catalog import start_worker_scheduler
    from dialer.loop.gating import dnc_gate
    from dialer.loop.worker import worker_name
    from dialer.sim import load_scenario
    from dialer.sim.live import LiveSimulation

    scenario = load_scenario(scenario_path or SHIPPED_SCENARIOS / "base.toml")
    campaign = _campaign(sessions, campaign_name)
    now = ctx.clock.now()
    sim_agents = _simulated_agents(sessions, campaign, agents, scenario.agents.count, now)
    scenario = replace(scenario, agents=replace(scenario.agents, count=len(sim_agents), schedule=()))
    sim = LiveSimulation(scenario, scenario.seed if seed is None else seed, sessions, campaign.id, sim_agents, now,
                         gate=dnc_gate, holder=worker_name())

    wall0 = time.monotonic()
    # the worker's periodic jobs (missed callbacks, abandon guard and alerts, caller-ID health, reports) on the
    # simulation's own clock: it reads what the loop writes, ``speed`` times the wall clock from ``now``
    scheduler = start_worker_scheduler(sessions, ScaledClock(datetime.now(UTC), speed, start=now), worker_name())
    try:
        sim.serve(speed, lambda: stop_flag["stop"], until=float("inf") if duration_s is None else duration_s)
    finally:
        scheduler.shutdown(wait=True)
    st = sim.loop.stats
    return {"campaign": campaign.name, "carrier": "sim", "speed": speed, "agents": len(sim_agents),
            "virtual_s": round(sim.stopped_at or 0.0, 1), "wall_s": round(time.monotonic() - wall0, 1),
            "placed": st.placed, "connected": st.connected, "abandoned": st.abandoned, "place_failed": st.place_failed,
            "errors": len(st.errors)}


def _run_twilio(ctx, sessions, campaign_name, duration_s, stop_flag) -> dict:
    from dialer.carriers.twilio.config import load
    from dialer.carriers.twilio.worker import build_worker, serve

    config = load(settings.current())
    ids = None
    if campaign_name is not None:
        ids = {_campaign(sessions, campaign_name).id}
    worker = build_worker(sessions, ctx.clock, config, campaign_ids=ids)
    start = time.monotonic()

    def stop() -> bool:
        return stop_flag["stop"] or (duration_s is not None and time.monotonic() - start >= duration_s)

    return serve(worker, sessions, ctx.clock, stop)
