"""Usernames are one whatever their case: "Alice" and "alice" cannot both exist (the services refuse, naming the
user who exists; the database refuses too), and a sign-in finds the user whatever case is typed (the password
stays exact). The sign-in throttle counts every spelling of a name as that one account."""

from __future__ import annotations

import pytest
from sqlalchemy.exc import IntegrityError

from campaigns.accounts import sessions as console_auth
from campaigns.accounts.models import User
from campaigns.accounts.users import authenticate, create_user, get_user
from dnc.errors import UserError

PW = "correct horse battery"


def test_a_second_user_differing_only_in_case_is_refused_naming_the_first(session, clock):
    create_user(session, "Alice", "admin", PW, clock.now())
    with pytest.raises(UserError, match="a user named 'Alice' already exists"):
        create_user(session, "alice", "agent", PW, clock.now())
    with pytest.raises(UserError, match="'Alice'"):
        create_user(session, "ALICE", "sales", PW, clock.now())


def test_the_database_refuses_the_pair_whatever_writes_it(session, clock):
    session.add(User(username="Alice", password_hash="scrypt:x", role="admin", active=True, created_at=clock.now()))
    session.flush()
    session.add(User(username="aLICE", password_hash="scrypt:x", role="agent", active=True, created_at=clock.now()))
    with pytest.raises(IntegrityError):
        session.flush()


def test_sign_in_takes_the_username_in_any_case_and_the_password_exactly(session, clock):
    user = create_user(session, "Alice.Smith", "manager", PW, clock.now())
    for typed in ("alice.smith", "ALICE.SMITH", " Alice.Smith "):
        assert authenticate(session, typed, PW).id == user.id
    assert authenticate(session, "alice.smith", PW.upper()) is None
    assert get_user(session, "ALICE.smith").id == user.id  # the CLI's passwd, role, enable, disable


def test_the_throttle_counts_every_spelling_of_a_name_as_one_account(session, clock):
    throttle = console_auth.Throttle()
    for i in range(throttle.per_username):
        spelling = "".join(c.upper() if (i >> k) & 1 else c for k, c in enumerate("alice"))
        spot = console_auth.reserve(session, spelling, f"10.0.0.{i + 1}", clock.now(), throttle)
        assert spot.attempt is not None
    assert console_auth.reserve(session, "ALICE", "10.0.1.1", clock.now(), throttle).slowed
