"""How long a SQLite connection waits for another process's write lock is the operator's setting
(``DIALER_SQLITE_BUSY_TIMEOUT_S``), not a constant: a floor whose console holds the lock for long reports wants a
longer wait, a test or a script that would rather fail fast a shorter one."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from campaigns.db import make_engine, read_engine
from dnc import settings
from dnc.errors import UserError


def _busy_ms(engine) -> int:
    with engine.connect() as conn:
        return conn.execute(text("PRAGMA busy_timeout")).scalar_one()


def test_the_busy_timeout_is_30_s_unless_set(tmp_path):
    with settings.overridden(DIALER_SQLITE_BUSY_TIMEOUT_S=None):
        engine = make_engine(f"sqlite:///{tmp_path / 'd.sqlite3'}")
        try:
            assert _busy_ms(engine) == 30_000
            assert _busy_ms(read_engine(engine)) == 30_000
        finally:
            engine.dispose()


def test_the_busy_timeout_follows_the_setting_on_both_engines(tmp_path):
    with settings.overridden(DIALER_SQLITE_BUSY_TIMEOUT_S="5"):
        engine = make_engine(f"sqlite:///{tmp_path / 'd.sqlite3'}")
        try:
            assert _busy_ms(engine) == 5_000  # the product's engine (IMMEDIATE transactions)
            assert _busy_ms(read_engine(engine)) == 5_000  # and the lock-free reader beside it
        finally:
            engine.dispose()


@pytest.mark.parametrize("raw", ["0", "soon", "-3", "86401"])
def test_a_busy_timeout_that_is_not_whole_seconds_in_range_is_refused_in_words(raw):
    with settings.overridden(DIALER_SQLITE_BUSY_TIMEOUT_S=raw), pytest.raises(UserError) as e:
        make_engine("sqlite:///:memory:")
    assert str(e.value).startswith("DIALER_SQLITE_BUSY_TIMEOUT_S=")
