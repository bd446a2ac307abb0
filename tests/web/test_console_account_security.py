"""What a stolen or left-open session can still do to an account, and sign-in links that are not paths.

The sign-in form is throttled, but a session also reaches a password check (the current password on
*Change password*), and a user changes a password most often because they fear someone has their session: the
session they change it from must not be the one a copied cookie still holds afterwards.
"""

from __future__ import annotations

import pytest

from campaigns.accounts import sessions as console_auth
from tests.web.conftest import PASSWORD, USERS

NEW = "a new long passphrase"


def _change(auth, current: str):
    return auth.post("/account/password", {"current": current, "new": NEW, "confirm": NEW})


def test_guessing_the_current_password_from_a_session_is_throttled_like_a_sign_in(client, auth, sessions, clock):
    """Someone at an unattended console (or holding a copied cookie) may not try passwords without end through
    *Change password*: after 5 wrong current passwords the form waits as the sign-in does, even for the right one,
    and the password stays as it was."""
    auth.login("sales")
    clock.advance(60)  # failures count from the last successful sign-in on
    for i in range(5):
        r = _change(auth, f"guess number {i}")
        assert r.status_code == 400 and "This is not your current password." in r.get_data(as_text=True)
    r = _change(auth, PASSWORD)
    assert r.status_code == 429, r.status_code
    assert "Retry-After" in r.headers and "Try again in about 15 minutes" in r.get_data(as_text=True)
    with sessions() as s:  # every guess is recorded where the sign-in throttle counts them
        assert s.query(console_auth.LoginAttempt).filter_by(username=USERS["sales"], ok=False).count() == 5
    auth.logout()
    assert auth.login("sales").status_code == 429  # the same guesses count against signing in from here
    assert auth.login("sales", password=NEW).status_code == 429  # and nothing was changed


def test_changing_ones_password_ends_the_session_a_copied_cookie_holds(client, auth, app):
    """The session the password is changed from gets a new token: a copy of its cookie taken before (the reason
    the user changes it) stops working, while the user stays signed in."""
    auth.login("manager")
    name = app.config["SESSION_COOKIE_NAME"]
    thief = app.test_client()
    thief.set_cookie(name, client.get_cookie(name).value)
    assert thief.get("/campaigns/").status_code == 200
    r = _change(auth, PASSWORD)
    assert r.status_code == 302
    assert client.get("/campaigns/").status_code == 200  # the user goes on
    r = thief.get("/campaigns/")
    assert r.status_code == 302 and "/login" in r.headers["Location"]


@pytest.mark.parametrize("target", ["/campaigns/\r\nSet-Cookie: planted=1", "/campaigns/\nX-Injected: 1",
                                    "/\x0b/evil.example", "/campaigns/\x7f"])
def test_a_next_link_with_control_characters_signs_in_to_the_role_page(client, auth, target):
    """A crafted sign-in link (``/login?next=`` with a line break) must not turn a correct sign-in into a server
    error, nor reach a header: control characters are not part of a path, so the role's page is the target."""
    r = client.post("/login", data={"username": USERS["manager"], "password": PASSWORD, "csrf_token": auth.token(),
                                    "next": target})
    assert r.status_code == 302 and r.headers["Location"] == "/campaigns/"
    assert "planted" not in r.headers.get("Set-Cookie", "")


def test_an_admin_resetting_their_own_password_ends_the_session_a_copied_cookie_holds(client, auth, app, sessions):
    """The administrator's reset on the *Users* page, used on their own account, is a password change too."""
    from campaigns.accounts.models import User

    with sessions() as s:
        me = s.query(User).filter_by(username=USERS["admin"]).one().id
    auth.login("admin")
    name = app.config["SESSION_COOKIE_NAME"]
    thief = app.test_client()
    thief.set_cookie(name, client.get_cookie(name).value)
    assert thief.get("/admin/users/").status_code == 200
    r = auth.post(f"/admin/users/{me}/password", {"pw-password": NEW, "pw-confirm": NEW}, page=f"/admin/users/{me}")
    assert r.status_code == 302
    assert client.get("/admin/users/").status_code == 200
    r = thief.get("/admin/users/")
    assert r.status_code == 302 and "/login" in r.headers["Location"]
