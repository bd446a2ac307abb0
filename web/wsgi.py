"""The WSGI applications a production server runs (``dialer serve console|webhooks`` loads them by name).

- ``console()``: the whole console (every role's pages and the Twilio webhooks, as ``web.create_app``).
- ``webhooks()``: only the ``/twilio/`` routes over the shared database, for a process that scales apart from the
  console and answers Twilio quickly.

Both read the process's settings and configure logging once, behind a body limit that holds before any parsing:
webhooks are small (64 KB), list uploads (leads, and the compliance officer's consent, suppression and RND files)
may reach ``DIALER_MAX_UPLOAD_MB`` (streamed to disk by the form parser),
every other page 1 MB.
"""

from __future__ import annotations

from flask import Flask

from campaigns.db import database_url, make_engine, session_factory
from dialer import logs
from dialer.clock import clock_from_env
from dnc import settings
from dnc.errors import UserError
from web.limits import KB, MB, BodyLimits, Limit
from web.observe import init_observe

WEBHOOK_MAX = 64 * KB
PAGE_MAX = 1 * MB
UPLOADS = r"/campaigns/\d+/upload$"  # a lead list (web.lists)
COMPLIANCE_LOADS = r"/compliance/load/"  # consent, suppression-list and RND files (web.compliance.suppression)


def limited(app: Flask, upload_mb: int) -> Flask:
    """Put the body limits in front of ``app`` (its ``wsgi_app``, so Flask's own handling stays outside)."""
    app.wsgi_app = BodyLimits(app.wsgi_app, PAGE_MAX,  # type: ignore[method-assign]
                              [Limit("/twilio/", WEBHOOK_MAX), Limit(UPLOADS, upload_mb * MB),
                               Limit(COMPLIANCE_LOADS, upload_mb * MB)])
    return app


def console() -> Flask:
    from web import create_app

    env = settings.load()
    logs.configure()
    return limited(create_app(), env.max_upload_mb)


def webhook_app(url: str | None = None, env: settings.Settings | None = None) -> Flask:
    """Just the ``/twilio/`` blueprint; behind a proxy, ``DIALER_PROXY_HOPS`` as for the console."""
    from web.proxies import TrustedProxies
    from web.security import init_webhook_headers
    from web.twilio.setup import register_twilio

    env = env if env is not None else settings.current()
    url = database_url(url or env.database_url)
    # one connection per concurrent request: Twilio sends bursts of callbacks at high CPS
    engine = make_engine(url) if url.startswith("sqlite") else make_engine(url, pool_size=10, max_overflow=10)
    app = Flask("dialer-twilio-webhooks")
    try:
        clock = clock_from_env(env)
    except ValueError as e:
        raise UserError(str(e)) from None
    sessions = session_factory(engine)
    register_twilio(app, sessions, clock, env)
    init_observe(app, "webhooks", sessions, clock, None)  # the webhooks never read the registry
    init_webhook_headers(app)
    if env.proxy_hops:
        app.wsgi_app = TrustedProxies(app.wsgi_app, env.proxy_hops, env.proxy_addresses)  # type: ignore
    return limited(app, 0)


def webhooks() -> Flask:
    settings.load()
    logs.configure()
    return webhook_app()
