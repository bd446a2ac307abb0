"""Sign-in, sign-out, throttling, session fixation, revocation, CSRF and the security headers."""

from __future__ import annotations

from campaigns.accounts import sessions as console_auth
from campaigns.accounts.models import User
from tests.web.conftest import PASSWORD, USERS


def test_login_lands_on_the_role_page_and_logout_ends_the_session(client, auth):
    r = auth.login("manager")
    assert r.status_code == 302 and r.headers["Location"] == "/campaigns/"
    page = client.get("/campaigns/")
    assert page.status_code == 200 and "manager-user" in page.get_data(as_text=True)
    assert auth.logout().status_code == 302
    r = client.get("/campaigns/")
    assert r.status_code == 302 and r.headers["Location"].startswith("/login?next=/campaigns/")


def test_wrong_password_says_so_on_the_form(client, auth):
    r = auth.login("manager", password="wrong password!")
    html = r.get_data(as_text=True)
    assert r.status_code == 401 and "Wrong username or password" in html
    r = auth.login("nobody-at-all")
    assert r.status_code == 401


def test_empty_fields_are_named_next_to_them(client, auth):
    r = client.post("/login", data={"username": "", "password": "", "csrf_token": auth.token()})
    html = r.get_data(as_text=True)
    assert r.status_code == 400
    assert 'id="username-error">Enter your username.' in html and 'id="password-error">Enter your password.' in html


def test_failed_logins_lock_the_username_then_unlock_after_the_window(client, auth, clock, sessions):
    for _ in range(5):
        assert auth.login("sales", password="not the password").status_code == 401
    r = auth.login("sales")  # the right password, but locked now
    assert r.status_code == 429 and "Too many failed sign-ins" in r.get_data(as_text=True)
    assert auth.login("manager").status_code == 302  # another user from the same address is not locked
    clock.advance(15 * 60 + 1)
    assert auth.login("sales").status_code == 302
    with sessions() as s:
        assert s.query(console_auth.LoginAttempt).filter_by(username=USERS["sales"], ok=False).count() == 5


def test_many_usernames_from_one_address_lock_the_address(client, auth, app):
    app.config["LOGIN_THROTTLE"] = console_auth.Throttle(per_username=50, per_remote=4)
    for i in range(4):
        auth.login(f"guess{i}", password="x" * 12)
    assert auth.login("manager").status_code == 429


def test_session_fixation_new_session_on_login(client, auth, app):
    """Whatever the session held before signing in (a planted value, the CSRF secret) does not survive it."""
    with client.session_transaction() as sess:
        sess["planted"] = "by-an-attacker"
    before_csrf = auth.token()
    with client.session_transaction() as sess:
        before = dict(sess)
    assert auth.login("manager").status_code == 302
    with client.session_transaction() as sess:
        after = dict(sess)
    assert "planted" not in after
    assert after.get("csrf_token") != before.get("csrf_token")
    assert after["_user_id"] and after["_user_id"] != before.get("_user_id")
    assert auth.token("/campaigns/") != before_csrf


def test_a_copied_cookie_stops_working_after_logout(client, auth, app):
    auth.login("manager")
    cookie = client.get_cookie(app.config["SESSION_COOKIE_NAME"]).value
    auth.logout()
    thief = app.test_client()
    thief.set_cookie(app.config["SESSION_COOKIE_NAME"], cookie)
    r = thief.get("/campaigns/")
    assert r.status_code == 302 and "/login" in r.headers["Location"]


def test_disabling_a_user_ends_their_sessions_at_once(client, auth, app, sessions, clock):
    auth.login("manager")
    assert client.get("/campaigns/").status_code == 200
    with sessions() as s:
        user = s.query(User).filter_by(username=USERS["manager"]).one()
        user.active = False
        s.commit()
    assert client.get("/campaigns/").status_code == 302


def test_idle_sessions_expire(client, auth, clock):
    auth.login("manager")
    clock.advance(61 * 60)
    assert client.get("/campaigns/").status_code == 302


def test_open_redirect_is_refused(client, auth):
    token = auth.token()
    for target in ("https://evil.example/", "//evil.example/x", "/\\evil.example"):
        r = client.post("/login", data={"username": USERS["sales"], "password": PASSWORD, "csrf_token": token,
                                        "next": target})
        assert r.status_code == 302 and not r.headers["Location"].startswith("http"), target
        auth.logout()
        token = auth.token()
    r = client.post("/login", data={"username": USERS["manager"], "password": PASSWORD, "csrf_token": token,
                                    "next": "/campaigns/new"})
    assert r.headers["Location"] == "/campaigns/new"


