"""The console: ``web.create_app(config=None)`` builds the Flask app (``flask --app web routes`` lists every route).

One blueprint per concern (auth, home, campaigns, lists, floor, agent, compliance, reports, users) plus the Twilio
webhooks. Views are thin: parse a form, call a service of ``campaigns``/``dnc``/``dialer``, render. The role
matrix (``web.roles``) is enforced before every request; CSRF protects every form; errors have clear pages.
"""

from __future__ import annotations

from collections.abc import Mapping

from flask import Flask

from web.config import configure
from web.context import init_context


def create_app(config: Mapping | None = None) -> Flask:
    """The console app. ``config`` overrides settings (tests pass SESSIONS, CLOCK, SECRET_KEY, VAR_DIR …)."""
    app = Flask(__name__)
    from web.forms import IdConverter

    app.url_map.converters["int"] = IdConverter  # before any route is added: every <int:...> is bounded
    configure(app, config)
    console = init_context(app)

    from web import filters
    from web.auth import init_auth
    from web.errors import init_errors
    from web.roles import init_roles
    from web.security import csrf, init_security

    init_auth(app)
    init_roles(app)  # before CSRF: a role that may not post gets 403, whatever the form carries
    init_security(app)
    init_errors(app)
    filters.init_filters(app)

    from web import blueprints

    for bp in blueprints.ALL:
        app.register_blueprint(bp)

    from web.twilio.setup import register_twilio

    register_twilio(app, console.sessions, console.clock, app.config.get("TWILIO_ENVIRON"))
    csrf.exempt(app.blueprints["twilio"])  # Twilio signs its requests (X-Twilio-Signature) instead

    from web.observe import init_observe

    init_observe(app, "console", console.sessions, console.clock, console.dnc_store)
    csrf.exempt(app.blueprints["health"])  # read-only probes, public
    return app
