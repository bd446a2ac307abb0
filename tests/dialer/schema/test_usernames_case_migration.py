"""The migration that makes usernames unique whatever their case: a database holding "Alice" and "alice" is not
upgraded (nor left half-way): the upgrade stops naming both users and how to rename one, and goes through once
one is renamed."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from dialer.schema.migrate import current, head, upgrade
from dnc.errors import UserError

BEFORE = "r20261207062017"  # the head before usernames were compared whatever their case


def _add_user(engine, username: str, role: str) -> None:
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO users (username, password_hash, role, active, created_at) "
                          "VALUES (:u, 'scrypt:x', :r, true, '2030-01-08 15:00:00')"), {"u": username, "r": role})


def _usernames(engine) -> list[str]:
    with engine.connect() as conn:
        return sorted(conn.execute(text("SELECT username FROM users")).scalars())


def test_a_database_with_two_users_differing_only_in_case_is_refused_whole(old_engine):
    upgrade(old_engine, BEFORE)
    for name, role in (("Alice", "admin"), ("alice", "agent"), ("bob", "manager"), ("BOB.K", "sales")):
        _add_user(old_engine, name, role)
    with pytest.raises(UserError) as refused:
        upgrade(old_engine)
    message = str(refused.value)
    assert "'Alice'" in message and "'alice'" in message and "bob" not in message.lower().replace("bob.k", "")
    assert "dialer users rename" in message
    assert current(old_engine) == {BEFORE}  # nothing applied: the next upgrade starts from the same place
    assert _usernames(old_engine) == ["Alice", "BOB.K", "alice", "bob"]


def test_once_one_is_renamed_the_upgrade_goes_through_and_the_database_refuses_a_new_pair(old_engine):
    upgrade(old_engine, BEFORE)
    _add_user(old_engine, "Alice", "admin")
    _add_user(old_engine, "alice", "agent")
    with old_engine.begin() as conn:
        conn.execute(text("UPDATE users SET username = 'alice.agent' WHERE username = 'alice'"))
    upgrade(old_engine)
    assert current(old_engine) == {head()}
    with pytest.raises(IntegrityError):
        _add_user(old_engine, "ALICE", "sales")
    assert _usernames(old_engine) == ["Alice", "alice.agent"]