def test_csrf_is_required_on_every_form(client, auth):
    r = client.post("/login", data={"username": USERS["manager"], "password": PASSWORD})
    assert r.status_code == 400 and "CSRF" in r.get_data(as_text=True)
    auth.login("manager")
    r = client.post("/campaigns/new", data={"name": "X", "caller_id": "+12125550100"})
    assert r.status_code == 400
    r = client.post("/campaigns/new", data={"name": "X", "caller_id": "+12125550100", "csrf_token": "forged"})
    assert r.status_code == 400
    r = client.post("/logout")
    assert r.status_code == 400  # logging someone out needs a token too
    assert client.get("/campaigns/").status_code == 200


def test_csrf_token_of_another_session_is_refused(app, auth, client):
    other = app.test_client()
    foreign = csrf_token = auth.token()
    del csrf_token
    auth_other = type(auth)(other)
    auth_other.login("manager")
    r = other.post("/campaigns/new", data={"name": "X", "caller_id": "+12125550100", "csrf_token": foreign})
    assert r.status_code == 400


def test_security_headers_on_every_response(client, auth):
    for path in ("/login", "/static/console.css", "/no-such-page"):
        h = client.get(path).headers
        assert "script-src 'self'" in h["Content-Security-Policy"] and "unsafe-inline" not in \
            h["Content-Security-Policy"]
        assert "frame-ancestors 'none'" in h["Content-Security-Policy"]
        assert h["X-Frame-Options"] == "DENY" and h["X-Content-Type-Options"] == "nosniff"
        assert h["Referrer-Policy"] == "same-origin"
    assert client.get("/login").headers["Cache-Control"] == "no-store"


def test_cookies_are_secure_httponly_samesite_by_default(app_config, seed_users):
    from web import create_app

    config = {k: v for k, v in app_config.items() if k != "SESSION_COOKIE_SECURE"}
    app = create_app(config)
    c = app.test_client()
    html = c.get("/login", base_url="https://console.example").get_data(as_text=True)
    from tests.web.conftest import csrf_from

    r = c.post("/login", data={"username": USERS["manager"], "password": PASSWORD, "csrf_token": csrf_from(html)},
               base_url="https://console.example", headers={"Referer": "https://console.example/login"})
    cookie = r.headers["Set-Cookie"]
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert r.headers.get("Strict-Transport-Security", "").startswith("max-age=")


def test_password_change_checks_the_current_one_and_names_problems(client, auth):
    auth.login("sales")
    r = auth.post("/account/password", {"current": "wrong", "new": "short", "confirm": "other"})
    html = r.get_data(as_text=True)
    assert r.status_code == 400
    assert "Password must be at least 10 characters." in html and "The two new passwords differ." in html
    r = auth.post("/account/password", {"current": "wrong one", "new": "a new long passphrase",
                                        "confirm": "a new long passphrase"})
    assert "This is not your current password." in r.get_data(as_text=True)
    r = auth.post("/account/password", {"current": PASSWORD, "new": "a new long passphrase",
                                        "confirm": "a new long passphrase"})
    assert r.status_code == 302
    auth.logout()
    assert auth.login("sales").status_code == 401
    assert auth.login("sales", password="a new long passphrase").status_code == 302


def test_error_pages_are_clear(client, auth):
    auth.login("manager")
    r = client.get("/campaigns/999999")
    assert r.status_code == 404 and "Not found" in r.get_data(as_text=True)
    r = client.get("/admin/users/")
    assert r.status_code == 403 and "Not for your role" in r.get_data(as_text=True)
    r = client.get("/campaigns/999999", headers={"Accept": "application/json"})
    assert r.status_code == 404 and r.get_json() == {"error": "Not found"}
    r = client.put("/campaigns/")
    assert r.status_code == 405


def test_the_console_can_follow_an_accelerated_demo_clock(app_config, seed_users):
    from datetime import UTC, datetime, timedelta

    from web import create_app
    from web.context import ScaledClock

    anchor = datetime.now(UTC) - timedelta(seconds=10)
    config = {k: v for k, v in app_config.items() if k != "CLOCK"} | {"CLOCK_ANCHOR": anchor.isoformat(),
                                                                      "CLOCK_SPEED": 60.0}
    clock = create_app(config).extensions["console"].clock
    assert isinstance(clock, ScaledClock)
    ahead = clock.now() - anchor
    assert timedelta(seconds=590) < ahead < timedelta(seconds=700)  # 10 s of wall time = 10 minutes
