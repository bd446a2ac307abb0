"""HTTP hardening in one place: security headers, a strict Content-Security-Policy, CSRF, proxy awareness.

The CSP allows no inline script or style at all (every script is a file under /static), so an injected
``<script>`` or ``onclick=`` does nothing. The Twilio hosts are allowed only for the browser phone's signaling,
insights and ringtones (see web/static/vendor/twilio/VERSION.txt).
"""

from __future__ import annotations

from flask import Flask, Response, abort, request
from flask_wtf.csrf import CSRFProtect

from web.proxies import TrustedProxies

csrf = CSRFProtect()

CSP = "; ".join((
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "font-src 'self'",
    "connect-src 'self' wss://*.twilio.com https://*.twilio.com",
    "media-src 'self' blob: https://sdk.twilio.com",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
))
HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "microphone=(self), camera=(), geolocation=(), payment=()",
}

# The webhooks app (``web.wsgi.webhook_app``) serves no page: TwiML, empty answers, refusals. It shares the console's
# host behind the proxy, so nothing it answers may be sniffed into a document, framed, run or cached.
WEBHOOK_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


def _headers(app: Flask):
    def add(response: Response) -> Response:
        for name, value in HEADERS.items():
            response.headers.setdefault(name, value)
        if app.config.get("HSTS") and request.is_secure:
            response.headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
        if request.endpoint != "static":
            # pages show personal data (leads, numbers): never keep them in shared caches or the back-button cache
            response.headers.setdefault("Cache-Control", "no-store")
        return response

    return add


def refuse_nul() -> None:
    """before_request: a NUL character in the path, the query or a form field is refused with a 400 that says so.

    No field means one, and PostgreSQL refuses it in text, so it would otherwise reach the database and come back as
    a server error (a paste from a binary file, a crafted link). Uploaded files are not fields: their reader names
    binary content itself."""
    values = [request.path, *request.args.values()]
    if request.method == "POST" and request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data"):
        values += request.form.values()
    if any("\x00" in v for v in values):
        abort(400, "The request contains a NUL character (\\0), which no field accepts. Remove it and send it again.")


def init_security(app: Flask) -> None:
    """Headers on every response, CSRF on every form (the Twilio webhooks are exempted by the caller)."""
    hops = int(app.config["PROXY_HOPS"])
    if hops:
        # behind a TLS-terminating proxy: trust its X-Forwarded-* so secure cookies, redirects and the
        # login throttle's client address are right
        app.wsgi_app = TrustedProxies(app.wsgi_app, hops, app.config["PROXY_ADDRESSES"])  # type: ignore[method-assign]
    app.after_request(_headers(app))
    app.before_request(refuse_nul)  # after the role check (web.roles), before CSRF reads the form
    csrf.init_app(app)


def init_webhook_headers(app: Flask) -> None:
    """``WEBHOOK_HEADERS`` on every answer of the webhooks app, its refusals and 404s included."""
    def add(response: Response) -> Response:
        for name, value in WEBHOOK_HEADERS.items():
            response.headers.setdefault(name, value)
        return response

    app.after_request(add)
