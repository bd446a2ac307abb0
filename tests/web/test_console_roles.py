"""The role matrix, route by route: every rule of ``app.url_map`` x every role and anonymous.

Generated from the app, so a new route is covered the moment it exists; a route missing from ``web.roles`` is
refused to everyone and fails ``test_every_route_is_declared``. The expectations per blueprint below are the
design written down a second time, so an accidental change to the matrix fails too.
"""

from __future__ import annotations

import pytest

from campaigns.accounts.models import ROLES
from tests.web.conftest import USERS, AuthActions
from web.roles import PUBLIC, allowed_roles

EVERYONE = set(ROLES)
DESIGN = {  # blueprint -> roles that may use it
    "auth": EVERYONE, "home": EVERYONE,
    "campaigns": {"admin", "manager"}, "callbacks": {"admin", "manager"}, "callerid": {"admin", "manager"},
    "strategy": {"admin", "manager"}, "settings": {"admin", "manager"}, "lists": {"admin", "manager"},
    "planner": {"admin", "manager"}, "floor": {"admin", "manager"}, "team": {"admin", "manager"},
    "listadmin": {"admin", "manager"}, "leads": {"admin", "manager", "compliance"},  # lead search: compliance reads
    "agent": {"agent"}, "agent_calls": {"agent"}, "compliance": {"admin", "compliance"},
    "reports": {"admin", "manager", "sales"},
    "users": {"admin"},
}
PUBLIC_ENDPOINTS = {"static", "auth.login", "health.healthz", "health.readyz", "health.metrics"}  # probes, scraper
SINGLE = {  # endpoints whose roles differ from their blueprint's
    "twilio.token": {"agent"},
    "leads.edit": {"admin", "manager"},  # a lead's fields: managers; a DNC request (leads.dnc): compliance too
    "compliance.suppressed": {"admin", "manager", "compliance"},  # the manager sees suppressed leads and why
    "compliance.suppressed_csv": {"admin", "manager", "compliance"},
}
ARGS = {"filename": "console.css", "job_id": "0" * 32}


def routes(app):
    out = []
    for rule in app.url_map.iter_rules():
        method = "GET" if "GET" in rule.methods else sorted(rule.methods - {"OPTIONS", "HEAD"})[0]
        values = {a: ARGS.get(a, 1) for a in rule.arguments}
        out.append((rule.endpoint, method, rule.build(values, append_unknown=False)[1]))
    return out


def expected_roles(endpoint: str) -> set[str] | None:
    """None: public."""
    if endpoint in PUBLIC_ENDPOINTS or endpoint.startswith("twilio.") and endpoint != "twilio.token":
        return None
    if endpoint in SINGLE:
        return SINGLE[endpoint]
    return DESIGN[endpoint.rpartition(".")[0]]


def test_every_route_is_declared(app):
    for endpoint, _, _ in routes(app):
        roles = allowed_roles(endpoint)
        assert roles, f"{endpoint} is not in web.roles (it would be refused to everyone)"
        want = expected_roles(endpoint)
        assert (roles is PUBLIC) == (want is None), endpoint
        if want is not None:
            assert set(roles) == want, endpoint


def _call(client, method, path):
    return client.open(path, method=method, headers={"Accept": "text/html"})


def test_anonymous_is_sent_to_sign_in_everywhere_but_public_routes(app):
    client = app.test_client()
    for endpoint, method, path in routes(app):
        r = _call(client, method, path)
        if expected_roles(endpoint) is None:
            assert r.status_code not in (401, 403) and "/login?next" not in r.headers.get("Location", ""), \
                (endpoint, r.status_code)
        else:
            # a form sent signed out comes back to the page it was on (its Referer), never to its POST-only address
            sign_in = "/login?next=" if method == "GET" else "/login"
            assert r.status_code == 302 and r.headers["Location"].startswith(sign_in), (endpoint, r.status_code)
            assert method == "GET" or r.headers["Location"] == "/login", (endpoint, r.headers["Location"])


def test_anonymous_json_callers_get_401(app):
    client = app.test_client()
    for endpoint, method, path in routes(app):
        if expected_roles(endpoint) is None:
            continue
        r = client.open(path, method=method, headers={"Accept": "application/json"})
        assert r.status_code == 401 and r.get_json()["error"] == "not signed in", endpoint


@pytest.mark.parametrize("role", ROLES)
def test_each_role_reaches_exactly_its_routes(app, role):
    client = app.test_client()
    assert AuthActions(client).login(role).status_code == 302
    checked = 0
    for endpoint, method, path in routes(app):
        if endpoint == "auth.logout":
            continue  # would end the session the loop is using; covered in test_console_auth
        want = expected_roles(endpoint)
        r = _call(client, method, path)
        if want is None or role in want:
            # allowed past the gate: a page, a redirect elsewhere, 404 for the placeholder id, 400 for a POST
            # without its CSRF token, 503 for Twilio without configuration; never 401/403 or the sign-in page
            assert r.status_code not in (401, 403), (role, endpoint, r.status_code)
            assert "/login" not in r.headers.get("Location", ""), (role, endpoint)
        else:
            assert r.status_code == 403, (role, endpoint, r.status_code)
        checked += 1
    assert checked >= 20
    assert USERS[role] in client.get("/account/password").get_data(as_text=True)
