"""``dialer jobs``: the periodic jobs (callbacks due, lead recycling, registry freshness, reports): what each did last,
run one now (from cron, or by hand), or run the schedule in the foreground without a dialing worker."""

from __future__ import annotations

import signal
import threading

import click

from campaigns.db import session_factory
from campaigns.leases import service as leases
from dialer.cli.context import CliContext, emit_json, pass_ctx, table
from dnc.errors import UserError


def _jobs() -> dict:
    from dialer.jobs.catalog import worker_jobs

    return {j.name: j for j in worker_jobs()}


@click.group("jobs")
def jobs() -> None:
    """Periodic jobs: list them with their last run, run one now, or serve the schedule."""


@jobs.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@pass_ctx
def list_jobs(ctx: CliContext, as_json: bool) -> None:
    """Every job, its schedule, when it last ran and what it returned (or why it failed)."""
    with ctx.session() as s:
        last = {x.name: x for x in leases.all_leases(s)}
    rows = []
    for name, job in _jobs().items():
        lease = last.get(name)
        rows.append({"job": name, "every": _every(job), "about": job.about,
                     "last_run": lease.last_run_at.isoformat(timespec="seconds") if lease and lease.last_run_at
                     else None, "running_on": lease.holder if lease else None,
                     "last_result": lease.last_result if lease else None,
                     "last_error": lease.last_error if lease else None})
    if as_json:
        emit_json({"jobs": rows})
        return
    click.echo(table([{**r, "last_result": r["last_error"] or r["last_result"]} for r in rows],
                     ["job", "every", "last_run", "last_result", "about"]))


@jobs.command("run")
@click.argument("name")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@pass_ctx
def run_job(ctx: CliContext, name: str, as_json: bool) -> None:
    """Run job NAME once now, under its lease (skipped if another process is running it)."""
    from dialer.jobs.scheduler import LeasedRunner

    known = _jobs()
    if name not in known:
        raise UserError(f"no job {name!r}; jobs: {', '.join(known)}")
    record = LeasedRunner(session_factory(ctx.engine), ctx.clock).run(known[name])
    out = {"job": name, "ran": record.ran, "result": record.result, "error": record.error}
    if as_json:
        emit_json(out)
    elif not record.ran:
        click.echo(f"{name}: skipped, another process holds its lease")
    else:
        click.echo(f"{name}: {record.error or record.result}")
    if record.error:
        ctx_exit = click.get_current_context()
        ctx_exit.exit(1)


@jobs.command("serve")
@click.option("--metrics-port", type=click.IntRange(0, 65535), default=None,
              help="Serve /metrics, /healthz and /readyz (database, registry) on this port.")
@click.option("--metrics-host", default="127.0.0.1", show_default=True,
              help="Address of the --metrics-port listener (0.0.0.0 for a scraper on another host).")
@pass_ctx
def serve_jobs(ctx: CliContext, metrics_port: int | None, metrics_host: str) -> None:
    """Run the periodic jobs on their schedule until Ctrl-C (``dialer run --carrier twilio`` runs them too; the
    leases keep any job from running twice at once)."""
    from dialer.jobs.catalog import start_worker_scheduler
    from dialer.schema.migrate import require_head

    require_head(ctx.engine)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    sessions = session_factory(ctx.engine)
    sched = start_worker_scheduler(sessions, ctx.clock)
    listener = None
    if metrics_port is not None:
        from dialer.observe.listener import start_listener
        from dnc.registry.snapshot import default_store

        listener = start_listener(sessions, ctx.clock, metrics_host, metrics_port, registry=default_store(),
                                  checks=("database", "registry"))[0]
    click.echo(f"serving {len(_jobs())} jobs; Ctrl-C stops")
    try:
        stop.wait()
    except KeyboardInterrupt:
        pass
    finally:
        if listener is not None:
            listener.stop()
        sched.shutdown(wait=True)


def _every(job) -> str:
    args = job.trigger_args
    if job.trigger == "interval":
        return " ".join(f"{v:g} {k}" for k, v in args.items())
    return "cron " + " ".join(f"{k}={v}" for k, v in args.items())
