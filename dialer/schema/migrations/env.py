"""Alembic environment: one schema, two metadata sets (``campaigns`` and ``dnc``), several branches.

Each concern has its own branch label (``core``, ``dnc`` …) so independent features add revisions without
fighting over one head; ``dialer db upgrade`` applies ``heads``.
"""

from alembic import context
from sqlalchemy import engine_from_config, pool

import campaigns.tables  # noqa: F401  (registers every table module)
from campaigns.db import Base
from dnc.db import DncBase

config = context.config


def render_item(type_, obj, autogen_context):
    """Render our UTC column type as a plain DateTime so migrations never import application code."""
    if type_ == "type" and obj.__class__.__name__ == "UTCDateTime":
        return "sa.DateTime()"
    return False

target_metadata = [Base.metadata, DncBase.metadata]


def run_migrations_offline() -> None:
    context.configure(url=config.get_main_option("sqlalchemy.url"), target_metadata=target_metadata,
                      literal_binds=True, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = engine_from_config(config.get_section(config.config_ini_section, {}), prefix="sqlalchemy.",
                                poolclass=pool.NullPool)
    with engine.connect() as conn:
        _run(conn)


def _run(connection) -> None:
    context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True,
                      compare_type=True, render_item=render_item)
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
