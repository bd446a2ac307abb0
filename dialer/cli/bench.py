"""``dialer bench``: repeatable performance measurements (speed targets are benchmarks, never timed tests)."""

from __future__ import annotations

import resource
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import click
from sqlalchemy import delete, select

from campaigns.campaign.models import Campaign, Disposition
from campaigns.campaign.service import create_campaign, get_campaign
from campaigns.db import make_engine, session_factory, session_scope
from campaigns.leadimport.service import import_leads
from campaigns.leads.models import Lead, LeadList, RejectedRow
from dialer.bench.pacing_cmd import bench_pacing
from dialer.bench.pacing_week import bench_pacing_week
from dialer.bench.plan import bench_plan
from dialer.cli.context import CliContext, emit_json, pass_ctx
from dialer.demo.listgen import write_list
from dialer.demo.registry import load_demo_registry
from dialer.schema.migrate import upgrade
from dnc import settings
from dnc.errors import UserError
from dnc.scrub import DncScrubber


@click.group("bench")
def bench() -> None:
    """Benchmarks: generate realistic load, measure throughput and memory."""


bench.add_command(bench_pacing)
bench.add_command(bench_pacing_week)
bench.add_command(bench_plan)


def peak_rss_mb() -> float:
    """Peak resident set size of this process so far (Linux reports ru_maxrss in KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


@bench.command("import")
@click.option("--rows", type=click.IntRange(1, 50_000_000), default=1_000_000, show_default=True)
@click.option("--format", "fmt", type=click.Choice(["csv", "tsv", "pipe", "xlsx"]), default="csv", show_default=True)
@click.option("--database-url", "bench_url", default=None,
              help="A scratch database to import into (default: a fresh temporary SQLite file). Migrated first; the "
                   "bench campaign is deleted afterwards, but the audit ledger is append-only: the generated "
                   "registry's load and the scrub stay in it.")
@click.option("--scrub/--no-scrub", default=True, show_default=True,
              help="Scrub as `dialer leads import` does, against a generated national registry of the list's area "
                   "codes holding every 20th number of the list (--no-scrub: parsing and writing only).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@pass_ctx
def bench_import(ctx: CliContext, rows: int, fmt: str, bench_url: str | None, scrub: bool, as_json: bool) -> None:
    """Generate a messy N-row list (~5 % invalid, ~3 % duplicates) and import it end to end: rows/s, peak RSS."""
    if scrub and fmt == "xlsx":
        raise UserError("--scrub reads the generated list as text: use --no-scrub with --format xlsx")
    with tempfile.TemporaryDirectory(prefix="dialer-bench-") as tmp, _dnc_dir(Path(tmp) / "dnc"):
        url = bench_url or f"sqlite:///{Path(tmp) / 'bench.sqlite3'}"
        engine = make_engine(url)
        try:
            upgrade(engine)
            sessions = session_factory(engine)
            now = ctx.clock.now()
            name = f"bench-import-{now:%Y%m%dT%H%M%S%f}"
            with session_scope(sessions) as s:
                create_campaign(s, name, "+12125550100", now)
            suffix = {"pipe": ".psv"}.get(fmt, f".{fmt}")
            t0 = time.perf_counter()
            path = write_list(Path(tmp) / f"bench{suffix}", rows, fmt)
            gen_s = time.perf_counter() - t0
            file_mb = path.stat().st_size / 2**20
            scrubber = None
            if scrub:
                load_demo_registry(sessions, now, path)
                scrubber = DncScrubber(sessions, campaign=lambda s: get_campaign(s, name).id, at=now,
                                       operator="bench")
            rss_before = peak_rss_mb()
            t0 = time.perf_counter()
            result = import_leads(sessions, name, path, now=now, uploaded_by="bench", scrubber=scrubber)
            import_s = time.perf_counter() - t0
            rss_peak = peak_rss_mb()
            child_rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
            _drop_campaign(sessions, name)
        finally:
            engine.dispose()
    out = {"backend": engine.dialect.name, "rows": result.rows, "accepted": result.accepted,
           "duplicates": result.duplicates, "rejected": result.rejected, "suppressed": result.suppressed,
           "file_mb": round(file_mb, 1),
           "generate_s": round(gen_s, 2), "import_s": round(import_s, 2),
           "rows_per_s": round(result.rows / import_s), "peak_rss_mb": round(rss_peak, 1),
           "parser_peak_rss_mb": round(child_rss, 1), "rss_before_import_mb": round(rss_before, 1),
           "scrubbed": scrub}
    if as_json:
        emit_json(out)
        return
    click.echo(f"{out['backend']}: imported {result.rows:,} rows ({result.accepted:,} accepted, "
               f"{result.duplicates:,} duplicates, {result.rejected:,} rejected) in {import_s:.2f} s "
               f"= {out['rows_per_s']:,} rows/s ({'with' if scrub else 'without'} the DNC scrub); peak RSS "
               f"{rss_peak:.0f} MB (parser process {child_rss:.0f} MB) "
               f"(generating the {fmt} file took {gen_s:.1f} s)")


@contextmanager
def _dnc_dir(path: Path) -> Iterator[None]:
    """The bench's registry goes to its own directory, never over the installation's."""
    with settings.overridden(DIALER_DNC_DIR=str(path)):
        yield


def _drop_campaign(sessions, name: str) -> None:
    """Remove what the benchmark loaded so a shared database is left as it was."""
    with session_scope(sessions) as s:
        cid = s.scalar(select(Campaign.id).where(Campaign.name == name))
        list_ids = select(LeadList.id).where(LeadList.campaign_id == cid)
        s.execute(delete(RejectedRow).where(RejectedRow.list_id.in_(list_ids)))
        s.execute(delete(Lead).where(Lead.campaign_id == cid))
        s.execute(delete(LeadList).where(LeadList.campaign_id == cid))
        s.execute(delete(Disposition).where(Disposition.campaign_id == cid))
        s.execute(delete(Campaign).where(Campaign.id == cid))


@bench.command("dnc")
@click.option("--numbers", type=click.IntRange(1_000, 400_000_000), default=10_000_000, show_default=True,
              help="Registered numbers in the synthetic national registry (the real one: ~250 M).")
@click.option("--dir", "workdir", type=click.Path(path_type=Path, file_okay=False), default=None,
              help="Where the text file and the snapshot are written (default: the temp directory).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@pass_ctx
def bench_dnc(ctx: CliContext, numbers: int, workdir: Path | None, as_json: bool) -> None:
    """National registry at scale: text to snapshot, open, RSS, bulk scrub numbers/s, gate lookup p50/p99."""
    from dialer.bench.dnc import run

    out = run(numbers, ctx.clock.now(), workdir)
    if as_json:
        emit_json(out)
        return
    for k, v in out.items():
        click.echo(f"{k:28} {v:,}" if isinstance(v, int) else f"{k:28} {v}")


@bench.command("reports")
@click.option("--calls", type=click.IntRange(1_000, 100_000_000), default=10_000_000, show_default=True)
@click.option("--leads", type=click.IntRange(100, 20_000_000), default=1_000_000, show_default=True)
@click.option("--days", type=click.IntRange(30, 3650), default=42, show_default=True,
              help="Days of history the calls spread over (a 270-agent floor dials 10 M in about six weeks).")
@click.option("--lists", type=click.IntRange(1, 1000), default=20, show_default=True)
@click.option("--database-url", "bench_url", default=None,
              help="Database to load (default: a fresh temporary SQLite file; the target is PostgreSQL). "
                   "The benchmark campaign is removed afterwards unless --keep.")
@click.option("--keep", is_flag=True, help="Keep the generated campaign.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@pass_ctx
def bench_reports(ctx: CliContext, calls: int, leads: int, days: int, lists: int, bench_url: str | None, keep: bool,
                  as_json: bool) -> None:
    """Every report over 30 days of a generated history of CALLS calls and LEADS leads: seconds per report."""
    from dialer.bench.reports import run

    with tempfile.TemporaryDirectory(prefix="dialer-bench-") as tmp:
        url = bench_url or f"sqlite:///{Path(tmp) / 'bench.sqlite3'}"
        out = run(url, calls, leads, days, lists, ctx.clock.now(), keep,
                  None if as_json else lambda msg: click.echo(msg, err=True))
    if as_json:
        emit_json(out)
        return
    for k, v in out.items():
        if k != "reports":
            click.echo(f"{k:22} {v}")


@bench.command("funnel")
@click.option("--leads", type=click.IntRange(1_000, 20_000_000), default=1_000_000, show_default=True)
@click.option("--refreshes", type=click.IntRange(1, 100), default=5, show_default=True)
@click.option("--database-url", "bench_url", default=None,
              help="A scratch database (default: a fresh temporary SQLite file): the benchmark campaign is removed "
                   "afterwards, but its DNC and consent records (campaign scope) stay in the audit ledger.")
@click.option("--keep", is_flag=True, help="Keep the generated campaign.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@pass_ctx
def bench_funnel(ctx: CliContext, leads: int, refreshes: int, bench_url: str | None, keep: bool,
                 as_json: bool) -> None:
    """Refresh time of the dialable funnel on a generated campaign of LEADS leads (first, warm, incremental)."""
    from dialer.bench.funnel import run

    with tempfile.TemporaryDirectory(prefix="dialer-bench-") as tmp:
        url = bench_url or f"sqlite:///{Path(tmp) / 'bench.sqlite3'}"
        out = run(url, leads, ctx.clock.now(), Path(tmp), keep, refreshes,
                  None if as_json else lambda msg: click.echo(msg, err=True))
    if as_json:
        emit_json(out)
        return
    for k, v in out.items():
        click.echo(f"{k:24} {v}")


@bench.command("signin")
@click.option("--clients", type=click.IntRange(0, 64), default=8, show_default=True,
              help="Clients signing in at once, each in a loop.")
@click.option("--seconds", type=click.FloatRange(2, 3600), default=20, show_default=True,
              help="How long the dial-loop writer runs (and the load with it).")
@click.option("--poll-s", type=click.FloatRange(0.1, 60), default=1.0, show_default=True,
              help="A manager polls the floor this often.")
@click.option("--workers", type=click.IntRange(1, 16), default=2, show_default=True, help="Console processes.")
@click.option("--threads", type=click.IntRange(1, 64), default=8, show_default=True, help="Threads per process.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@pass_ctx
def bench_signin(ctx: CliContext, clients: int, seconds: float, poll_s: float, workers: int, threads: int,
                 as_json: bool) -> None:
    """SQLite contention: N clients signing in and a floor polled; the dial loop's write latency p50/p99/max."""
    from dialer.bench.signin import run

    out = run(clients, seconds, poll_s, workers, threads, ctx.clock.now())
    if as_json:
        emit_json(out)
        return
    click.echo(f"{out['clients']} clients signing in ({out['sign_ins']} sign-ins, p50 {out['sign_in_p50_ms']} ms) "
               f"and a floor polled ({out['floor_polls']} polls, p50 {out['floor_poll_p50_ms']} ms) for "
               f"{out['seconds']:g} s ({out['errors']} requests failed): the dial loop's {out['writes']} writes took "
               f"p50 {out['write_p50_ms']} ms, "
               f"p99 {out['write_p99_ms']} ms, max {out['write_max_ms']} ms")


