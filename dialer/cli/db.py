"""``dialer db``: schema management."""

import click

from dialer.cli.context import CliContext, pass_ctx
from dialer.schema.migrate import current, revision, upgrade


@click.group("db")
def db() -> None:
    """Create or upgrade the database schema (Alembic migrations)."""


@db.command("upgrade")
@pass_ctx
def db_upgrade(ctx: CliContext) -> None:
    """Apply every pending migration (SQLite under ./var/ unless DIALER_DATABASE_URL is set)."""
    upgrade(ctx.engine)
    where = ctx.engine.url.render_as_string(hide_password=True)
    click.echo(f"database at {where} is at {', '.join(sorted(current(ctx.engine)))}")


@db.command("current")
@pass_ctx
def db_current(ctx: CliContext) -> None:
    """Show the applied revision(s)."""
    heads = current(ctx.engine)
    click.echo(", ".join(sorted(heads)) if heads else "empty database: run `dialer db upgrade`")


@db.command("revision")
@click.option("-m", "--message", required=True, help="What the migration does, in a few words.")
@click.option("--autogenerate/--empty", default=True, show_default=True,
              help="Write the operations from the difference between the models and the database.")
@pass_ctx
def db_revision(ctx: CliContext, message: str, autogenerate: bool) -> None:
    """Write the next migration (after a change to a models.py). Review the file before committing it."""
    path = revision(ctx.engine, message, autogenerate)
    click.echo(f"wrote {path}")
