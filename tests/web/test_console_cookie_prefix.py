"""Served over https (Secure cookies, the default), the console's cookies carry the ``__Host-`` prefix: a browser
then keeps them only if they are Secure, for Path=/ and without a Domain, so neither a sibling subdomain nor a
plain-http page of the host can plant or overwrite the session (a fixed session, a CSRF token of the attacker's).
On the demo's plain http (``DIALER_COOKIE_SECURE=0``) a ``__Host-`` cookie would be refused, so the plain name
stays. The forms' CSRF token lives in that session cookie; the remember-me cookie follows the same rule."""

from __future__ import annotations

from dnc import settings
from tests.web.conftest import PASSWORD, USERS, csrf_from
from tests.web.test_console_header_names import GOOD

HTTPS = "https://console.example"


def _https_app(app_config):
    from web import create_app

    return create_app({k: v for k, v in app_config.items() if k != "SESSION_COOKIE_SECURE"})


def _set_cookies(response) -> list[str]:
    return response.headers.getlist("Set-Cookie")


def test_over_https_the_session_cookie_is_host_prefixed_and_sign_in_works(app_config, seed_users):
    app = _https_app(app_config)
    assert app.config["SESSION_COOKIE_NAME"] == "__Host-dialer_session"
    assert app.config["REMEMBER_COOKIE_NAME"].startswith("__Host-")
    c = app.test_client()
    page = c.get("/login", base_url=HTTPS)
    (cookie,) = _set_cookies(page)  # the session holding the sign-in form's CSRF token
    name, _, rest = cookie.partition("=")
    assert name == "__Host-dialer_session"
    attrs = [a.strip().lower() for a in rest.split(";")[1:]]
    assert "secure" in attrs and "path=/" in attrs and not any(a.startswith("domain") for a in attrs), cookie
    r = c.post("/login", data={"username": USERS["manager"], "password": PASSWORD,
                               "csrf_token": csrf_from(page.get_data(as_text=True))},
               base_url=HTTPS, headers={"Referer": f"{HTTPS}/login"})
    assert r.status_code == 302, r.get_data(as_text=True)
    assert all(s.startswith("__Host-") for s in _set_cookies(r)), _set_cookies(r)
    assert c.get("/campaigns/", base_url=HTTPS).status_code == 200  # the prefixed cookie carries the session
    html = c.get("/campaigns/new", base_url=HTTPS).get_data(as_text=True)
    r = c.post("/campaigns/new", data={**GOOD, "csrf_token": csrf_from(html)},
               base_url=HTTPS, headers={"Referer": f"{HTTPS}/campaigns/new"})
    assert r.status_code == 302, r.get_data(as_text=True)  # the CSRF token in the prefixed session is accepted


def test_a_host_prefixed_cookie_is_never_given_a_domain(app_config, seed_users):
    from web import create_app

    app = create_app({**{k: v for k, v in app_config.items() if k != "SESSION_COOKIE_SECURE"},
                      "SESSION_COOKIE_DOMAIN": "console.example"})
    assert app.config["SESSION_COOKIE_DOMAIN"] is None and app.config["SESSION_COOKIE_PATH"] == "/"
    cookie = _set_cookies(app.test_client().get("/login", base_url=HTTPS))[0]
    assert cookie.startswith("__Host-") and "domain" not in cookie.lower()


def test_on_plain_http_the_cookie_keeps_its_plain_name(app_config, seed_users):
    from web import create_app

    with settings.overridden(DIALER_COOKIE_SECURE="0", DIALER_PUBLIC_BASE_URL="http://127.0.0.1:8000"):
        app = create_app({k: v for k, v in app_config.items() if k != "SESSION_COOKIE_SECURE"})
    assert app.config["SESSION_COOKIE_NAME"] == "dialer_session"
    assert app.config.get("REMEMBER_COOKIE_NAME", "remember_token") == "remember_token"  # Flask-Login's name
    cookie = _set_cookies(app.test_client().get("/login"))[0]
    assert cookie.startswith("dialer_session=") and "secure" not in cookie.lower()
