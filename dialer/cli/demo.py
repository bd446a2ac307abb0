"""``dialer demo``: migrate, create the demo campaign, generate and import a sample list, print its receipt; with
``--serve``, the whole product on this workstation (what ``make demo`` runs, ``dialer.demo.launch``)."""

from __future__ import annotations

from pathlib import Path

import click

from campaigns.db import session_factory
from dialer.cli.context import CliContext, emit_json, pass_ctx
from dialer.cli.leads import _default_scrubber, summary
from dialer.demo.campaign import DEMO_CAMPAIGN, run_demo
from dialer.schema.migrate import upgrade


@click.command("demo")
@click.option("--rows", type=click.IntRange(1, 5_000_000), default=5_000, show_default=True,
              help="Rows in the generated sample list.")
@click.option("--dir", "workdir", type=click.Path(path_type=Path, file_okay=False), default=Path("var/demo"),
              show_default=True, help="Where the generated list is written.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.option("--serve", is_flag=True,
              help="A fresh demo in var/demo/ with its own database, worker and console (Ctrl-C stops it).")
@click.option("--host", default="127.0.0.1", show_default=True, help="With --serve: the console's address.")
@click.option("--port", type=click.IntRange(0, 65535), default=5000, show_default=True,
              help="With --serve: the console's port.")
@click.option("--speed", type=click.FloatRange(0.1, 50), default=4.0, show_default=True,
              help="With --serve: virtual seconds per real second.")
@click.option("--agents", type=click.IntRange(0, 500), default=19, show_default=True,
              help="With --serve: simulated agents besides your seat (they staff campaign Demo).")
@click.option("--staff-every-campaign", is_flag=True,
              help="With --serve: simulated agents staff every campaign started, not only Demo (a campaign you "
                   "create gets --agents of them too).")
@pass_ctx
def demo(ctx: CliContext, rows: int, workdir: Path, as_json: bool, serve: bool, host: str, port: int, speed: float,
         agents: int, staff_every_campaign: bool) -> None:
    """Load a generated sample campaign (SQLite by default) and show how its list was imported; or, with --serve,
    run the whole product on this workstation."""
    if serve:
        from dialer.demo.launch import serve_demo

        serve_demo(host, port, speed, agents, rows, staff_every_campaign)
        return
    upgrade(ctx.engine)
    out = run_demo(session_factory(ctx.engine), ctx.clock.now(), workdir, rows,
                   scrubber=_default_scrubber(ctx, DEMO_CAMPAIGN, "demo"))
    if as_json:
        emit_json({"campaign": out.campaign, "file": str(out.file), **out.result.as_dict()})
        return
    verb = "created" if out.created else "reused"
    click.echo(f"{verb} campaign {out.campaign!r}; generated {out.file} ({rows:,} rows)")
    click.echo(summary(out.result))
    click.echo("next:")
    click.echo(f"  dialer leads lists --campaign {out.campaign}")
    click.echo(f"  dialer leads rejects --campaign {out.campaign} --list '{out.result.list_name}' -o rejects.csv")
