"""The role matrix: who may open which page. Declared here once, enforced before every request, tested route by route.

An endpoint that is in neither table is refused (fail closed), and ``tests/web/test_console_roles.py`` walks
``app.url_map`` so a new route without a line here fails the build. Roles (``campaigns.accounts.models.ROLES``):

- admin: console users, plus every manager, compliance and report page (not an agent seat);
- manager (campaign manager): campaigns, lists and uploads, the live floor, the reports;
- agent: the agent seat only (state, the popped lead, dispositions, own callbacks);
- compliance (officer): suppression sources, scrub ledgers, look-ups, internal DNC, reconciliation, audit;
- sales (lead): the reports.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from flask import Flask, abort, current_app, jsonify, redirect, request, url_for
from flask_login import current_user

from campaigns.accounts.models import ROLES

PUBLIC = frozenset({"anyone"})  # no login: the sign-in page, static files, Twilio's signed webhooks
EVERY_ROLE = frozenset(ROLES)
MANAGE = frozenset({"admin", "manager"})

# Default per blueprint (``blueprint.view``); ENDPOINTS below overrides single views.
BLUEPRINTS: dict[str, frozenset[str]] = {
    "auth": EVERY_ROLE,
    "home": EVERY_ROLE,
    "campaigns": MANAGE,
    "callbacks": MANAGE,  # a campaign's callback queue (issue 8)
    "callerid": MANAGE,  # a campaign's caller-ID pool and its health
    "settings": MANAGE,  # a campaign's dialing settings (retries, hours, line cap ...) and their history
    "strategy": MANAGE,  # a campaign's lead strategy, callback and abandon-alert settings
    "team": MANAGE,  # which agents may join a campaign
    "lists": MANAGE,
    "listadmin": MANAGE,  # enable/disable lists, the list mix, reset a list for another pass
    "leads": frozenset({"admin", "manager", "compliance"}),  # lead search and a lead's history (edits: below)
    "planner": MANAGE,  # the staffing planner (issue 18)
    "floor": MANAGE,
    "agent": frozenset({"agent"}),
    "agent_calls": frozenset({"agent"}),  # hold, transfer, consult, manual dial on the agent's own call
    "compliance": frozenset({"admin", "compliance"}),
    "reports": frozenset({"admin", "manager", "sales"}),
    "users": frozenset({"admin"}),
    "twilio": PUBLIC,  # every webhook checks X-Twilio-Signature itself
    "health": PUBLIC,  # /healthz, /readyz, /metrics: probes and the scraper; nothing secret (web.observe)
}
ENDPOINTS: dict[str, frozenset[str]] = {
    "static": PUBLIC,
    "auth.login": PUBLIC,
    "twilio.token": frozenset({"agent"}),  # an access token for the agent's own browser phone
    "leads.edit": MANAGE,  # a lead's fields: the campaign's managers only (a DNC request: compliance too)
    "compliance.suppressed": frozenset({"admin", "manager", "compliance"}),  # suppressed leads and why (issue 14)
    "compliance.suppressed_csv": frozenset({"admin", "manager", "compliance"}),
}


def allowed_roles(endpoint: str | None) -> frozenset[str]:
    """The roles that may use ``endpoint``; empty (nobody) when it is not declared."""
    if endpoint is None:
        return frozenset()
    if endpoint in ENDPOINTS:
        return ENDPOINTS[endpoint]
    blueprint, _, _ = endpoint.rpartition(".")
    return BLUEPRINTS.get(blueprint, frozenset())


def can(endpoint: str) -> bool:
    """May the current user open ``endpoint``? (templates use it to show only the links that work)."""
    roles = allowed_roles(endpoint)
    if roles is PUBLIC:
        return True
    return bool(current_user.is_authenticated and current_user.role in roles)


def wants_json() -> bool:
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return best == "application/json" and request.accept_mimetypes[best] > request.accept_mimetypes["text/html"]


def enforce():
    """before_request: anonymous users go to the sign-in page (JSON callers get 401), other roles get 403."""
    if request.endpoint is None:
        return None  # no route matched: the 404/405 handlers answer
    roles = allowed_roles(request.endpoint)
    if roles is PUBLIC:
        return None
    if not current_user.is_authenticated:
        if wants_json():
            return jsonify(error="not signed in", login=url_for("auth.login")), 401
        return redirect(url_for("auth.login", next=_come_back_to()))
    if current_user.role not in roles:
        abort(403)
    return None


def _come_back_to() -> str | None:
    """Where to go after signing in: the page asked for, or for a form sent after the session ended, the page the
    form was on (its own address often answers POST only: going there would be a 405); else the role's home."""
    if request.method in ("GET", "HEAD"):
        return request.full_path.rstrip("?")
    referrer = urlsplit(request.referrer or "")
    if referrer.netloc == request.host and referrer.path.startswith("/"):
        return referrer.path + (f"?{referrer.query}" if referrer.query else "")
    return None


# The main navigation, in order; each user sees the entries their role may open.
NAV = (("campaigns.index", "Campaigns"), ("floor.index", "Live floor"), ("agent.seat", "My seat"),
       ("agent.callbacks", "My callbacks"), ("compliance.index", "Compliance"), ("reports.index", "Reports"),
       ("users.index", "Users"))


@dataclass(frozen=True)
class NavItem:
    endpoint: str
    label: str
    current: bool


def has_page(endpoint: str) -> bool:
    """The page exists in this build and the current user may open it (links to pages yet to land stay hidden)."""
    return endpoint in current_app.view_functions and can(endpoint)


def nav_items() -> list[NavItem]:
    views = current_app.view_functions
    shown = [(e, label) for e, label in NAV if e in views and can(e)]
    exact = any(e == request.endpoint for e, _ in shown)
    return [NavItem(e, label, e == request.endpoint if exact else e.rpartition(".")[0] == request.blueprint)
            for e, label in shown]


def init_roles(app: Flask) -> None:
    """Must run before CSRFProtect is set up, so a refused role gets 403 whatever the form carries."""
    app.before_request(enforce)
    app.jinja_env.globals.update(can=can, has_page=has_page, nav_items=nav_items)
