"""``dialer report``: every report by name, the glossary, the stored daily reports and a rollup rebuild.

``dialer report NAME --campaign C --from D --to D [--by G] [--format table|csv|json|xlsx] [--chart F.png]``;
``summary`` prints one JSON object and ``list-close`` a JSON list (the shapes scripts rely on).
"""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import click

from campaigns.campaign.service import get_campaign
from campaigns.reports import charts, daily, export
from campaigns.reports.base import Report
from campaigns.reports.catalog import REPORTS, run_report
from campaigns.reports.metrics import GLOSSARY
from campaigns.reports.rollup import force_rebuild
from dialer.cli.context import CliContext, emit_json, pass_ctx, table
from dnc.errors import UserError

FORMATS = ("table", "csv", "json", "xlsx")


@click.group("report")
def report() -> None:
    """Reports: summary, hit rate, first-call close, list close, pass, abandon, agent time … (see `glossary`)."""


AT_HELP = ("Compute as of this instant (default now): ISO 8601 with an offset (2030-01-31T18:00:00+00:00), or "
           "without one in the campaign's time zone (2030-01-31T13:00).")


def parse_at(raw: str | None, ctx: CliContext, zone: str) -> datetime:
    """``--at``: an instant. Without an offset it is the campaign's own clock, as ``--from``/``--to`` days are and
    as a manager reads the floor; a local time the zone skips (spring) or repeats (autumn) is refused with the two
    offsets that would name it, rather than guessed."""
    if not raw:
        return ctx.clock.now()
    try:
        t = datetime.fromisoformat(raw.strip())
    except ValueError:
        raise UserError(f"--at {raw!r} is not an ISO date-time such as 2030-01-31T18:00 (the campaign's time zone, "
                        f"{zone}) or 2030-01-31T18:00:00+00:00") from None
    if t.tzinfo is not None:
        return t
    tz = ZoneInfo(zone)
    first, second = t.replace(tzinfo=tz, fold=0), t.replace(tzinfo=tz, fold=1)
    if first.utcoffset() == second.utcoffset():
        return first
    exists = first.astimezone(UTC).astimezone(tz).replace(tzinfo=None) == t
    why = "happens twice there (the clocks went back)" if exists else "does not exist there (the clocks skipped it)"
    local = t.isoformat()
    raise UserError(f"--at {raw!r}: {local} in the campaign's time zone {zone} {why}; give the offset you mean: "
                    f"{local}{_offset(first)} or {local}{_offset(second)}")


def _offset(t: datetime) -> str:
    return t.isoformat()[-6:]


def emit(rep: Report, fmt: str, output: Path | None, chart: Path | None) -> None:
    if chart is not None:
        charts.write(rep, chart)
    if fmt == "xlsx":
        if output is None:
            raise UserError("--format xlsx needs --output FILE.xlsx")
        export.to_xlsx(rep, output)
        return
    if fmt == "json":
        text = export.to_json(rep) + "\n"
    elif fmt == "csv":
        text = export.csv_text(rep)
    else:
        head = f"{rep.title}: {rep.campaign}, {rep.period.first_day} .. {rep.period.last_day} ({rep.period.tz})"
        notes = "".join(f"\n({n})" for n in rep.notes)
        if rep.single:
            rows = export.display_rows(rep)[0]
            width = max(len(k) for k in rows)
            text = head + notes + "\n" + "\n".join(f"{k.ljust(width)}  {v}" for k, v in rows.items()) + "\n"
        else:
            text = head + notes + "\n" + table(export.display_rows(rep), [c.label for c in rep.columns]) + "\n"
    _write(text, output)


def _make_command(name: str) -> click.Command:
    spec = REPORTS[name]
    params = [
        click.Option(["--campaign"], required=True, help="Campaign name."),
        click.Option(["--from", "first"], default=None, metavar="YYYY-MM-DD",
                     help="First day, in the campaign's time zone (default: 29 days before --to)."),
        click.Option(["--to", "last"], default=None, metavar="YYYY-MM-DD",
                     help="Last day, included (default: today in the campaign's time zone)."),
        click.Option(["--format", "fmt"], type=click.Choice(FORMATS), default="table", show_default=True),
        click.Option(["--json", "as_json"], is_flag=True, help="Same as --format json."),
        click.Option(["--output", "-o"], type=click.Path(path_type=Path, dir_okay=False), default=None,
                     help="Write to FILE instead of stdout (required for xlsx)."),
        click.Option(["--chart"], type=click.Path(path_type=Path, dir_okay=False), default=None,
                     help="Also draw the time series to FILE.png or FILE.svg."),
        click.Option(["--at"], default=None, metavar="ISO-TIME", help=AT_HELP),
    ]
    if spec.groups:
        params.insert(3, click.Option(["--by"], type=click.Choice(spec.groups), default=spec.default_by,
                                      show_default=True, help="Group rows by."))

    @pass_ctx
    def run(ctx: CliContext, campaign: str, first: str | None, last: str | None, fmt: str, as_json: bool,
            output: Path | None, chart: Path | None, at: str | None, by: str | None = None) -> None:
        with ctx.session() as s:
            now = parse_at(at, ctx, get_campaign(s, campaign).timezone)
            rep = run_report(s, name, campaign, now, first, last, by)
        emit(rep, "json" if as_json else fmt, output, chart)

    return click.Command(name, callback=run, params=params, help=f"{spec.title}: {spec.about}")


