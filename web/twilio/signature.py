"""``X-Twilio-Signature`` checking that also works behind a TLS-terminating proxy.

Twilio signs the public https URL it called; behind a proxy Flask sees http and an internal host, so the URL is
rebuilt from the configured public base (``DIALER_PUBLIC_BASE_URL``) when there is one, else taken from the request
(correct when the app is wrapped in ``ProxyFix``).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from functools import wraps

from flask import Request, abort, current_app, request
from twilio.request_validator import RequestValidator


def signed_url(req: Request, public_base: str | None) -> str:
    if not public_base:
        return req.url
    query = req.query_string.decode()
    return public_base.rstrip("/") + req.path + (f"?{query}" if query else "")


def is_signed(req: Request, auth_token: str, public_base: str | None) -> bool:
    signature = req.headers.get("X-Twilio-Signature", "")
    if not signature:
        return False
    params = req.form if req.method == "POST" else {}
    return RequestValidator(auth_token).validate(signed_url(req, public_base), params, signature)


# the columns these are stored in (Twilio's SIDs are 34 characters, its AnsweredBy values at most 19): longer is
# a malformed request, answered 400 before anything is written (PostgreSQL would refuse it with a 500)
FIELD_MAX = {"CallSid": 64, "AnsweredBy": 24, "MessageSid": 64, "SmsSid": 64}


LOG_EVERY_S = 60.0  # forged requests after the first are counted into one warning this often
_monotonic = time.monotonic  # the edge's clock for that (tests move it)


@dataclass
class _Rejections:
    """Forged or unsigned requests seen by this app since its last warning: anyone on the internet can send them as
    fast as the link allows, and a line each would fill the disk."""

    logged_at: float | None = None
    count: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def note(self, path: str) -> None:
        now = _monotonic()
        with self.lock:
            due = self.logged_at is None or not 0 <= now - self.logged_at < LOG_EVERY_S
            if not due:
                self.count += 1
                return
            earlier, self.logged_at, self.count = self.count, now, 0
        if earlier:
            current_app.logger.warning("rejected %d unsigned or forged Twilio requests in the last %d s (the latest "
                                       "to %s)", earlier + 1, LOG_EVERY_S, path)
        else:
            current_app.logger.warning("rejected unsigned or forged Twilio request to %s", path)


def twilio_signed(view):
    """403 and no side effect unless the request carries a valid Twilio signature; 400 when a field could not be
    stored."""
    @wraps(view)
    def wrapper(*args, **kwargs):
        tw = current_app.extensions["twilio"]
        if tw.config is None:
            abort(503, "Twilio is not configured (run `dialer twilio check`)")
        if not is_signed(request, tw.config.auth_token or "", tw.config.public_base_url):
            current_app.extensions.setdefault("twilio-rejections", _Rejections()).note(request.path)
            abort(403)
        if any(len(request.form.get(name, "")) > most for name, most in FIELD_MAX.items()):
            abort(400)
        return view(*args, **kwargs)
    return wrapper
