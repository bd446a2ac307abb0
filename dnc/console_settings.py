"""The console's own settings checks: its signing key (the variable or the generated file) and its cookies.

They sit beside ``dnc.settings`` (the variables themselves) so both edges that start a console run them: ``dialer
serve console`` before gunicorn starts (a refusal exits with status 2 naming the setting or the file, as every bad
setting does) and ``web.config`` when an app is created. A console must never start signing sessions with a key
others can read, nor hand a session cookie to plain http on a floor served over https.
"""

from __future__ import annotations

import os
import secrets
import stat
from pathlib import Path

from dnc.errors import UserError
from dnc.settings import SECRET_KEY_MIN, Settings, is_placeholder

KEY_FILE = "console-secret-key"


def cookie_problem(env: Settings) -> str | None:
    """Why the cookie setting does not fit the public address, or None.

    ``DIALER_COOKIE_SECURE=0`` exists for the demo on plain http. With an https public address the floor is
    reached over https, and a cookie without Secure would also be sent on any plain-http request to that host (a
    typed ``http://``, a link, a network that rewrites them): the session could be read off the wire."""
    base = (env.get("DIALER_PUBLIC_BASE_URL") or "").strip()
    if env.cookie_secure or not base.lower().startswith("https://"):
        return None
    return (f"DIALER_COOKIE_SECURE=0 while DIALER_PUBLIC_BASE_URL is {base}: the console's session cookies would "
            "also travel over plain http; set DIALER_COOKIE_SECURE=1 (or unset it: 1 is the default)")


def check_cookies(env: Settings) -> None:
    problem = cookie_problem(env)
    if problem:
        raise UserError(problem)


def console_key(env: Settings, var_dir: Path) -> str:
    """``DIALER_SECRET_KEY``, else the key kept in ``var/console-secret-key``, generated (mode 0600) when missing.

    Several console processes must share one key: set the variable for them (or share the file). The file is
    refused when it holds no usable key (emptied by a full disk, written by hand) or when its group or others may
    read it: whoever reads it can sign a session cookie for any user."""
    key = env.secret_key  # a short key or the example's placeholder is a UserError there
    if key:
        return key
    path = var_dir / KEY_FILE
    if path.exists():
        return _kept_key(path)
    var_dir.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another console process made it a moment ago: use theirs
        return _kept_key(path)
    with os.fdopen(fd, "w") as f:
        f.write(key)
    return key


def _kept_key(path: Path) -> str:
    kept = path.read_text().strip()
    if len(kept) < SECRET_KEY_MIN or is_placeholder(kept):
        raise UserError(f"{path} holds no usable key (at least {SECRET_KEY_MIN} random characters): delete it "
                        "to have a new one generated (everyone signs in again), or set DIALER_SECRET_KEY")
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        who = " and ".join(w for w, bits in (("its group", 0o070), ("others", 0o007)) if mode & bits)
        raise UserError(f"{path} may be read or changed by {who} (mode {mode:04o}): whoever reads it can sign in as "
                        f"anyone; `chmod 600 {path}` (the console's user alone), or set DIALER_SECRET_KEY")
    return kept
