"""``dialer serve console|webhooks`` as real gunicorn processes: they answer, a 200 MB body is refused before it is
read (the serving processes' memory stays within 50 MB of idle), and phone numbers never reach the access log."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from dialer.cli.serve import mask_phones
from dnc import settings
from tests.dialer.carriers.twilio.support import env as twilio_env

BIG = 200 * 1024 * 1024


def test_phone_numbers_are_masked_in_log_lines():
    assert mask_phones("/compliance/lookup?number=%2B12125551234") == "/compliance/lookup?number=%2B121****"
    assert mask_phones("GET /x?to=+12125551234&n=2125559876") == "GET /x?to=+121****&n=212****"
    assert mask_phones("/campaigns/12/upload") == "/campaigns/12/upload"


def test_a_lead_search_by_name_is_masked_in_log_lines_as_a_number_is():
    """Who was searched for is as personal as who was called: the search words (``q``) and a sign-in link that
    carries them (``next``) are masked, in the request line and the referrer."""
    from dialer.cli.serve import mask_personal

    assert mask_personal("/leads/?q=Ann+Lee&status=open") == "/leads/?q=***&status=open"
    assert mask_personal("q=Ann%20Lee") == "q=***"
    assert mask_personal("/login?next=/leads/?q%3DAnn%2BLee") == "/login?next=***"
    assert mask_personal("https://dialer.example.com/leads/?status=open&q=Ann") == \
        "https://dialer.example.com/leads/?status=open&q=***"
    assert mask_personal("/compliance/lookup?number=%2B12125551234") == "/compliance/lookup?number=%2B121****"
    assert mask_personal("/reports/summary?campaign=3") == "/reports/summary?campaign=3"


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _family(master: int) -> list[int]:
    out = [master]
    for child in Path(f"/proc/{master}/task/{master}/children").read_text().split():
        out.append(int(child))
    return out


@pytest.fixture
def served(tmp_path):
    """A console on gunicorn (one worker, a migrated SQLite file, uploads up to 100 MB), its address, its process
    and its log."""
    url = f"sqlite:///{tmp_path / 'dialer.sqlite3'}"
    env = settings.child_environ(DIALER_DATABASE_URL=url, DIALER_VAR_DIR=str(tmp_path / "var"),
                                 DIALER_MAX_UPLOAD_MB="100",
                                 **twilio_env("https://dialer.example.com"))  # the webhooks live, signatures checked
    subprocess.run([sys.executable, "-m", "dialer", "db", "upgrade"], env=env, check=True, capture_output=True)
    log = (tmp_path / "console.log").open("w")
    proc = subprocess.Popen([sys.executable, "-m", "dialer", "serve", "console", "--bind", "127.0.0.1:0",
                             "--workers", "1", "--threads", "2"], env=env, stdout=subprocess.PIPE, stderr=log,
                            text=True)
    try:
        ready = proc.stdout.readline().strip()
        assert "listening on" in ready, (tmp_path / "console.log").read_text()
        yield ready.rsplit(" ", 1)[-1], proc, tmp_path / "console.log"
    finally:
        proc.terminate()
        proc.wait(30)
        log.close()


def _post_declared(base: str, path: str) -> bytes:
    """Declare a 200 MB body, send the headers and the first 64 KB, and read whatever the server answers."""
    host, port = base.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=30) as s:
        s.sendall(f"POST {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/x-www-form-urlencoded\r\n"
                  f"Content-Length: {BIG}\r\n\r\n".encode() + b"a" * 65536)
        return s.recv(4096)


def _post_chunked(base: str, path: str) -> int:
    """Stream 200 MB without a declared length; the server must stop reading at its limit and answer 413."""
    def body():
        chunk = b"a=" + b"b" * (1024 * 1024 - 2)
        for _ in range(BIG // len(chunk)):
            yield chunk

    try:
        return requests.post(base + path, data=body(), timeout=60,
                             headers={"Content-Type": "application/x-www-form-urlencoded",
                                      "X-Twilio-Signature": "c2lnbmVk"}).status_code  # makes the webhook read
    except requests.ConnectionError:
        return 413  # the server closed the connection after refusing: what a refusal looks like mid-upload


@pytest.mark.slow
def test_a_200_mb_post_is_refused_before_it_is_read_and_memory_stays_flat(served):
    base, proc, _log = served
    assert requests.get(base + "/login", timeout=10).status_code == 200
    time.sleep(0.5)
    idle = sum(_rss_mb(p) for p in _family(proc.pid))
    for path in ("/login", "/twilio/status", "/campaigns/1/upload", "/compliance/lookup"):
        answer = _post_declared(base, path)
        assert answer.startswith(b"HTTP/1.1 413"), (path, answer[:200])
    for path in ("/login", "/twilio/status"):
        assert _post_chunked(base, path) == 413, path
    grown = sum(_rss_mb(p) for p in _family(proc.pid)) - idle
    assert grown < 50, f"serving processes grew by {grown:.0f} MB"
    assert requests.get(base + "/login", timeout=10).status_code == 200  # and it still serves


@pytest.mark.slow
def test_the_access_log_masks_phone_numbers(served):
    base, proc, log = served
    requests.get(base + "/compliance/lookup?number=%2B12125551234", timeout=10, allow_redirects=False)
    requests.get(base + "/leads/?q=Annabelle+Leeward", timeout=10)  # to the sign-in page, the words in next=
    proc.terminate()
    proc.wait(30)
    text = log.read_text() + (proc.stdout.read() if proc.stdout else "")
    assert "/compliance/lookup?number=%2B121****" in text
    assert "2125551234" not in text
    assert "/leads/?q=***" in text and "/login?next=***" in text
    assert "Annabelle" not in text and "Leeward" not in text


@pytest.mark.slow
def test_gunicorn_logs_in_the_format_every_process_logs_in(tmp_path):
    """``DIALER_LOG_FORMAT=json`` is one JSON object per line for a log shipper: gunicorn's own lines (listening,
    booting workers, stopping) and the access log too, not only what the app logs."""
    url = f"sqlite:///{tmp_path / 'dialer.sqlite3'}"
    env = settings.child_environ(DIALER_DATABASE_URL=url, DIALER_VAR_DIR=str(tmp_path / "var"),
                                 DIALER_LOG_FORMAT="json", **twilio_env("https://dialer.example.com"))
    subprocess.run([sys.executable, "-m", "dialer", "db", "upgrade"], env=env, check=True, capture_output=True)
    proc = subprocess.Popen([sys.executable, "-m", "dialer", "serve", "webhooks", "--bind", "127.0.0.1:0",
                             "--workers", "1", "--threads", "2"], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        ready = proc.stdout.readline().strip()  # the one line scripts wait for, as the other commands print theirs
        assert "listening on" in ready
        assert requests.get(ready.rsplit(" ", 1)[-1] + "/healthz", timeout=10).status_code == 200
    finally:
        proc.terminate()
        out, err = proc.communicate(timeout=30)
    lines = [x for x in (out + err).splitlines() if x.strip()]
    records = []
    for line in lines:
        try:
            records.append(json.loads(line))
        except ValueError:
            pytest.fail(f"not a JSON log line: {line!r}\n" + "\n".join(lines))
    messages = " | ".join(r["message"] for r in records)
    assert any("GET /healthz" in r["message"] for r in records), messages  # the access log
    assert any("Booting worker" in r["message"] for r in records), messages  # gunicorn's own log
    assert all({"time", "level", "logger", "pid", "message"} <= set(r) for r in records), records
