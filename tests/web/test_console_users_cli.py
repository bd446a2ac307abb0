"""``dialer users``: the first admin, agents with seats, password rules, the last-admin guard."""

import io
import json

from campaigns.accounts.models import User
from campaigns.accounts.sessions import resume_session, start_session
from campaigns.accounts.users import authenticate, create_user
from campaigns.agents.models import Agent

PW = "correct horse battery"


def add(dialer, monkeypatch, *args, password=PW):
    monkeypatch.setattr("sys.stdin", io.StringIO(password + "\n"))
    return dialer("users", "add", *args, "--password-stdin")


def test_first_admin_from_stdin_can_authenticate(dialer, monkeypatch, sessions):
    r = add(dialer, monkeypatch, "root", "--role", "admin", "--json")
    assert r.code == 0, r.err
    out = json.loads(r.out)
    assert out["username"] == "root" and out["role"] == "admin" and out["agent_id"] is None
    with sessions() as s:
        user = s.query(User).filter_by(username="root").one()
        assert user.password_hash.startswith("scrypt:") and PW not in user.password_hash
        assert authenticate(s, "root", PW).id == user.id
        assert authenticate(s, "root", PW + "x") is None
        assert authenticate(s, "nobody", PW) is None


def test_agent_gets_a_seat_or_takes_over_an_existing_one(dialer, monkeypatch, sessions, clock):
    assert add(dialer, monkeypatch, "ann", "--role", "agent").code == 0
    with sessions() as s:
        s.add(Agent(name="sim-07", simulated=True))
        s.commit()
    r = add(dialer, monkeypatch, "bob", "--role", "agent", "--agent", "sim-07")
    assert r.code == 0, r.err
    with sessions() as s:
        seats = {u.username: s.get(Agent, u.agent_id).name for u in s.query(User)}
        assert s.query(Agent).filter_by(name="sim-07").one().simulated is False  # a person drives it now
    assert seats == {"ann": "ann", "bob": "sim-07"}
    r = add(dialer, monkeypatch, "carl", "--role", "agent", "--agent", "sim-07")
    assert r.code == 2 and "already belongs to user 'bob'" in r.err


def test_mistakes_are_one_line_and_exit_2(dialer, monkeypatch):
    r = add(dialer, monkeypatch, "root", "--role", "admin", password="short")
    assert r.code == 2 and r.err.strip() == "error: password must be at least 10 characters"
    r = add(dialer, monkeypatch, "bad name!", "--role", "admin")
    assert r.code == 2 and "username must be" in r.err
    r = add(dialer, monkeypatch, "root", "--role", "admin", password="")
    assert r.code == 2 and "no password on standard input" in r.err
    assert add(dialer, monkeypatch, "root", "--role", "admin").code == 0
    r = add(dialer, monkeypatch, "root", "--role", "sales")
    assert r.code == 2 and "already exists" in r.err
    r = add(dialer, monkeypatch, "sam", "--role", "sales", "--agent", "x")
    assert r.code == 2 and "only to users with the role agent" in r.err


def test_last_admin_cannot_be_disabled_and_disable_ends_sessions(dialer, monkeypatch, sessions, clock):
    add(dialer, monkeypatch, "root", "--role", "admin")
    r = dialer("users", "disable", "root")
    assert r.code == 2 and "last active admin" in r.err
    add(dialer, monkeypatch, "mia", "--role", "manager")
    with sessions() as s:
        token = start_session(s, s.query(User).filter_by(username="mia").one(), clock.now())
        s.commit()
    assert dialer("users", "disable", "mia").code == 0
    with sessions() as s:
        assert resume_session(s, token, clock.now()) is None
        assert authenticate(s, "mia", PW) is None
    assert dialer("users", "enable", "mia").code == 0
    r = dialer("users", "list", "--json")
    rows = {u["username"]: u for u in json.loads(r.out)["users"]}
    assert rows["mia"]["active"] is True and rows["root"]["role"] == "admin"


def test_passwd_changes_password_and_ends_sessions(dialer, monkeypatch, sessions, clock):
    add(dialer, monkeypatch, "mia", "--role", "manager")
    with sessions() as s:
        token = start_session(s, s.query(User).filter_by(username="mia").one(), clock.now())
        s.commit()
    monkeypatch.setattr("sys.stdin", io.StringIO("a much better passphrase\n"))
    assert dialer("users", "passwd", "mia", "--password-stdin").code == 0
    with sessions() as s:
        assert resume_session(s, token, clock.now()) is None
        assert authenticate(s, "mia", "a much better passphrase") is not None


def test_create_user_accepts_a_precomputed_hash(session, clock):
    from werkzeug.security import generate_password_hash

    h = generate_password_hash(PW, method="pbkdf2:sha256:1000")
    user = create_user(session, "fast", "sales", "", clock.now(), password_hash=h)
    assert authenticate(session, "fast", PW).id == user.id


def test_a_username_differing_only_in_case_is_refused_naming_the_existing_user(dialer, monkeypatch, sessions):
    assert add(dialer, monkeypatch, "Alice", "--role", "admin").code == 0
    r = add(dialer, monkeypatch, "alice", "--role", "agent")
    assert r.code == 2 and "a user named 'Alice' already exists" in r.err
    with sessions() as s:
        assert [u.username for u in s.query(User)] == ["Alice"]
        assert s.query(Agent).count() == 0  # no seat made for the refused agent


def test_dialer_users_rename_gives_a_user_a_new_name(dialer, monkeypatch, sessions):
    """What an operator runs when the upgrade names two users differing only in case."""
    assert add(dialer, monkeypatch, "Alice", "--role", "admin").code == 0
    assert add(dialer, monkeypatch, "bob", "--role", "sales").code == 0
    r = dialer("users", "rename", "alice", "alice.admin")
    assert r.code == 0 and "'Alice' is now 'alice.admin'" in r.out, r.err
    r = dialer("users", "rename", "alice.admin", "BOB")
    assert r.code == 2 and "a user named 'bob' already exists" in r.err
    r = dialer("users", "rename", "alice.admin", "Alice.Admin")  # the same user, another case: allowed
    assert r.code == 0, r.err
    with sessions() as s:
        assert sorted(u.username for u in s.query(User)) == ["Alice.Admin", "bob"]
        assert authenticate(s, "alice.admin", PW) is not None
