"""The console's settings: safe defaults, the environment, then whatever ``create_app(config)`` is given.

Read once at start-up; views read ``current_app.config``. Cookies are Secure by default: only a console served
over plain http on a workstation (the demo) turns that off with ``DIALER_COOKIE_SECURE=0``, and never behind an https
``DIALER_PUBLIC_BASE_URL`` (``dnc.console_settings``). Secure cookies carry the ``__Host-`` prefix (``host_cookies``).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from flask import Flask

from dnc import settings
from dnc.console_settings import check_cookies, console_key
from dnc.settings import Settings

DEFAULT_VAR = Path("var")
SESSION_COOKIE = "dialer_session"
REMEMBER_COOKIE = "remember_token"  # Flask-Login's default name (the console never sets it: no "remember me")
HOST_PREFIX = "__Host-"


def secret_key(env: Settings, var_dir: Path) -> str:
    """The console's signing key (``dnc.console_settings.console_key``: the variable, else the 0600 key file)."""
    return console_key(env, var_dir)


def configure(app: Flask, overrides: Mapping | None, env: Settings | None = None) -> None:
    """Defaults, then the settings (``dnc.settings``), then ``overrides`` (tests pass SESSIONS, CLOCK, SECRET_KEY …)."""
    env = env if env is not None else settings.current()
    overrides = dict(overrides or {})
    var_dir = Path(overrides.get("VAR_DIR") or env.var_dir)
    check_cookies(env)  # Secure off behind an https address: refused, as ``dialer serve console`` refuses it
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
        SESSION_COOKIE_NAME=SESSION_COOKIE,
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
    host_cookies(app.config)
    if "UPLOAD_DIR" not in overrides and "VAR_DIR" in overrides:
        app.config["UPLOAD_DIR"] = Path(overrides["VAR_DIR"]) / "uploads"


def host_cookies(config) -> None:
    """Secure cookies get the ``__Host-`` prefix, Path=/ and no Domain: a browser keeps such a cookie only from
    https and only for this exact host, so a sibling subdomain or a plain-http page of the host cannot plant or
    overwrite the session (and with it the forms' CSRF token, which lives in it). Plain http (the demo) keeps the
    plain names: a browser refuses a ``__Host-`` cookie without Secure. Decided after the overrides, from the
    Secure setting in force."""
    for kind, plain in (("SESSION", SESSION_COOKIE), ("REMEMBER", REMEMBER_COOKIE)):
        name = config.get(f"{kind}_COOKIE_NAME") or plain
        bare = name.removeprefix(HOST_PREFIX)
        if config.get(f"{kind}_COOKIE_SECURE"):
            config[f"{kind}_COOKIE_NAME"] = HOST_PREFIX + bare
            config[f"{kind}_COOKIE_PATH"], config[f"{kind}_COOKIE_DOMAIN"] = "/", None
        else:
            config[f"{kind}_COOKIE_NAME"] = bare
