"""The ``dialer`` command. Each concern registers its group here; user mistakes become one line on stderr."""

from __future__ import annotations

import sys

import click
from sqlalchemy.exc import OperationalError, ProgrammingError

from dialer import logs
from dialer.cli.audit import audit
from dialer.cli.bench import bench
from dialer.cli.callbacks import callbacks_group
from dialer.cli.callerid import callerid_group
from dialer.cli.calls import calls
from dialer.cli.campaigns import campaigns
from dialer.cli.context import CliContext
from dialer.cli.db import db
from dialer.cli.demo import demo
from dialer.cli.dnc_report import dnc
from dialer.cli.jobs import jobs
from dialer.cli.lead_records import register as register_lead_records
from dialer.cli.leads import leads
from dialer.cli.lists import lists_group
from dialer.cli.plan import plan
from dialer.cli.report import report
from dialer.cli.run import run_worker
from dialer.cli.serve import serve
from dialer.cli.simulate import simulate
from dialer.cli.twilio import twilio
from dialer.cli.users import users
from dnc import settings
from dnc.errors import UserError
from dnc.settings import LOG_LEVELS

LONG_RUNNING = ("run", "serve", "jobs", "demo")


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 110})
@click.option("--database-url", default=None,
              help="SQLAlchemy URL (default: DIALER_DATABASE_URL, else SQLite at ./var/dialer.sqlite3).")
@click.option("--log-level", type=click.Choice(LOG_LEVELS, case_sensitive=False), default=None,
              help="debug, info, warning or error (default: DIALER_LOG_LEVEL, else info).")
@click.pass_context
def cli(ctx: click.Context, database_url: str | None, log_level: str | None) -> None:
    """Open-source predictive dialer: campaigns, lead lists, DNC/TCPA compliance, pacing, Twilio, console."""
    # long-running processes tell what they do; one-shot commands keep stderr for what went wrong
    service = ctx.invoked_subcommand in LONG_RUNNING
    logs.configure(log_level.lower() if log_level else None, default="info" if service else "warning")
    ctx.obj = CliContext(database_url or settings.current().database_url)


for group in (db, campaigns, twilio, leads, bench, demo, users, dnc, audit, report, calls, simulate, run_worker,
              callerid_group, callbacks_group, jobs, serve, plan, lists_group):
    cli.add_command(group)
register_lead_records(leads)  # dialer leads search|show|edit|dnc


def _adopt_running_demo(argv: list[str]) -> None:
    """With no database named, a demo running from this directory is the one meant: use its env.sh (database,
    registry, clock) and say so on stderr, so `dialer campaigns funnel Demo` agrees with the demo's console."""
    from dialer.demo.launch import DEMO_DIR, running_demo

    if settings.current().get("DIALER_DATABASE_URL") or "--database-url" in argv or (argv[:1] == ["demo"]):
        return
    values = running_demo()
    if values:
        settings.use(settings.current().replace(**values))
        click.echo(f"(using the running demo: {DEMO_DIR}/env.sh)", err=True)


def main(argv: list[str] | None = None) -> int:
    try:
        settings.load()  # this invocation's environment (the tests run many in one process)
        _adopt_running_demo(argv if argv is not None else sys.argv[1:])
        rv = cli.main(args=argv, prog_name="dialer", standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        return 130
    except click.ClickException as e:
        e.show()
        return e.exit_code
    except UserError as e:
        click.echo(f"error: {e}", err=True)
        return 2
    except (OperationalError, ProgrammingError) as e:
        msg = str(e.orig).strip().splitlines()[0] if e.orig else str(e)
        if msg.startswith(("FATAL:", "connection")) and "database" in msg and "does not exist" in msg:
            hint = " (create it first: `createdb`, docs/deploy.md; `dialer db upgrade` makes the tables in it)"
        elif "no such table" in msg or "does not exist" in msg:
            hint = " (run `dialer db upgrade` first?)"
        else:
            hint = ""
        click.echo(f"error: database: {msg}{hint}", err=True)
        return 2
    except BrokenPipeError:
        return 0
    # ctx.exit(n) comes back as n when click is not standalone (commands return None otherwise)
    return rv if isinstance(rv, int) and not isinstance(rv, bool) else 0


if __name__ == "__main__":
    sys.exit(main())
