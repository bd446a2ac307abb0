"""The product's settings: every environment variable it reads, declared once here, read once, passed down.

This is the only module that reads ``os.environ``. It sits in ``dnc`` because ``dnc`` is the lowest package: the
registry and rules settings are needed there, and every other package may import it without a cycle.

- ``VARIABLES`` (``dnc.variables``) declares each variable with its default and meaning; the README's Configuration
  table is generated from it (``python -m dnc.settings --markdown``) and a test keeps the two equal.
- ``Settings`` is a read-only snapshot of the declared variables that are set, with typed, validated accessors (a bad
  value is a ``UserError`` naming the variable). It is a ``Mapping`` too, so code that validates a whole group at
  once (the Twilio configuration) takes it as it would take a dict.
- Each process reads its settings at its edge (the ``dialer`` command per invocation, the web app when created, a
  child process when it starts) with ``load()``; code below the edges asks ``current()``.
"""

from __future__ import annotations

import ipaddress
import os
import re
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dnc.errors import UserError
from dnc.variables import VARIABLES, markdown_table

NAMES = frozenset(v.name for v in VARIABLES)
# read as fallbacks only, never set by us: the XDG cache directory
_FALLBACKS = frozenset({"XDG_CACHE_HOME"})
LOCKING_MODES = ("immediate", "deferred")
LOG_LEVELS = ("debug", "info", "warning", "error")
LOG_FORMATS = ("text", "json")
SMTP_SECURITY = ("starttls", "ssl", "none")
Network = ipaddress.IPv4Network | ipaddress.IPv6Network
PRIVATE_NETWORKS = "127.0.0.0/8,::1,10.0.0.0/8,172.16.0.0/12,192.168.0.0/16,fc00::/7"
SECRET_KEY_MIN = 32
WORKER_DRAIN_S = 300  # a sales call runs a few minutes: most end within this after a SIGTERM
# what deploy/dialer.env.example writes where a secret goes: a copy left unedited must not run with a key anyone
# can read (sessions and CSRF tokens signed with it, webhooks "signed" with it)
_PLACEHOLDER = re.compile(r"change[-_ ]?me", re.IGNORECASE)


_URL_PASSWORD = re.compile(r"(//[^/:@]*:)[^@/]*@")  # scheme://user:password@host
# a sender: one address, bare or after a display name (``Reports <reports@example.com>``)
_ADDRESS = r"[^@\s,;<>\"]+@[^@\s,;<>\"]+\.[^@\s,;<>\"]+"
_SENDER = re.compile(rf"^(?:{_ADDRESS}|[^<>@,;\"]*<{_ADDRESS}>)$")
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def sender_problem(sender: str) -> None:
    """Refuse a ``DIALER_SMTP_FROM`` that is not one address: it becomes the From header of every report mailed, so
    a line break would end that header and start another (a ``Bcc``), and the mail library refuses the whole message
    over a control character, so no report would ever go out."""
    m = _CONTROL.search(sender)
    if m is not None:
        raise UserError(f"DIALER_SMTP_FROM contains a line break or another control character (U+{ord(m.group()):04X}"
                        f", character {m.start() + 1}): write one address on one line (e.g. reports@example.com)")
    if not _SENDER.match(sender):
        raise UserError(f"DIALER_SMTP_FROM={sender!r}: not one e-mail address (write reports@example.com, or "
                        "Reports <reports@example.com>)")


def is_placeholder(value: str) -> bool:
    """Whether a secret is still the example's placeholder (``CHANGE-ME…``) rather than a value of its own."""
    return bool(_PLACEHOLDER.search(value))


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int
    security: str
    user: str | None
    password: str | None = field(repr=False, default=None)
    sender: str = ""