@bench.command("jobs-contention")
@click.option("--calls", type=click.IntRange(1_000, 50_000_000), default=200_000, show_default=True,
              help="Calls of the generated 30-day history the jobs read.")
@click.option("--leads", type=click.IntRange(1_000, 20_000_000), default=40_000, show_default=True)
@click.option("--seconds", type=click.FloatRange(2, 3600), default=60, show_default=True,
              help="How long the dial-loop writer runs while the jobs run on their schedules.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@pass_ctx
def bench_jobs_contention(ctx: CliContext, calls: int, leads: int, seconds: float, as_json: bool) -> None:
    """SQLite contention: the worker's periodic jobs on their schedules; the dial loop's write latency p50/p99/max
    and each job's longest write transaction."""
    from dialer.bench.jobs import run

    out = run(calls, leads, 30, seconds, ctx.clock.now(), None if as_json else lambda m: click.echo(m, err=True))
    if as_json:
        emit_json(out)
        return
    click.echo(f"the worker's jobs for {out['seconds']:g} s: the dial loop's {out['writes']} writes took "
               f"p50 {out['write_p50_ms']} ms, p99 {out['write_p99_ms']} ms, max {out['write_max_ms']} ms")
    for name, j in out["jobs"].items():
        click.echo(f"  {name:26} longest write transaction {j['max_ms']:9.1f} ms  ({j['transactions']} "
                   f"transactions, p50 {j['p50_ms']} ms)")


@bench.command("scale")
@click.option("--carrier", type=click.Choice(["twilio", "sim"]), default="twilio", show_default=True,
              help="twilio: the fake Twilio, a worker killed midway; sim: the simulated carrier at floor size.")
@click.option("--workers", type=click.IntRange(1, 32), default=3, show_default=True)
@click.option("--campaigns", type=click.IntRange(1, 100), default=8, show_default=True)
@click.option("--agents", type=click.IntRange(1, 9999), default=400, show_default=True)
@click.option("--cps", type=click.FloatRange(0.1, 100), default=20.0, show_default=True,
              help="Twilio only: the account's calls-per-second limit, shared by the workers.")
@click.option("--minutes", type=click.FloatRange(0.1, 120), default=10.0, show_default=True)
@click.option("--create-latency-ms", type=click.FloatRange(0, 5000), default=0.0, show_default=True,
              help="Twilio only: the fake's time to answer a create (when the fake supports it).")
@click.option("--jitter-ms", type=click.FloatRange(0, 5000), default=0.0, show_default=True)
@click.option("--kill-worker-at", type=click.FloatRange(1), default=None,
              help="Twilio only: SIGKILL one worker this many seconds in; its campaigns must move.")
@click.option("--database-url", "bench_url", required=True, help="A PostgreSQL database (migrated first).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def bench_scale(carrier: str, workers: int, campaigns: int, agents: int, cps: float, minutes: float,
                create_latency_ms: float, jitter_ms: float, kill_worker_at: float | None, bench_url: str,
                as_json: bool) -> None:
    """Several dialing workers on one PostgreSQL: throughput, the 2-second connect, takeover, the database's
    own checks (no double dial, no lost callback, no call left open)."""
    if not bench_url.startswith("postgresql"):
        raise UserError("--database-url must name a PostgreSQL database: SQLite runs one dialing worker")
    say = None if as_json else (lambda m: click.echo(m, err=True))
    if carrier == "twilio":
        from dialer.bench.scale import run

        out = run(bench_url, workers, campaigns, agents, cps, minutes * 60, kill_worker_at, create_latency_ms,
                  jitter_ms, say)
    else:
        from dialer.bench.scale_sim import run as run_sim

        out = run_sim(bench_url, workers, campaigns, agents, minutes * 60, say)
    if as_json:
        emit_json(out)
        return
    for k, v in out.items():
        click.echo(f"{k:30} {v}")
