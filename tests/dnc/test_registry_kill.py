"""A ``dialer dnc sync`` killed midway through a fetch (SIGKILL, no chance to clean up) leaves nothing the gate would
read: the host keeps refusing with ``registry_unavailable`` and the next sync fetches it whole."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from dnc.gate import evaluate
from dnc.registry import Store, generate, load_full
from dnc.tables import RegistryFile

NOON = datetime(2030, 1, 8, 17, 0, tzinfo=UTC)
CLI = "import sys; from dialer.cli import main; sys.exit(main(sys.argv[1:]))"


@pytest.mark.slow
def test_a_fetch_killed_midway_is_never_used_and_the_next_one_completes(session, db_url, tmp_path):
    a, b = Store(tmp_path / "host-a", auto_fetch=False), Store(tmp_path / "host-b", auto_fetch=False)
    path = generate(tmp_path / "r.txt", 1_500_000, seed=4, include=["+12125552123"]).path  # every area code
    load = load_full(session, a, [path], version_date=NOON.date(), loaded_by="ops", now=NOON)
    session.commit()
    size = session.scalar(select(RegistryFile.size).where(RegistryFile.generation == load.generation,
                                                          RegistryFile.name == "national.bits"))
    env = dict(os.environ, DIALER_DATABASE_URL=db_url, DIALER_DNC_DIR=str(b.root))
    proc = subprocess.Popen([sys.executable, "-c", CLI, "dnc", "sync", "--json"], env=env, cwd=tmp_path,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        seen = None
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and proc.poll() is None and seen is None:
            for part in (b.root / "generations").glob(".fetch-*/national.bits") if b.root.exists() else ():
                with_size = part.stat().st_size if part.exists() else 0
                if size // 10 < with_size < size * 9 // 10:
                    seen = with_size
            time.sleep(0.005)
        assert proc.poll() is None, f"the fetch finished before it could be killed: {proc.communicate()}"
        assert seen is not None, "never saw the fetch writing"
        proc.send_signal(signal.SIGKILL)
        proc.wait(30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == -signal.SIGKILL
    assert not b.has(load.generation) and b.current() is None
    assert list((b.root / "generations").glob(".fetch-*"))  # what the killed process left ...
    d = evaluate(session, "+12125552123", campaign=1, at=NOON, registry=b)
    assert d.codes == ("registry_unavailable",)  # ... is never read
    done = subprocess.run([sys.executable, "-c", CLI, "dnc", "sync", "--json", "--no-prune"], env=env, cwd=tmp_path,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["action"] == "fetched"
    assert not list((b.root / "generations").glob(".fetch-*"))
    assert evaluate(session, "+12125552123", campaign=1, at=NOON, registry=b).codes == ("national_dnc",)
    assert (b.root / "current" / "national.bits").read_bytes() == (a.root / "current" / "national.bits").read_bytes()
