"""Console sign-in records: login attempts (for throttling and audit) and server-side console sessions.

Both live in the database, not in a web process's memory, so throttling holds across several console processes and
a session can be ended for real: logging out, disabling a user or changing a password revokes the session rows, and
a copied cookie stops working at once. The browser holds only a random token; the table keeps its SHA-256.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from campaigns.accounts.models import ConsoleSession, LoginAttempt, User


@dataclass(frozen=True)
class Throttle:
    """How failed sign-ins are throttled. The source (the client's address) and the pair (that address and that
    username) are made to wait; the account itself is only slowed, so nobody can lock a user out by failing for them
    from elsewhere: the real user, from an address that has not failed, waits at most ``slow_s``."""

    window_s: int = 15 * 60
    per_username: int = 5  # failures for one username from anywhere: then one password check per ``slow_s``
    per_remote: int = 20  # failures from one address (any username): that address waits out the window
    per_pair: int = 5  # failures for one username from one address: that pair waits out the window
    slow_s: int = 10


@dataclass(frozen=True)
class SessionPolicy:
    """How long a console session lives. The idle hour counts from the user's last action (``acted_at``): a page's
    own polling is not someone at the keyboard, except an agent's whose seat takes calls (``AT_WORK``): waiting
    for the next call is work. Presence (``last_seen_at``, any request) is what keeps a seat on the floor."""

    idle_s: int = 60 * 60  # an unattended console signs out after an hour without an action
    absolute_s: int = 12 * 60 * 60  # one shift, whatever happens in it
    touch_every_s: int = 10  # write last_seen / acted at most every 10 s (the seat's page polls every 2 s)
    seat_grace_s: int = 45  # a seat whose user has no session seen this recently is taken off the floor


AT_WORK = frozenset(("ready", "talking", "wrap"))  # a seat taking calls: its page's polls count as the agent acting


@dataclass(frozen=True)
class Reservation:
    """A password check that may go ahead (``attempt``, recorded as failed until ``succeeded`` says otherwise) or
    how long to wait (``wait`` seconds; ``slowed``: only the account is slowed, the source is not locked)."""

    attempt: int | None = None
    wait: int = 0
    slowed: bool = False


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _serialize(session: Session, *keys: str) -> None:
    """Take the throttle's locks: one per key, always in the same order (no deadlock). On PostgreSQL a transaction
    advisory lock; on SQLite the product's transactions already hold the one write lock."""
    if session.get_bind().dialect.name == "postgresql":
        for key in sorted(keys):
            session.execute(select(func.pg_advisory_xact_lock(func.hashtext(key))))


def reserve(session: Session, username: str, remote: str, now: datetime,
            throttle: Throttle = Throttle()) -> Reservation:
    """Count and record an attempt as one atomic step, before the password is checked.

    The attempt is written as failed at once, so parallel requests see each other: 30 wrong passwords sent together
    get at most the allowed number of checks. Commit right away (a short transaction), check the password with no
    transaction open, then ``succeeded``. Failures count within the window and, per username and pair, only since
    that user's last successful sign-in.
    """
    username, remote = username[:80].lower(), remote[:64]  # every spelling of a name is one account (as sign-in)
    _serialize(session, f"login-remote:{remote}", f"login-user:{username}")
    since = now - timedelta(seconds=throttle.window_s)
    last_ok = session.scalar(select(func.max(LoginAttempt.at)).where(
        LoginAttempt.username == username, LoginAttempt.ok.is_(True)))
    user_since = max(since, last_ok) if last_ok else since

    def failures(limit: int, *where) -> list[datetime]:
        return list(session.scalars(select(LoginAttempt.at).where(LoginAttempt.ok.is_(False), *where)
                                    .order_by(LoginAttempt.at.desc()).limit(limit)))

    waits = []
    for times, limit in ((failures(throttle.per_remote, LoginAttempt.remote == remote, LoginAttempt.at > since),
                          throttle.per_remote),
                         (failures(throttle.per_pair, LoginAttempt.remote == remote, LoginAttempt.username == username,
                                   LoginAttempt.at > user_since), throttle.per_pair)):
        if len(times) >= limit:
            waits.append((times[-1] + timedelta(seconds=throttle.window_s) - now).total_seconds())
    if waits:
        return Reservation(wait=max(1, int(max(waits)) + 1))
    account = failures(throttle.per_username, LoginAttempt.username == username, LoginAttempt.at > user_since)
    if len(account) >= throttle.per_username:
        wait = (account[0] + timedelta(seconds=throttle.slow_s) - now).total_seconds()
        if wait > 0:
            return Reservation(wait=max(1, int(wait) + (wait % 1 > 0)), slowed=True)
    row = LoginAttempt(username=username, remote=remote, at=now, ok=False)
    session.add(row)
    session.flush()
    return Reservation(attempt=row.id)