class Settings(Mapping[str, str]):
    """The declared variables that are set (blank counts as unset), with typed accessors."""

    def __init__(self, values: Mapping[str, str] | None = None) -> None:
        known = NAMES | _FALLBACKS
        self._values = {k: v.strip() for k, v in (values or {}).items() if k in known and v and v.strip()}

    def __getitem__(self, name: str) -> str:
        return self._values[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def __repr__(self) -> str:
        """Secrets masked: a log line or a traceback may print the settings. A URL keeps its user, not its password."""
        secret = ("TOKEN", "SECRET", "KEY", "PASSWORD")
        shown = {k: ("***" if any(s in k for s in secret) else _URL_PASSWORD.sub(r"\1***@", v))
                 for k, v in self._values.items()}
        return f"Settings({shown})"

    def replace(self, **values: str | None) -> Settings:
        """A copy with some variables set (or, with None, unset)."""
        merged = dict(self._values)
        for k, v in values.items():
            if k not in NAMES:
                raise KeyError(k)
            if v is None:
                merged.pop(k, None)
            else:
                merged[k] = v
        return Settings(merged)

    # --- typed accessors ----------------------------------------------------------------------------------------
    @property
    def database_url(self) -> str | None:
        return self.get("DIALER_DATABASE_URL")

    @property
    def sqlite_locking(self) -> str:
        return self._choice("DIALER_SQLITE_LOCKING", LOCKING_MODES, "immediate")

    @property
    def sqlite_busy_timeout_s(self) -> int:
        return self._int("DIALER_SQLITE_BUSY_TIMEOUT_S", 30, 1, 86_400)

    @property
    def worker_drain_s(self) -> int:
        """How long a stopping dialing worker lets its agents' calls finish before giving its campaigns back."""
        return self._int("DIALER_WORKER_DRAIN_S", WORKER_DRAIN_S, 0, 3600)

    @property
    def dnc_dir(self) -> Path:
        return Path(self.get("DIALER_DNC_DIR") or Path("var") / "dnc")

    @property
    def dnc_rules(self) -> str | None:
        return self.get("DIALER_DNC_RULES")

    @property
    def cache_dir(self) -> Path:
        explicit = self.get("DIALER_CACHE_DIR")
        if explicit:
            return Path(explicit)
        return Path(self.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "opendialer"

    @property
    def import_max_bytes(self) -> int:
        return self._int("DIALER_IMPORT_MAX_BYTES", 2 * 1024 ** 3, 1, 1 << 62)

    @property
    def import_max_rows(self) -> int:
        return self._int("DIALER_IMPORT_MAX_ROWS", 20_000_000, 1, 1 << 62)

    @property
    def var_dir(self) -> Path:
        return Path(self.get("DIALER_VAR_DIR") or "var")

    @property
    def secret_key(self) -> str | None:
        """The console's signing key; refused (not warned about) when too short or still the example's
        placeholder, so a console never starts signing sessions with a key that is not a secret."""
        key = self.get("DIALER_SECRET_KEY")
        if key is None:
            return None
        how = "(e.g. `python -c 'import secrets; print(secrets.token_urlsafe(48))'`)"
        if is_placeholder(key):
            raise UserError(f"DIALER_SECRET_KEY is still the example's placeholder: set a random value {how}")
        if len(key) < SECRET_KEY_MIN:
            raise UserError(f"DIALER_SECRET_KEY must be at least {SECRET_KEY_MIN} characters {how}")
        return key

    @property
    def cookie_secure(self) -> bool:
        return self._flag("DIALER_COOKIE_SECURE", True)

    @property
    def console_timezone(self) -> str:
        raw = self.get("DIALER_CONSOLE_TIMEZONE") or "UTC"
        try:
            ZoneInfo(raw)
        except (ValueError, ZoneInfoNotFoundError):
            raise UserError(f"DIALER_CONSOLE_TIMEZONE={raw!r}: not a time zone (e.g. America/New_York)") from None
        return raw

    @property
    def max_upload_mb(self) -> int:
        return self._int("DIALER_MAX_UPLOAD_MB", 256, 1, 4096)

    @property
    def proxy_hops(self) -> int:
        return self._int("DIALER_PROXY_HOPS", 0, 0, 10)

    @property
    def proxy_addresses(self) -> tuple[Network, ...]:
        return self._networks("DIALER_PROXY_ADDRESSES", "127.0.0.1,::1")

    @property
    def metrics_addresses(self) -> tuple[Network, ...]:
        """Who may scrape: the webhooks app must face the internet (Twilio calls it), its probes need not."""
        return self._networks("DIALER_METRICS_ADDRESSES", PRIVATE_NETWORKS)

    @property
    def alert_webhook_private(self) -> bool:
        return self._flag("DIALER_ALERT_WEBHOOK_PRIVATE", False)

    @property
    def log_level(self) -> str | None:
        return self._choice("DIALER_LOG_LEVEL", LOG_LEVELS, "") or None

    @property
    def log_format(self) -> str:
        return self._choice("DIALER_LOG_FORMAT", LOG_FORMATS, "text")

    @property
    def smtp(self) -> SmtpSettings | None:
        """Where scheduled reports are mailed from; None when no mail server is configured."""
        host, sender = self.get("DIALER_SMTP_HOST"), self.get("DIALER_SMTP_FROM")
        if host is None:
            return None
        if sender is None:
            raise UserError("DIALER_SMTP_FROM: the sender address is required with DIALER_SMTP_HOST "
                            "(e.g. reports@example.com)")
        sender_problem(sender)
        user, password = self.get("DIALER_SMTP_USER"), self.get("DIALER_SMTP_PASSWORD")
        if (user is None) != (password is None):
            raise UserError("DIALER_SMTP_USER and DIALER_SMTP_PASSWORD: set both or neither")
        return SmtpSettings(host, self._int("DIALER_SMTP_PORT", 587, 1, 65535),
                            self._choice("DIALER_SMTP_SECURITY", SMTP_SECURITY, "starttls"), user, password, sender)

    @property
    def metrics_dir(self) -> Path | None:
        raw = self.get("DIALER_METRICS_DIR")
        return Path(raw) if raw else None

    # --- parsing ------------------------------------------------------------------------------------------------
    def _int(self, name: str, default: int, low: int, high: int) -> int:
        raw = self.get(name)
        if raw is None:
            return default
        try:
            value = int(raw)
        except ValueError:
            raise UserError(f"{name}={raw!r}: not a whole number") from None
        if not low <= value <= high:
            raise UserError(f"{name}={value}: must be between {low} and {high}")
        return value

    def _networks(self, name: str, default: str) -> tuple[Network, ...]:
        out = []
        for part in (p.strip() for p in (self.get(name) or default).split(",")):
            if not part:
                continue
            try:
                out.append(ipaddress.ip_network(part, strict=False))
            except ValueError:
                raise UserError(f"{name}: {part!r} is not an address or a network "
                                "(e.g. 10.0.0.5 or 10.0.0.0/24)") from None
        return tuple(out)

    def _flag(self, name: str, default: bool) -> bool:
        raw = self.get(name)
        if raw is None:
            return default
        if raw.lower() in ("1", "true", "yes", "on"):
            return True
        if raw.lower() in ("0", "false", "no", "off"):
            return False
        raise UserError(f"{name}={raw!r}: write 1 or 0")

    def _choice(self, name: str, choices: tuple[str, ...], default: str) -> str:
        raw = (self.get(name) or default).lower()
        if raw != default and raw not in choices:
            raise UserError(f"{name}={raw!r}: use {' or '.join(choices)}")
        return raw


def from_environ() -> Settings:
    """The declared variables as the process's environment has them (the one place that reads it)."""
    return Settings(os.environ)


_current: Settings | None = None


def load() -> Settings:
    """Read the environment (at a process's edge: the command line, the web app, a child process) and use it."""
    return use(from_environ())


def use(settings: Settings) -> Settings:
    """Make ``settings`` the process's settings (edges, and tests that build their own)."""
    global _current
    _current = settings
    return settings


def current() -> Settings:
    """The process's settings, read from the environment on first use when no edge has loaded them."""
    return _current if _current is not None else load()


@contextmanager
def overridden(**values: str | None) -> Iterator[Settings]:
    """The current settings with some variables replaced, for the duration of a block (benchmarks point the
    registry at their own directory this way)."""
    before = current()
    try:
        yield use(before.replace(**values))
    finally:
        use(before)


def child_environ(settings: Settings | None = None, **overrides: str) -> dict[str, str]:
    """The environment for a process of ours we start: this process's environment (PATH, HOME …) with ``settings``
    (default: the current ones) and ``overrides`` on top, so the child reads what this process uses."""
    env = {k: v for k, v in os.environ.items() if k not in NAMES}
    env.update(settings if settings is not None else current())
    env.update(overrides)
    return env


if __name__ == "__main__":
    if sys.argv[1:] == ["--markdown"]:
        print(markdown_table())
    else:
        print("usage: python -m dnc.settings --markdown   (prints the README's Configuration table)", file=sys.stderr)
        sys.exit(2)
