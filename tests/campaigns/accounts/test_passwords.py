"""Password hashes at OWASP's current scrypt cost (N=2^17, r=8, p=1) for every new or changed password; a hash at
an older cost (the console's N=2^15, a precomputed pbkdf2) keeps working and is reported as outdated, so a sign-in
can store the password again at today's cost."""

from __future__ import annotations

import pytest

from campaigns.accounts import passwords

pytestmark = pytest.mark.usefixtures("product_password_cost")


def _old_scrypt(password: str, n: int = 2 ** 15) -> str:
    salt = "abcdefghij012345"
    return f"scrypt:{n}:8:1${salt}${passwords._scrypt(password, salt, n, 8, 1)}"


def test_a_new_hash_has_the_current_cost_and_is_not_outdated():
    stored = passwords.hash_password("correct horse battery")
    assert stored.startswith("scrypt:131072:8:1$")
    assert passwords.verify_password(stored, "correct horse battery")
    assert not passwords.verify_password(stored, "correct horse batterY")
    assert not passwords.outdated(stored)


@pytest.mark.parametrize("stored", [
    _old_scrypt("correct horse battery"),
    "pbkdf2:sha256:1000$salt$" + __import__("hashlib").pbkdf2_hmac("sha256", b"correct horse battery", b"salt",
                                                                    1000).hex(),
])
def test_an_older_hash_still_verifies_and_is_outdated(stored):
    assert passwords.verify_password(stored, "correct horse battery")
    assert passwords.outdated(stored)


def test_what_is_not_a_hash_is_not_outdated_nor_verified():
    for stored in ("", "plain", "scrypt:x:8:1$s$00", "bcrypt$2b$..."):
        assert not passwords.verify_password(stored, "x") and not passwords.outdated(stored)
