"""`dialer demo --serve` stopped with SIGTERM (a process manager, `kill`, a closed terminal's session) stops its worker
and console too, as Ctrl-C does: left running, they kept the port and the database, so the next `make demo` said the
port was in use after deleting the database under them."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time

import pytest

pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _answers(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(1)
        return s.connect_ex(("127.0.0.1", port)) == 0


def _children_of(pid: int) -> list[int]:
    out = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    if int(f.read().rsplit(")", 1)[1].split()[1]) == pid:
                        out.append(int(entry))
            except (OSError, ValueError, IndexError):
                continue
    return out


def test_sigterm_stops_the_demos_worker_and_console(tmp_path):
    port, children = _free_port(), []
    demo = subprocess.Popen([sys.executable, "-m", "dialer", "demo", "--serve", "--port", str(port), "--rows", "50",
                             "--agents", "0"], cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    try:
        for line in demo.stdout:
            if "console at" in line:
                break
        assert _answers(port)
        children = _children_of(demo.pid)
        assert children, "the demo runs its worker and console as child processes"
        demo.send_signal(signal.SIGTERM)
        demo.wait(timeout=60)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and (_answers(port) or any(os.path.exists(f"/proc/{c}") for c in children)):
            time.sleep(0.5)
        alive = [c for c in children if os.path.exists(f"/proc/{c}")]
        assert not alive and not _answers(port), f"left running: {alive}"
    finally:  # whatever the outcome, nothing of this demo outlives the test
        for pid in [*children, demo.pid]:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)  # gunicorn's master takes its workers with it on SIGTERM
        demo.wait(timeout=30)
