"""The product's edges as an attacker on the network or a careless operator meets them: secrets that must not be the
example's placeholders, and the compliance officer's uploads (body limits as served, file names from the client)."""

from __future__ import annotations

import io
import re
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import select

from dialer.carriers.twilio.config import problems
from dnc import settings
from dnc.errors import UserError
from dnc.tables import ListLoad
from tests.dialer.carriers.twilio.support import env as twilio_env

EXAMPLE = Path(__file__).resolve().parents[2] / "deploy" / "dialer.env.example"


def example_value(name: str) -> str:
    m = re.search(rf"^{name}=(.*)$", EXAMPLE.read_text(), re.M)
    assert m, name
    return m.group(1)


# --- secrets --------------------------------------------------------------------------------------------------
def test_the_example_secret_key_is_refused_when_the_console_starts(app_config, tmp_path):
    """A copy of deploy/dialer.env.example left as it is must not sign sessions with a key everybody can read."""
    from web import create_app

    config = {k: v for k, v in app_config.items() if k != "SECRET_KEY"}
    with settings.overridden(DIALER_SECRET_KEY=example_value("DIALER_SECRET_KEY")), \
            pytest.raises(UserError, match="DIALER_SECRET_KEY.*placeholder"):
        create_app(config)
    with settings.overridden(DIALER_SECRET_KEY="change-me-" + "x" * 40), pytest.raises(UserError, match="placeholder"):
        create_app(config)


def test_dialer_serve_console_with_the_example_secret_exits_with_a_clear_message(tmp_path):
    env = settings.child_environ(DIALER_DATABASE_URL=f"sqlite:///{tmp_path / 'd.sqlite3'}",
                                 DIALER_VAR_DIR=str(tmp_path / "var"),
                                 DIALER_SECRET_KEY=example_value("DIALER_SECRET_KEY"))
    try:
        done = subprocess.run([sys.executable, "-m", "dialer", "serve", "console", "--bind", "127.0.0.1:0",
                               "--workers", "1"], env=env, capture_output=True, text=True, timeout=20)
    except subprocess.TimeoutExpired:
        pytest.fail("the console started with the example's secret key")
    assert done.returncode == 2, done.stderr[-2000:]
    assert "DIALER_SECRET_KEY" in done.stderr and "placeholder" in done.stderr
    assert "listening on" not in done.stdout


@pytest.mark.parametrize("name", ["TWILIO_AUTH_TOKEN", "TWILIO_API_SECRET"])
def test_twilio_secrets_left_as_the_examples_placeholder_are_a_problem(name):
    """An auth token of ``CHANGE-ME`` would let anyone who read the example sign webhooks."""
    env = twilio_env("https://dialer.example.com") | {name: example_value(name)}
    found = problems(env)
    assert any(name in p and "placeholder" in p for p in found), found


# --- compliance uploads ---------------------------------------------------------------------------------------
@pytest.fixture
def served_app(app_config, seed_users):
    """The console behind the same body limits ``dialer serve console`` puts in front of it."""
    from web import create_app
    from web.wsgi import limited

    return limited(create_app(app_config), 100)


def _upload_list(app, data: bytes, filename: str):
    from tests.web.conftest import AuthActions

    auth = AuthActions(app.test_client())
    auth.login("compliance")
    return auth.post("/compliance/load/list", {"source": "litigator", "version": "2030-01-07",
                                               "file": (io.BytesIO(data), filename)},
                     page="/compliance/load", content_type="multipart/form-data")


def test_a_suppression_list_over_a_megabyte_loads_as_served(served_app, sessions):
    """State lists and RND files run to tens of megabytes: the page limit (1 MB) must not refuse them."""
    data = b"2127364499,plaintiff\n" + (b"# vendor's notes " + b"c" * 82 + b"\n") * 30_000
    assert len(data) > 2 * 1024 * 1024
    r = _upload_list(served_app, data, "litigators.txt")
    assert r.status_code == 302, r.get_data(as_text=True)[:300]
    with sessions() as s:
        assert s.scalar(select(ListLoad.count).where(ListLoad.source == "litigator")) == 1


@pytest.mark.parametrize("filename", ["..", ".", "../../etc/lit.txt", "x" * 300 + ".txt", "a\x00b.txt"])
def test_an_uploaded_file_name_is_never_a_path_nor_a_server_error(served_app, sessions, filename):
    served_app.testing = False  # a crash answers 500 as served, instead of raising into the test
    r = _upload_list(served_app, b"2127364499,plaintiff\n", filename)
    assert r.status_code == 302, (filename, r.status_code)
    with sessions() as s:
        name = s.scalar(select(ListLoad.file_name).where(ListLoad.source == "litigator"))
    assert "/" not in name and name not in ("", ".", "..") and len(name) <= 255


