"""``dialer db``: schema management."""

import click

from dialer.cli.context import CliContext, pass_ctx
from dialer.schema.migrate import current, upgrade


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
