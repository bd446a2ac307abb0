"""The console's settings: safe defaults, the environment, then whatever ``create_app(config)`` is given.

Read once at start-up; views read ``current_app.config``. Cookies are Secure by default: only a console served
over plain http on a workstation (the demo) turns that off with ``DIALER_COOKIE_SECURE=0``.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from pathlib import Path

from flask import Flask

from dialer.clock import parse_speed
from dnc.errors import UserError

DEFAULT_VAR = Path("var")


def _flag(environ: Mapping[str, str], name: str, default: bool) -> bool:
    raw = environ.get(name)
    if raw is None or raw == "":
        return default
    if raw.lower() in ("1", "true", "yes", "on"):
        return True
    if raw.lower() in ("0", "false", "no", "off"):
        return False
    raise UserError(f"{name}={raw!r}: write 1 or 0")


def _int(environ: Mapping[str, str], name: str, default: int, low: int, high: int) -> int:
    raw = environ.get(name)
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise UserError(f"{name}={raw!r}: not a whole number") from None
    if not low <= value <= high:
        raise UserError(f"{name}={value}: must be between {low} and {high}")
    return value


def _speed(environ: Mapping[str, str]) -> float | None:
    raw = environ.get("DIALER_CLOCK_SPEED")
    if not raw:
        return None
    try:
        return parse_speed(raw)
    except ValueError as e:
        raise UserError(str(e)) from None


def secret_key(environ: Mapping[str, str], var_dir: Path) -> str:
    """``DIALER_SECRET_KEY``, else a random key kept in ``var/console-secret-key`` (mode 0600) across restarts.

    Several console processes must share one key: set the variable for them (or share the file).
    """
    key = environ.get("DIALER_SECRET_KEY")
    if key:
        if len(key) < 32:
            raise UserError("DIALER_SECRET_KEY must be at least 32 characters (e.g. `python -c 'import secrets; "
                            "print(secrets.token_urlsafe(48))'`)")
        return key
    path = var_dir / "console-secret-key"
    if path.exists():
        return path.read_text().strip()
    var_dir.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(key)
    return key


def configure(app: Flask, overrides: Mapping | None, environ: Mapping[str, str] | None = None) -> None:
    """Defaults, then environment variables, then ``overrides`` (tests pass SESSIONS, CLOCK, SECRET_KEY …)."""
    environ = os.environ if environ is None else environ
    overrides = dict(overrides or {})
    var_dir = Path(overrides.get("VAR_DIR") or environ.get("DIALER_VAR_DIR") or DEFAULT_VAR)
    secure = _flag(environ, "DIALER_COOKIE_SECURE", True)
    app.config.update(
        VAR_DIR=var_dir,
        DATABASE_URL=environ.get("DIALER_DATABASE_URL"),
        SESSIONS=None,  # a sessionmaker; built from DATABASE_URL when not given
        CLOCK=None,  # a dialer.clock.Clock; SystemClock when not given
        TWILIO_ENVIRON=None,  # the environment register_twilio reads (default os.environ)
        UPLOAD_DIR=var_dir / "uploads",
        DNC_DIR=environ.get("DIALER_DNC_DIR"),  # registry snapshots; default ./var/dnc (dnc.registry)
        IMPORT_INLINE=False,  # run imports in the request (tests) instead of a background thread
        MAX_CONTENT_LENGTH=_int(environ, "DIALER_MAX_UPLOAD_MB", 256, 1, 4096) * 1024 * 1024,
        SESSION_COOKIE_NAME="dialer_session",
        SESSION_COOKIE_SECURE=secure,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        PERMANENT_SESSION_LIFETIME=12 * 3600,
        REMEMBER_COOKIE_SECURE=secure,
        REMEMBER_COOKIE_HTTPONLY=True,
        WTF_CSRF_TIME_LIMIT=12 * 3600,
        WTF_CSRF_SSL_STRICT=secure,
        HSTS=secure,
        CLOCK_ANCHOR=environ.get("DIALER_CLOCK_ANCHOR"),  # with CLOCK_SPEED: an accelerated demo clock
        CLOCK_SPEED=_speed(environ),
        CLOCK_START=environ.get("DIALER_CLOCK_START"),  # what that clock reads at the anchor (default: the anchor)
        FLOOR_POLL_SECONDS=3,
        FUNNEL_POLL_SECONDS=15,  # the funnel counts every lead of the campaign: polled less often
        AGENT_POLL_SECONDS=2,
        JSON_SORT_KEYS=False,
    )
    if "SECRET_KEY" not in overrides:
        app.config["SECRET_KEY"] = secret_key(environ, var_dir)
    app.config.update(overrides)
    if "UPLOAD_DIR" not in overrides and "VAR_DIR" in overrides:
        app.config["UPLOAD_DIR"] = Path(overrides["VAR_DIR"]) / "uploads"
