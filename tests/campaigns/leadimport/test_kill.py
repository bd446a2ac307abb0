"""An import killed midway (SIGKILL, no chance to clean up) leaves nothing of itself in the campaign."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select

from campaigns.leads.models import Lead, LeadList, RejectedRow
from dialer.demo.listgen import write_list

pytestmark = pytest.mark.skipif(not Path("/proc/self/fdinfo").exists(), reason="needs Linux /proc to see progress")


def _read_position(pid: int, path: Path) -> int | None:
    """Where the importing process is in the lead file (its file offset), or None before it opened it."""
    fd_dir = Path(f"/proc/{pid}/fd")
    try:
        for fd in fd_dir.iterdir():
            try:
                if Path(os.readlink(fd)) == path:
                    info = (Path(f"/proc/{pid}/fdinfo") / fd.name).read_text()
                    return int(info.split("pos:")[1].split()[0])
            except OSError:
                continue
    except OSError:
        return None
    return None


def _alive(pid: int) -> bool:
    try:
        return "State:\tZ" not in Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False


def _children(pid: int) -> list[int]:
    try:
        return [int(x) for x in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


@pytest.mark.slow
def test_sigkill_midway_leaves_campaign_unchanged(dialer, db_url, sessions, tmp_path):
    assert dialer("campaigns", "create", "Kill", "--caller-id", "+12125550100").code == 0
    small = tmp_path / "first.csv"
    small.write_text("name,phone\nAda,2125550101\nBo,2125550102\n")
    assert dialer("leads", "import", str(small), "--campaign", "Kill").code == 0

    big = (tmp_path / "big.csv").resolve()
    write_list(big, 400_000, seed=7)
    size = big.stat().st_size
    env = dict(os.environ, DIALER_DATABASE_URL=db_url)
    cli = "import sys; from dialer.cli import main; sys.exit(main(sys.argv[1:]))"
    proc = subprocess.Popen([sys.executable, "-c", cli, "leads", "import", str(big), "--campaign", "Kill"],
                            env=env, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        seen, parser = None, None
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and proc.poll() is None:
            # a file this big is parsed by a child process while the importer writes: wait until the child
            # is mid-file, so rows are being written inside the import's transaction when the kill comes
            for child in _children(proc.pid):
                pos = _read_position(child, big)
                if pos is not None and size // 10 < pos < size * 9 // 10:
                    seen, parser = pos, child
            if seen is not None:
                break
            time.sleep(0.005)
        assert proc.poll() is None, f"import finished before it could be killed: {proc.communicate()}"
        assert seen is not None, "never saw the import's parser reading the file"
        proc.send_signal(signal.SIGKILL)
        proc.wait(30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == -signal.SIGKILL
    for _ in range(300):  # the orphaned parser stops at its next write into the dead importer's pipe
        if not _alive(parser):
            break
        time.sleep(0.1)
    else:
        os.kill(parser, signal.SIGKILL)
        pytest.fail("the import's parser process outlived the killed importer")
    with sessions() as s:
        assert s.scalar(select(func.count()).select_from(LeadList)) == 1
        assert s.scalar(select(func.count()).select_from(Lead)) == 2
        assert s.scalar(select(func.count()).select_from(RejectedRow)) == 0
    again = dialer("leads", "import", str(big), "--campaign", "Kill", "--json")
    assert again.code == 0, again.err  # not refused as a repeat: the killed import stored nothing, not even its hash
