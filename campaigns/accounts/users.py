"""Console users: create, find, change password, enable or disable. Shared by ``dialer users`` and the console.

It sits in ``campaigns`` beside the ``User`` model because both the CLI (``dialer``) and the console (``web``) need it
and ``dialer`` may not import ``web``. Passwords are stored only as scrypt hashes (``campaigns.accounts.passwords``);
an agent user is tied to an ``agents`` row, so the dial loop's agent services and the console's agent page speak of
the same seat.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from campaigns.accounts.models import ROLES, User
from campaigns.accounts.passwords import hash_password, outdated, timing_hash, verify_password
from campaigns.agents.models import Agent
from campaigns.agents.service import create_agent, go_offline
from dnc.errors import UserError

MIN_PASSWORD = 10
MAX_PASSWORD = 200
USERNAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{1,79}$")
ROLE_LABELS = {"admin": "Administrator", "manager": "Campaign manager", "agent": "Agent",
               "compliance": "Compliance officer", "sales": "Sales lead"}
ACCOUNT_CHANGED = "account"  # the state reason of a seat taken off the floor because its user no longer may sit it
# Verified when the username is unknown, so a login takes as long for a missing user as for a wrong password.
_DUMMY_HASH = timing_hash()


@dataclass(frozen=True)
class UserRow:
    id: int
    username: str
    role: str
    active: bool
    agent: str | None
    created_at: datetime


def password_problem(password: str, username: str = "") -> str | None:
    """Why a password is refused, or None. Length over composition rules (NIST SP 800-63B)."""
    if len(password) < MIN_PASSWORD:
        return f"password must be at least {MIN_PASSWORD} characters"
    if len(password) > MAX_PASSWORD:
        return f"password must be at most {MAX_PASSWORD} characters"
    if username and password.lower() == username.lower():
        return "password must not be the username"
    if len(set(password)) < 4:
        return "password is too repetitive"
    return None


def username_problem(username: str) -> str | None:
    if not USERNAME.match(username):
        return ("username must be 2-80 characters: letters, digits and . _ @ - "
                "(starting with a letter or digit)")
    return None


def role_problem(role: str) -> str | None:
    return None if role in ROLES else f"role {role!r} is not one of {', '.join(ROLES)}"


def create_user(session: Session, username: str, role: str, password: str, now: datetime,
                agent_name: str | None = None, password_hash: str | None = None) -> User:
    """Create a user; an agent gets an agent seat (``agent_name``: an existing seat to take over, else a new one).

    ``password_hash`` lets tests and the demo reuse one precomputed hash instead of paying scrypt per user.
    """
    username = username.strip()
    for problem in (username_problem(username), role_problem(role),
                    None if password_hash else password_problem(password, username)):
        if problem:
            raise UserError(problem)
    password_hash = password_hash or hash_password(password)  # scrypt before the first query: see set_password
    _name_free(session, username)
    agent_id = None
    if role == "agent":
        agent_id = _agent_seat(session, agent_name or username, now)
    elif agent_name:
        raise UserError("an agent seat applies only to users with the role agent")
    user = User(username=username, role=role, password_hash=password_hash,
                agent_id=agent_id, active=True, created_at=now)
    session.add(user)
    session.flush()
    return user


def _agent_seat(session: Session, name: str, now: datetime) -> int:
    """The agent seat called ``name``: an existing one (e.g. a simulated seat a person takes over, which stops
    being simulated) or a new one."""
    agent = session.scalar(select(Agent).where(Agent.name == name))
    if agent is None:
        agent = create_agent(session, name, now)
    taken = session.scalar(select(User.username).where(User.agent_id == agent.id))
    if taken is not None:
        raise UserError(f"agent seat {name!r} already belongs to user {taken!r}")
    agent.simulated = False  # a person drives this seat now: the demo's simulated agents leave it alone
    return agent.id


def _name_free(session: Session, username: str, keep: User | None = None) -> None:
    """Refuse a name another user has in any case ("alice" beside "Alice"), naming that user as spelled."""
    q = select(User.username).where(func.lower(User.username) == username.lower())
    if keep is not None:
        q = q.where(User.id != keep.id)
    taken = session.scalar(q.limit(1))
    if taken is not None:
        raise UserError(f"a user named {taken!r} already exists (usernames are the same whatever their case)")


def find_user(session: Session, username: str) -> User | None:
    """The user with this name in any case; the exact spelling first, which names one user even in a database
    the case-insensitive upgrade stopped on (two users differing only in case, one of them to be renamed)."""
    username = username.strip()
    exact = session.scalar(select(User).where(User.username == username))
    if exact is not None:
        return exact
    found = session.scalars(select(User).where(func.lower(User.username) == username.lower()).limit(2)).all()
    return found[0] if len(found) == 1 else None


def get_user(session: Session, username: str) -> User:
    user = find_user(session, username)
    if user is None:
        raise UserError(f"no user named {username!r}")
    return user


def rename_user(session: Session, username: str, new_name: str) -> User:
    """Give a user another name (their sessions, seat and history follow the id): what an operator does when the
    upgrade names two users differing only in case. Another case of the same name is allowed."""
    new_name = new_name.strip()
    problem = username_problem(new_name)
    if problem:
        raise UserError(problem)
    user = get_user(session, username)
    _name_free(session, new_name, keep=user)
    user.username = new_name
    session.flush()
    return user


def authenticate(session: Session, username: str, password: str) -> User | None:
    """The active user with this name (in any case) and this exact password, else None (same work whether or not
    the name exists)."""
    user = find_user(session, username)
    if user is None:
        verify_password(_DUMMY_HASH, password)
        return None
    if not verify_password(user.password_hash, password) or not user.active:
        return None
    return user


def upgraded_hash(stored: str, password: str) -> str | None:
    """``password`` hashed at today's cost when ``stored`` (its hash, just verified) is older, else None. Scrypt:
    call it with no transaction open, then ``store_upgraded``."""
    return hash_password(password) if outdated(stored) else None


def store_upgraded(session: Session, user_id: int, old: str, new: str) -> bool:
    """Replace the hash ``old`` by ``new``, only if it is still ``old``: a password changed or reset meanwhile is
    never overwritten with the previous password's new hash."""
    done = session.execute(update(User).where(User.id == user_id, User.password_hash == old)
                           .values(password_hash=new))
    return (done.rowcount or 0) == 1


