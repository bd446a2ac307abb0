"""New code on a database nobody upgraded: a worker restarted on a host whose code was updated first (a reboot,
``Restart=on-failure``, a rolling upgrade) must refuse to start, naming ``dialer db upgrade``, instead of taking
campaigns and failing every dialing turn on a missing column (seen: 434 failed turns in a minute, the campaign held
and not dialed)."""

from __future__ import annotations

import subprocess
import sys

import pytest
from alembic.script import ScriptDirectory

from campaigns.db import make_engine
from dialer.schema.migrate import alembic_config, head, upgrade
from dnc import settings


@pytest.fixture
def behind(tmp_path) -> str:
    url = f"sqlite:///{tmp_path / 'behind.sqlite3'}"
    previous = ScriptDirectory.from_config(alembic_config(url)).get_revision(head()).down_revision
    engine = make_engine(url)
    upgrade(engine, previous)
    engine.dispose()
    return url


@pytest.mark.parametrize("command", [["run", "--for", "5"], ["jobs", "serve"]], ids=["run", "jobs serve"])
def test_a_long_running_process_refuses_a_schema_behind_its_code(behind, tmp_path, command):
    env = settings.child_environ(DIALER_DATABASE_URL=behind, DIALER_DNC_DIR=str(tmp_path / "dnc"))
    r = subprocess.run([sys.executable, "-m", "dialer", *command], env=env, capture_output=True, text=True,
                       timeout=60, cwd=tmp_path)
    assert r.returncode == 2, (r.stdout, r.stderr[-2000:])
    assert "dialer db upgrade" in r.stderr and head() in r.stderr, r.stderr[-2000:]
    assert "Traceback" not in r.stderr
