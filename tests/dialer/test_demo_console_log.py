"""`make demo` keeps answering however long it runs: the console's access log must not fill a pipe nobody reads.

The demo reads the console's first line (its "listening on" address) from a pipe; every request after that writes an
access-log line to the same stdout. A pipe holds 64 KiB, so a floor page polling every 3 s (or a few hundred clicks)
filled it and froze every console thread in ``write``: the demo stopped answering, sign-in included.
"""

from __future__ import annotations

import socket
import time
import urllib.request

import pytest

from dialer.demo.launch import DEMO_DIR, launch, stop

pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_the_demo_console_answers_after_more_than_a_pipe_of_access_log(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    demo = launch("127.0.0.1", _free_port(), 4.0, 0, 50, say=lambda _text: None)
    try:
        padding = "x" * 4000  # each access-log line carries the query string: 40 requests write ~160 KiB
        for i in range(40):
            with urllib.request.urlopen(f"{demo.url}/login?n={i}&pad={padding}", timeout=10) as r:
                assert r.status == 200, f"request {i}"
        with urllib.request.urlopen(f"{demo.url}/login?last=1", timeout=10) as r:
            assert r.status == 200
        log = tmp_path / DEMO_DIR / "console.log"  # where the demo says its logs are
        deadline = time.monotonic() + 10  # gunicorn writes the line after the response; the demo copies it then
        while "/login?last=1" not in log.read_text() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert "/login?last=1" in log.read_text()
    finally:
        stop(demo)
