"""One linear migration history: a single head; a database built at the first round's six heads upgrades through
the merge without a change; ``dialer db revision`` writes the next migration after the head, from the models."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text

from campaigns.db import make_engine
from dialer.schema import migrate
from dialer.schema.migrate import alembic_config, current, head, upgrade
from tests.dialer.schema.conftest import scratch_database

FIRST_ROUND_HEADS = ("d0001", "f0003", "l0002", "r0004", "t0002", "w0002")


def test_the_history_has_one_head_and_it_is_linear_after_the_merge():
    scripts = ScriptDirectory.from_config(alembic_config("sqlite://"))
    assert scripts.get_heads() == [head()]
    merge = scripts.get_revision("m0001")
    assert set(merge.down_revision) == set(FIRST_ROUND_HEADS)
    later = [r for r in scripts.walk_revisions() if r.revision != "m0001" and "m0001" in
             {a.revision for a in scripts.iterate_revisions(r.revision, "base")}]
    assert all(isinstance(r.down_revision, str) for r in later)  # nothing after the merge branches again


@pytest.fixture
def blank_url(request, tmp_path):
    """An empty database: SQLite, and PostgreSQL when the suite has one (a database of its own, dropped after)."""
    from tests.conftest import PG_URL

    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'old.sqlite3'}"
        return
    if not PG_URL:
        pytest.skip("PostgreSQL is not configured (DIALER_TEST_DATABASE_URL)")
    with scratch_database("history") as url:  # named for this test session
        yield url


@pytest.mark.parametrize("blank_url", ["sqlite", "postgresql"], indirect=True)
def test_a_database_built_at_the_first_rounds_heads_upgrades_to_the_one_history(blank_url):
    engine = make_engine(blank_url)
    try:
        for rev in FIRST_ROUND_HEADS:  # what `dialer db upgrade` left before the merge
            upgrade(engine, rev)
        assert current(engine) == set(FIRST_ROUND_HEADS)
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO campaigns (name, caller_id, region, timezone, status, pacing_mode, "
                              "power_ratio, abandon_target, max_attempts, retry_no_answer_s, retry_busy_s, "
                              "retry_machine_s, calling_hours, dedupe_scope, seller_name, callback_number, "
                              "machine_action, voicemail_message, local_presence, caller_id_daily_cap, "
                              "spam_flag_threshold, created_at, updated_at) VALUES ('Kept', '+12125550100', 'US', "
                              "'America/New_York', 'draft', 'predictive', 2, 0.03, 5, 1, 1, 1, 'strictest', "
                              "'campaign', '', '', 'hangup', '', false, 150, 3, '2030-01-08', '2030-01-08')"))
        tables_before = set(inspect(engine).get_table_names())
        upgrade(engine)
        assert current(engine) == {head()}
        assert tables_before <= set(inspect(engine).get_table_names())
        with engine.connect() as conn:
            assert conn.execute(text("SELECT name FROM campaigns")).scalars().all() == ["Kept"]
    finally:
        engine.dispose()


def test_dialer_db_revision_writes_the_next_migration_from_the_models(dialer, db_url, tmp_path, monkeypatch):
    copy = tmp_path / "migrations"
    shutil.copytree(migrate.MIGRATIONS, copy, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setattr(migrate, "MIGRATIONS", copy)
    before = head()
    r = dialer("db", "revision", "-m", "add a column")
    assert r.code == 0, r.err
    written = Path(r.out.split("wrote ", 1)[1].strip())
    assert written.parent == copy / "versions" and written.name.endswith("_add_a_column.py")
    body = written.read_text()
    assert f"down_revision: Union[str, Sequence[str], None] = '{before}'" in body
    assert head() == written.name.split("_", 1)[0]  # the new revision is the one head
    assert "    pass" in body.split("def upgrade")[1].split("def downgrade")[0]  # the models match the head: no drift


def test_dialer_db_revision_refuses_a_database_behind_the_head(dialer, tmp_path, monkeypatch):
    monkeypatch.setenv("DIALER_DATABASE_URL", f"sqlite:///{tmp_path / 'behind.sqlite3'}")
    upgrade(make_engine(f"sqlite:///{tmp_path / 'behind.sqlite3'}"), "c0001")
    r = dialer("db", "revision", "-m", "x")
    assert r.code == 2 and "run `dialer db upgrade` first" in r.err
