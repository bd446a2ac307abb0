"""What every command needs: the database, sessions and the clock, created lazily from the environment."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cached_property

import click
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from campaigns.db import make_engine, session_factory, session_scope
from dialer.clock import Clock, clock_from_env
from dnc.errors import UserError


class CliContext:
    def __init__(self, database_url: str | None = None, clock: Clock | None = None) -> None:
        self.database_url = database_url
        if clock is None:
            try:
                clock = clock_from_env()  # the demo's accelerated clock, when it is set
            except ValueError as e:
                raise UserError(str(e)) from None
        self.clock: Clock = clock

    @cached_property
    def engine(self) -> Engine:
        return make_engine(self.database_url)

    @contextmanager
    def session(self) -> Iterator[Session]:
        with session_scope(session_factory(self.engine)) as s:
            yield s


pass_ctx = click.make_pass_decorator(CliContext, ensure=True)


def emit_json(obj) -> None:
    """Print exactly one JSON object on one line of stdout (what ``--json`` promises scripts)."""
    sys.stdout.write(json.dumps(obj, default=str, sort_keys=False) + "\n")


def table(rows: list[dict], columns: list[str] | None = None) -> str:
    if not rows:
        return "(none)"
    columns = columns or list(rows[0])
    widths = {c: max(len(c), *(len(_cell(r.get(c))) for r in rows)) for c in columns}
    lines = ["  ".join(c.ljust(widths[c]) for c in columns), "  ".join("-" * widths[c] for c in columns)]
    lines += ["  ".join(_cell(r.get(c)).ljust(widths[c]) for c in columns) for r in rows]
    return "\n".join(lines)


def _cell(v) -> str:
    if v is None:
        return "—"
    if isinstance(v, float):
        return f"{v:.4g}"
    return str(v)
