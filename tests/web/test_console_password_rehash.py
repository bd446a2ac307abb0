"""A password stored at an older scrypt cost is stored again at today's (``campaigns.accounts.passwords``) when its
user next signs in with it: the only moment the password is known. Old hashes keep working until then; a wrong
password changes nothing; and a password changed meanwhile is never overwritten by the old one's new hash."""

from __future__ import annotations

import pytest
from werkzeug.security import generate_password_hash

from campaigns.accounts import passwords
from campaigns.accounts.models import User
from tests.web.conftest import PASSWORD, USERS

pytestmark = pytest.mark.usefixtures("product_password_cost")


def _stored(sessions, role: str) -> str:
    with sessions() as s:
        return s.query(User).filter_by(username=USERS[role]).one().password_hash


def _older_hashes(sessions) -> str:
    """The manager's and the sales user's password as the console stored it before (werkzeug's scrypt, N=2^15)."""
    old = generate_password_hash(PASSWORD, method="scrypt:32768:8:1")
    with sessions() as s:
        for role in ("manager", "sales"):
            s.query(User).filter_by(username=USERS[role]).one().password_hash = old
        s.commit()
    return old


def test_signing_in_stores_an_older_hash_again_at_todays_cost(client, auth, sessions):
    old = _older_hashes(sessions)
    assert old.startswith("scrypt:32768:") and passwords.outdated(old)
    assert auth.login("manager", password="wrong password here").status_code == 401
    assert _stored(sessions, "manager") == old  # a failed sign-in changes nothing
    assert auth.login("manager").status_code == 302
    new = _stored(sessions, "manager")
    assert new.startswith("scrypt:131072:8:1$") and passwords.verify_password(new, PASSWORD)
    assert client.get("/campaigns/").status_code == 200
    auth.logout()
    assert auth.login("manager").status_code == 302  # the new hash signs in
    assert _stored(sessions, "manager") == new  # and is not stored again
    assert _stored(sessions, "sales") == old  # nobody else's changed


def test_a_password_changed_meanwhile_is_not_overwritten(sessions, seed_users):
    from campaigns.accounts.users import store_upgraded

    old = _older_hashes(sessions)
    with sessions() as s:
        user = s.query(User).filter_by(username=USERS["sales"]).one()
        user.password_hash = "changed by an administrator meanwhile"
        s.commit()
        assert not store_upgraded(s, user.id, old, passwords.hash_password(PASSWORD))
        s.commit()
        assert s.get(User, user.id).password_hash == "changed by an administrator meanwhile"
