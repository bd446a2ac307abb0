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

from dnc import settings
from dnc.errors import UserError
from dnc.settings import SECRET_KEY_MIN, Settings, is_placeholder

DEFAULT_VAR = Path("var")


def secret_key(env: Settings, var_dir: Path) -> str:
    """``DIALER_SECRET_KEY``, else a random key kept in ``var/console-secret-key`` (mode 0600) across restarts.

    Several console processes must share one key: set the variable for them (or share the file).
    """
    key = env.secret_key  # a short key or the example's placeholder is a UserError there
    if key:
        return key
    path = var_dir / "console-secret-key"
    if path.exists():
        kept = path.read_text().strip()
        if len(kept) < SECRET_KEY_MIN or is_placeholder(kept):  # emptied by a full disk, or written by hand
            raise UserError(f"{path} holds no usable key (at least {SECRET_KEY_MIN} random characters): delete it "
                            "to have a new one generated (everyone signs in again), or set DIALER_SECRET_KEY")
        return kept
    var_dir.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(key)
    return key


def configure(app: Flask, overrides: Mapping | None, env: Settings | None = None) -> None:
    """Defaults, then the settings (``dnc.settings``), then ``overrides`` (tests pass SESSIONS, CLOCK, SECRET_KEY …)."""
    env = env if env is not None else settings.current()
    overrides = dict(overrides or {})
    var_dir = Path(overrides.get("VAR_DIR") or env.var_dir)
    secure = env.cookie_secure
    app.config.update(
        VAR_DIR=var_dir,
        DATABASE_URL=env.database_url,
        SESSIONS=None,  # a sessionmaker; built from DATABASE_URL when not given
        CLOCK=None,  # a dialer.clock.Clock; SystemClock when not given
        TWILIO_ENVIRON=None,  # the settings register_twilio validates (default: the process's)
        UPLOAD_DIR=var_dir / "uploads",
        DNC_DIR=str(env.dnc_dir),  # registry snapshots
        IMPORT_INLINE=False,  # run imports in the request (tests) instead of a background thread
        MAX_CONTENT_LENGTH=env.max_upload_mb * 1024 * 1024,
        CONSOLE_TIMEZONE=env.console_timezone,  # pages not about one campaign (web.filters.page_zone)
        PROXY_HOPS=env.proxy_hops,
        PROXY_ADDRESSES=env.proxy_addresses,
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
        FLOOR_POLL_SECONDS=3,
        FUNNEL_POLL_SECONDS=15,  # the funnel counts every lead of the campaign: polled less often
        AGENT_POLL_SECONDS=2,
        JSON_SORT_KEYS=False,
    )
    if "SECRET_KEY" not in overrides:
        app.config["SECRET_KEY"] = secret_key(env, var_dir)
    app.config.update(overrides)
    if "UPLOAD_DIR" not in overrides and "VAR_DIR" in overrides:
        app.config["UPLOAD_DIR"] = Path(overrides["VAR_DIR"]) / "uploads"