@pytest.mark.parametrize("content", ["", "\n", "short", "CHANGE-ME-48-random-characters-python-secrets-token"])
def test_a_key_file_that_holds_no_real_key_refuses_to_start(app_config, content):
    """``var/console-secret-key`` emptied (a full disk, a ``touch``) or hand-written: an empty key would make every
    page that touches the session a 500, a short or placeholder one a guessable key."""
    from web import create_app

    config = {k: v for k, v in app_config.items() if k != "SECRET_KEY"}
    path = Path(config["VAR_DIR"]) / "console-secret-key"
    path.parent.mkdir(parents=True)
    path.write_text(content)
    with pytest.raises(UserError, match="console-secret-key"):
        create_app(config)


def test_the_settings_shown_in_a_log_or_a_traceback_carry_no_password():
    shown = repr(settings.Settings({"DIALER_SMTP_PASSWORD": "hunter2-smtp", "TWILIO_AUTH_TOKEN": "f" * 32,
                                    "DIALER_DATABASE_URL": "postgresql+psycopg://dialer:pg-s3cret@db:5432/dialer",
                                    "DIALER_SMTP_HOST": "mail.example.com"}))
    assert "hunter2" not in shown and "pg-s3cret" not in shown and "f" * 32 not in shown, shown
    assert "dialer:***@db:5432/dialer" in shown and "mail.example.com" in shown


# --- cookies over https, the key file's permissions -----------------------------------------------------------
def _serve_console(tmp_path, **env: str) -> subprocess.CompletedProcess:
    environ = settings.child_environ(DIALER_DATABASE_URL=f"sqlite:///{tmp_path / 'd.sqlite3'}",
                                     DIALER_VAR_DIR=str(tmp_path / "var"), **env)
    try:
        return subprocess.run([sys.executable, "-m", "dialer", "serve", "console", "--bind", "127.0.0.1:0",
                               "--workers", "1"], env=environ, capture_output=True, text=True, timeout=20)
    except subprocess.TimeoutExpired:
        pytest.fail(f"the console started with {env}")


def test_cookies_without_secure_behind_an_https_address_refuse_to_start(app_config, tmp_path):
    """``DIALER_COOKIE_SECURE=0`` is for the demo on plain http; with an https public address the floor is served
    over https, and a session cookie without Secure would also be sent over any plain-http request to the host."""
    from web import create_app

    https = {"DIALER_COOKIE_SECURE": "0", "DIALER_PUBLIC_BASE_URL": "https://dialer.example.com"}
    with settings.overridden(**https), pytest.raises(UserError, match="DIALER_COOKIE_SECURE.*DIALER_PUBLIC_BASE_URL"):
        create_app(app_config)
    done = _serve_console(tmp_path, DIALER_SECRET_KEY="k" * 48, **https)
    assert done.returncode == 2, done.stderr[-2000:]
    assert "DIALER_COOKIE_SECURE" in done.stderr and "https://dialer.example.com" in done.stderr


def test_cookies_without_secure_on_plain_http_still_start(app_config):
    """The demo: plain http on the workstation, its fake Twilio on http too."""
    from web import create_app

    with settings.overridden(DIALER_COOKIE_SECURE="0", DIALER_PUBLIC_BASE_URL="http://127.0.0.1:8000"):
        assert create_app(app_config).config["SESSION_COOKIE_SECURE"] is False


@pytest.mark.parametrize("mode", [0o640, 0o604, 0o644])
def test_a_key_file_others_may_read_refuses_to_start(app_config, tmp_path, mode):
    """Whoever reads ``var/console-secret-key`` can sign a session cookie for any user: like ssh with a private key,
    the console refuses a file the group or others may read, and says how to fix it."""
    from web import create_app

    config = {k: v for k, v in app_config.items() if k != "SECRET_KEY"}
    path = Path(config["VAR_DIR"]) / "console-secret-key"
    path.parent.mkdir(parents=True)
    path.write_text("k" * 48)
    path.chmod(mode)
    with pytest.raises(UserError, match="console-secret-key.*chmod 600"):
        create_app(config)
    served = tmp_path / "served"
    (served / "var").mkdir(parents=True)
    (served / "var" / "console-secret-key").write_text("k" * 48)
    (served / "var" / "console-secret-key").chmod(mode)
    done = _serve_console(served, DIALER_SECRET_KEY="")
    assert done.returncode == 2, done.stderr[-2000:]
    assert "console-secret-key" in done.stderr and "chmod 600" in done.stderr
    path.chmod(0o600)
    assert create_app(config).config["SECRET_KEY"] == "k" * 48  # the owner's alone: used
