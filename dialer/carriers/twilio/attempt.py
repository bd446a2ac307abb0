"""The token a customer call's status callback URL carries (``/twilio/status?attempt=…``), bound to its attempt.

Twilio's call log lists every call to a number, and a call another system placed to it in the same second as a
create whose answer was lost looks exactly like ours there (the Call resource does not show the URLs we sent). The
callbacks do: Twilio posts them to the URL we gave, query string included, and signs that URL. So the token names
the attempt (our call row) in its callbacks, and only a call whose callbacks carry it is taken for that attempt.

It is an HMAC of the call's id and number keyed with the account's auth token: unguessable to anyone without the
token, the same in the worker that sent the create and in whichever worker settles it, and stored nowhere.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re

TOKEN_PARAM = "attempt"
TOKEN_RE = re.compile(r"[A-Za-z0-9_-]{1,32}")  # what the webhook accepts as a token; anything else is ignored


def attempt_token(secret: str, call_id: int, phone: str) -> str:
    """22 URL-safe characters (128 bits) naming one attempt: the call row ``call_id`` dialing ``phone``."""
    mac = hmac.new(secret.encode(), f"attempt:{call_id}:{phone}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac[:16]).decode().rstrip("=")


def token_of(value: str | None) -> str | None:
    """The token from a callback's query parameter, or None when absent or malformed (a call placed before tokens,
    or not by us)."""
    return value if value and TOKEN_RE.fullmatch(value) else None