for _name in REPORTS:
    report.add_command(_make_command(_name))


@report.command("glossary")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def glossary(as_json: bool) -> None:
    """Every metric's definition: the words the README and the console show."""
    if as_json:
        emit_json(GLOSSARY)
        return
    width = max(len(k) for k in GLOSSARY)
    for k, v in GLOSSARY.items():
        click.echo(f"{k.ljust(width)}  {v}")


@report.command("rebuild")
@click.option("--campaign", required=True)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@pass_ctx
def rebuild_cmd(ctx: CliContext, campaign: str, as_json: bool) -> None:
    """Recompute the campaign's rollups from its calls (reports refresh on their own; this is for repairs)."""
    import time

    t0 = time.perf_counter()
    with ctx.session() as s:
        c = get_campaign(s, campaign)
        force_rebuild(s, c, ctx.clock.now())
    out = {"campaign": campaign, "rebuilt": True, "seconds": round(time.perf_counter() - t0, 2)}
    if as_json:
        emit_json(out)
    else:
        click.echo(f"rebuilt the report rollups of {campaign!r} in {out['seconds']} s")


@report.group("daily")
def daily_group() -> None:
    """The stored daily reports: list them, show or download one, generate one, run the scheduler job once."""


@daily_group.command("list")
@click.option("--campaign", required=True)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@pass_ctx
def daily_list(ctx: CliContext, campaign: str, as_json: bool) -> None:
    """Stored days, newest first, with their headline counts."""
    with ctx.session() as s:
        rows = daily.stored_days(s, campaign)
    items = [{"day": r.day.isoformat(), "generated_at": r.generated_at.isoformat(), "dials": r.dials,
              "contacts": r.contacts, "closes": r.closes} for r in rows]
    if as_json:
        emit_json({"campaign": campaign, "days": items})
    else:
        click.echo(table(items))


@daily_group.command("show")
@click.option("--campaign", required=True)
@click.option("--day", required=True, metavar="YYYY-MM-DD")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="table", show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Same as --format json.")
@click.option("--output", "-o", type=click.Path(path_type=Path, dir_okay=False), default=None,
              help="Write to FILE (required for xlsx: one sheet per section).")
@pass_ctx
def daily_show(ctx: CliContext, campaign: str, day: str, fmt: str, as_json: bool, output: Path | None) -> None:
    """Print or download a stored day exactly as it was generated."""
    with ctx.session() as s:
        row = daily.stored(s, campaign, day)
        sections = daily.sections_of(row)
        meta = {"campaign": row.data["campaign"], "day": row.day.isoformat(),
                "generated_at": row.generated_at.isoformat()}
    fmt = "json" if as_json else fmt
    if fmt == "xlsx":
        if output is None:
            raise UserError("--format xlsx needs --output FILE.xlsx")
        export.to_xlsx(sections, output)
    elif fmt == "json":
        obj = {**meta, "reports": {r.name: r.payload() for r in sections}}
        if output is None:
            emit_json(obj)
        else:
            _write(json.dumps(obj, default=str) + "\n", output)
    elif fmt == "csv":
        text = "".join(f"# {r.title}\n" + export.csv_text(r) + "\n" for r in sections)
        _write(text, output)
    else:
        click.echo(f"daily report of {meta['campaign']!r} for {meta['day']} (generated {meta['generated_at']})")
        for r in sections:
            emit(r, "table", None, None)
            click.echo()


def _write(text: str, output: Path | None) -> None:
    if output is None:
        sys.stdout.write(text)
        return
    try:
        output.write_text(text, encoding="utf-8")
    except OSError as e:
        raise UserError(f"{output}: cannot write ({e.strerror})") from None


@daily_group.command("generate")
@click.option("--campaign", required=True)
@click.option("--day", required=True, metavar="YYYY-MM-DD", help="Local day in the campaign's time zone.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@pass_ctx
def daily_generate(ctx: CliContext, campaign: str, day: str, as_json: bool) -> None:
    """Compute and store (or replace) one day's report."""
    from campaigns.reports.period import parse_day

    with ctx.session() as s:
        row = daily.generate(s, get_campaign(s, campaign), parse_day(day, "--day"), ctx.clock.now())
        out = {"campaign": campaign, "day": row.day.isoformat(), "generated_at": row.generated_at.isoformat()}
    if as_json:
        emit_json(out)
    else:
        click.echo(f"stored the daily report of {campaign!r} for {out['day']}")


@daily_group.command("run")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@pass_ctx
def daily_run(ctx: CliContext, as_json: bool) -> None:
    """Run the scheduler's daily-report job once now (under its lease): store every finished day still missing."""
    from campaigns.db import session_factory
    from dialer.jobs.reports import daily_reports_job
    from dialer.jobs.scheduler import LeasedRunner

    result = LeasedRunner(session_factory(ctx.engine), ctx.clock).run(daily_reports_job())
    if result.error:
        raise click.ClickException(f"the daily-report job failed: {result.error}")
    out = {"ran": result.ran, "stored": result.result or {}}
    if as_json:
        emit_json(out)
    elif not result.ran:
        click.echo("another process holds the daily-report job's lease; nothing done")
    else:
        stored = out["stored"]
        click.echo("stored: " + (", ".join(f"{c} {', '.join(d)}" for c, d in stored.items()) or "nothing new"))
