"""Twilio settings read from the environment, validated once so a misconfiguration is named before any call.

The environment is passed in (a mapping), never read here, so ``dialer twilio check``, the worker, the web app
and the tests all validate the same way.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import phonenumbers

from dnc.errors import UserError
from dnc.settings import is_placeholder

TWILIO_API_BASE = "https://api.twilio.com"
UNKNOWN_CONFIRM_S = 10.0  # DIALER_TWILIO_UNKNOWN_CONFIRM_S's default (``dialer.carriers.twilio.unknown``)

_SID = {
    "TWILIO_ACCOUNT_SID": "AC",
    "TWILIO_API_KEY": "SK",
    "TWILIO_TWIML_APP_SID": "AP",
}


@dataclass(frozen=True)
class TwilioConfig:
    """Credentials and addresses the adapter, the webhooks and the token endpoint need."""

    account_sid: str
    auth_token: str | None = field(repr=False)  # secrets: never in a log line or a traceback's locals
    api_key: str | None
    api_secret: str | None = field(repr=False)
    caller_id: str | None
    public_base_url: str
    twiml_app_sid: str | None
    cps: float
    api_base: str = TWILIO_API_BASE
    unknown_confirm_s: float = UNKNOWN_CONFIRM_S  # empty call-log lookups this far apart: a create was not placed

    @property
    def rest_username(self) -> str:
        """REST auth: an API key pair is preferred (revocable); the auth token is the fallback."""
        return self.api_key or self.account_sid

    @property
    def rest_password(self) -> str:
        return self.api_secret if self.api_key else (self.auth_token or "")

    @property
    def webhook_url_base(self) -> str:
        return self.public_base_url.rstrip("/")

    @property
    def can_issue_tokens(self) -> bool:
        """Browser agents need an API key pair and a TwiML app (Twilio signs access tokens with the key)."""
        return bool(self.api_key and self.api_secret and self.twiml_app_sid)


def problems(env: Mapping[str, str]) -> list[str]:
    """Every problem with the Twilio environment, one sentence each naming the variable (empty when usable)."""
    out: list[str] = []
    get = lambda k: (env.get(k) or "").strip()  # noqa: E731

    for name, prefix in _SID.items():
        value = get(name)
        if value and not re.fullmatch(prefix + r"[0-9a-fA-F]{32}", value):
            out.append(f"{name} must be {prefix} followed by 32 hex digits (got {value!r})")
    if not get("TWILIO_ACCOUNT_SID"):
        out.append("TWILIO_ACCOUNT_SID is not set (the AC... SID from the Twilio console)")
    has_token = bool(get("TWILIO_AUTH_TOKEN"))
    key, secret = get("TWILIO_API_KEY"), get("TWILIO_API_SECRET")
    if bool(key) != bool(secret):
        out.append("TWILIO_API_KEY and TWILIO_API_SECRET must be set together"
                   f" ({'TWILIO_API_SECRET' if key else 'TWILIO_API_KEY'} is missing)")
    if not has_token:
        out.append("TWILIO_AUTH_TOKEN is not set (needed to check webhook signatures, even with an API key)")
    for name in ("TWILIO_AUTH_TOKEN", "TWILIO_API_SECRET"):
        if is_placeholder(get(name)):  # anyone who read the example could sign webhooks (or try the REST API)
            out.append(f"{name} is still the example's placeholder (copy it from the Twilio console)")
    caller = get("TWILIO_CALLER_ID")
    if caller:
        try:
            ok = phonenumbers.is_valid_number(phonenumbers.parse(caller, None))
        except phonenumbers.NumberParseException:
            ok = False
        if not ok or not caller.startswith("+"):
            out.append(f"TWILIO_CALLER_ID {caller!r} is not an E.164 number such as +12125550100")
    base = get("DIALER_PUBLIC_BASE_URL")
    if not base:
        out.append("DIALER_PUBLIC_BASE_URL is not set (the https:// address Twilio reaches the webhooks at)")
    else:
        parts = urlsplit(base)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            out.append(f"DIALER_PUBLIC_BASE_URL {base!r} is not an http(s) URL")
        elif parts.query or parts.fragment:
            out.append(f"DIALER_PUBLIC_BASE_URL {base!r} must not carry a query or fragment")
    cps = get("TWILIO_CPS")
    if cps:
        try:
            if not 0 < float(cps) <= 1000:
                raise ValueError
        except ValueError:
            out.append(f"TWILIO_CPS {cps!r} must be a number of calls per second above 0 (your account's limit)")
    confirm = get("DIALER_TWILIO_UNKNOWN_CONFIRM_S")
    if confirm:
        try:
            if not 0 <= float(confirm) <= 600:
                raise ValueError
        except ValueError:
            out.append(f"DIALER_TWILIO_UNKNOWN_CONFIRM_S {confirm!r} must be a number of seconds from 0 to 600")
    api = get("DIALER_TWILIO_API_BASE")
    if api:
        parts = urlsplit(api)
        if parts.scheme not in ("http", "https") or not parts.netloc or parts.path.strip("/"):
            out.append(f"DIALER_TWILIO_API_BASE {api!r} must be a bare http(s)://host[:port] (the fake server)")
    return out


def load(env: Mapping[str, str]) -> TwilioConfig:
    """A validated config; raises ``UserError`` listing everything that is missing or malformed."""
    found = problems(env)
    if found:
        raise UserError("Twilio is not configured: " + "; ".join(found))
    get = lambda k: (env.get(k) or "").strip() or None  # noqa: E731
    return TwilioConfig(
        account_sid=env["TWILIO_ACCOUNT_SID"].strip(),
        auth_token=get("TWILIO_AUTH_TOKEN"),
        api_key=get("TWILIO_API_KEY"),
        api_secret=get("TWILIO_API_SECRET"),
        caller_id=get("TWILIO_CALLER_ID"),
        public_base_url=env["DIALER_PUBLIC_BASE_URL"].strip().rstrip("/"),
        twiml_app_sid=get("TWILIO_TWIML_APP_SID"),
        cps=float(get("TWILIO_CPS") or 1.0),
        api_base=(get("DIALER_TWILIO_API_BASE") or TWILIO_API_BASE).rstrip("/"),
        unknown_confirm_s=float(get("DIALER_TWILIO_UNKNOWN_CONFIRM_S") or UNKNOWN_CONFIRM_S),
    )