def set_password(session: Session, username: str, password: str) -> User:
    """Hash first, then look the user up: on SQLite the first query takes the write lock, and scrypt (~0.5 s)
    must not run while it is held."""
    problem = password_problem(password, username.strip())
    if problem:
        raise UserError(problem)
    hashed = hash_password(password)
    user = get_user(session, username)
    user.password_hash = hashed
    return user


def set_active(session: Session, username: str, active: bool, now: datetime) -> User:
    """Enable or disable; a disabled agent's seat leaves the floor now (nobody may sit it: the dial loop would connect
    customers to it until the unattended sweep noticed)."""
    user = get_user(session, username)
    if not active and user.role == "admin" and user.active:
        _keep_an_admin(session, user)
    if not active and user.agent_id is not None:
        go_offline(session, user.agent_id, now, ACCOUNT_CHANGED)
    user.active = active
    return user


def set_role(session: Session, username: str, role: str, now: datetime) -> User:
    user = get_user(session, username)
    problem = role_problem(role)
    if problem:
        raise UserError(problem)
    if user.role == "admin" and role != "admin" and user.active:
        _keep_an_admin(session, user)
    if role == "agent" and user.agent_id is None:
        user.agent_id = _agent_seat(session, user.username, now)
    if role != "agent" and user.agent_id is not None:
        # the seat's page is for agents only: a seat left ready would be dialed for, its person signed in elsewhere
        go_offline(session, user.agent_id, now, ACCOUNT_CHANGED)
    user.role = role
    return user


def _keep_an_admin(session: Session, user: User) -> None:
    """Refuse to remove the last active admin: nobody could manage users afterwards."""
    others = session.scalar(select(User.id).where(User.role == "admin", User.active.is_(True),
                                                  User.id != user.id).limit(1))
    if others is None:
        raise UserError(f"{user.username!r} is the last active admin; create another admin first")


def list_users(session: Session) -> list[UserRow]:
    q = select(User, Agent.name).outerjoin(Agent, Agent.id == User.agent_id).order_by(User.username)
    return [UserRow(u.id, u.username, u.role, u.active, a, u.created_at) for u, a in session.execute(q)]


def free_agent_seats(session: Session) -> list[str]:
    """Agent seats no user holds yet (simulated seats a person may take over, seats of deleted users)."""
    held = select(User.agent_id).where(User.agent_id.is_not(None))
    return list(session.scalars(select(Agent.name).where(Agent.id.not_in(held)).order_by(Agent.name)))


def get_user_by_id(session: Session, user_id: int) -> User | None:
    return session.get(User, user_id)
