"""Apply and add Alembic migrations programmatically (``dialer db upgrade|revision``, the demo and the tests).

The history is one line (``migrations/versions``; revision ``m0001`` joined the first round's branches), so
``head`` is a single revision and a new migration always follows it.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

from dnc.errors import UserError

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
FILE_TEMPLATE = "%%(rev)s_%%(slug)s"


def alembic_config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("file_template", FILE_TEMPLATE)
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def _config(engine: Engine) -> Config:
    return alembic_config(engine.url.render_as_string(hide_password=False))


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the schema behind ``engine`` to ``revision`` (the head by default)."""
    cfg = _config(engine)
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)


def current(engine: Engine) -> set[str]:
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as conn:
        return set(MigrationContext.configure(conn).get_current_heads())


def head() -> str:
    heads = ScriptDirectory.from_config(alembic_config("sqlite://")).get_heads()
    if len(heads) != 1:  # a contributor's branch met another one: merge them (alembic merge) before anything else
        raise UserError(f"the migration history has {len(heads)} heads ({', '.join(sorted(heads))}); it must have one")
    return heads[0]


def require_head(engine: Engine) -> None:
    """Refuse to run on a schema other than this code's head: new code on a database nobody upgraded would take
    campaigns and fail every dialing turn on a missing column (a worker restarted on a host updated first)."""
    at, want = current(engine), head()
    if at != {want}:
        where = engine.url.render_as_string(hide_password=True)
        raise UserError(f"the database at {where} is at {', '.join(sorted(at)) or 'no schema'}, this code needs "
                        f"{want}: run `dialer db upgrade` (docs/deploy.md, Upgrades), then start this again")


def next_revision_id() -> str:
    """Revision ids in order of creation, readable in a listing: ``r`` + UTC date and time."""
    return "r" + datetime.now(UTC).strftime("%Y%m%d%H%M%S")


def revision(engine: Engine, message: str, autogenerate: bool = True) -> Path:
    """Write the next migration after ``head``; with ``autogenerate``, from the difference between the models and
    the database behind ``engine`` (which must be at the head). Returns the new file."""
    if current(engine) != {head()}:
        raise UserError(f"the database is at {', '.join(sorted(current(engine))) or 'nothing'}, not at the head "
                        f"({head()}): run `dialer db upgrade` first, so only your change is in the new migration")
    cfg = _config(engine)
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        script = command.revision(cfg, message=message, autogenerate=autogenerate, rev_id=next_revision_id())
    return Path(script.path)  # type: ignore[union-attr]