def succeeded(session: Session, attempt: int) -> None:
    session.execute(update(LoginAttempt).where(LoginAttempt.id == attempt).values(ok=True))


def start_session(session: Session, user: User, now: datetime, remote: str = "", user_agent: str = "") -> str:
    """A new console session for ``user``; returns the token for the cookie (only its hash is stored)."""
    token = secrets.token_urlsafe(32)
    session.add(ConsoleSession(id=_digest(token), user_id=user.id, created_at=now, last_seen_at=now, acted_at=now,
                               remote=remote[:64], user_agent=user_agent[:200]))
    session.flush()
    return token


def resume_session(session: Session, token: str, now: datetime, policy: SessionPolicy = SessionPolicy(),
                   polling: bool = False) -> User | None:
    """The active user behind a live session token, else None (ended, idle too long, too old, user disabled).

    ``polling``: the request is a page's own poll, not the user's action; it keeps the session seen (the seat
    present) but the idle hour running, unless the user's seat is taking calls (``AT_WORK``)."""
    row = session.get(ConsoleSession, _digest(token)) if token else None
    if row is None or row.ended_at is not None:
        return None
    if (now - row.acted_at).total_seconds() > policy.idle_s or \
            (now - row.created_at).total_seconds() > policy.absolute_s:
        row.ended_at = now
        return None
    user = session.get(User, row.user_id)
    if user is None or not user.active:
        row.ended_at = now
        return None
    if (now - row.last_seen_at).total_seconds() >= policy.touch_every_s:
        row.last_seen_at = now
    if (now - row.acted_at).total_seconds() >= policy.touch_every_s and (not polling or _at_work(session, user)):
        row.acted_at = now
    return user


def _at_work(session: Session, user: User) -> bool:
    from campaigns.agents.models import Agent

    if user.agent_id is None:
        return False
    return session.scalar(select(Agent.state).where(Agent.id == user.agent_id)) in AT_WORK


def end_session(session: Session, token: str, now: datetime) -> None:
    session.execute(update(ConsoleSession).where(ConsoleSession.id == _digest(token),
                                                 ConsoleSession.ended_at.is_(None)).values(ended_at=now))


def end_user_sessions(session: Session, user_id: int, now: datetime, keep_token: str | None = None) -> int:
    """End every live session of a user (disabled, password or role changed); returns how many."""
    q = update(ConsoleSession).where(ConsoleSession.user_id == user_id, ConsoleSession.ended_at.is_(None))
    if keep_token:
        q = q.where(ConsoleSession.id != _digest(keep_token))
    return session.execute(q.values(ended_at=now)).rowcount or 0


UNATTENDED = "unattended"  # the state reason of a seat whose person left it (the agent's page says so)


def unattended_seats(session: Session, now: datetime, policy: SessionPolicy = SessionPolicy()) -> list[int]:
    """Take off the floor every person's seat (an agent tied to a user, not a simulated one) that is not offline
    while its user has no live console session seen within ``seat_grace_s``: signed out, the session expired or
    ended, or the page stopped polling (the browser closed, the laptop asleep). Otherwise the dial loop would
    connect a customer to an empty seat. Returns the agents taken offline (a call in progress is hung up)."""
    from campaigns.agents.models import Agent
    from campaigns.agents.service import go_offline

    seen = select(ConsoleSession.user_id).where(
        ConsoleSession.ended_at.is_(None), ConsoleSession.last_seen_at >= now - timedelta(seconds=policy.seat_grace_s))
    left = session.scalars(select(Agent.id).join(User, User.agent_id == Agent.id).where(
        Agent.state != "offline", Agent.simulated.is_(False), User.id.not_in(seen))).all()
    return [a for a in left if go_offline(session, a, now, UNATTENDED)]
