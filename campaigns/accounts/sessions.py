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
    """How many failed logins lock what, and for how long."""

    window_s: int = 15 * 60
    per_username: int = 5
    per_remote: int = 20


@dataclass(frozen=True)
class SessionPolicy:
    idle_s: int = 60 * 60  # an unattended console signs out after an hour (the floor and agent pages poll)
    absolute_s: int = 12 * 60 * 60  # one shift
    touch_every_s: int = 60  # write last_seen at most once a minute


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def locked_for(session: Session, username: str, remote: str, now: datetime, throttle: Throttle = Throttle()) -> int:
    """Seconds until another login may be tried for this username or from this address (0 = go ahead).

    Failures count within the window and, per username, only since that user's last successful login.
    """
    since = now - timedelta(seconds=throttle.window_s)
    last_ok = session.scalar(select(func.max(LoginAttempt.at)).where(
        LoginAttempt.username == username, LoginAttempt.ok.is_(True)))
    user_since = max(since, last_ok) if last_ok else since
    waits = []
    for column, value, start, limit in ((LoginAttempt.username, username, user_since, throttle.per_username),
                                        (LoginAttempt.remote, remote, since, throttle.per_remote)):
        times = session.scalars(select(LoginAttempt.at).where(column == value, LoginAttempt.ok.is_(False),
                                                              LoginAttempt.at > start)
                                .order_by(LoginAttempt.at.desc()).limit(limit)).all()
        if len(times) >= limit:
            waits.append((times[-1] + timedelta(seconds=throttle.window_s) - now).total_seconds())
    return max(0, int(max(waits, default=0)) + (1 if waits else 0))


def record_attempt(session: Session, username: str, remote: str, ok: bool, now: datetime) -> None:
    session.add(LoginAttempt(username=username[:80], remote=remote[:64], at=now, ok=ok))
    session.flush()


def start_session(session: Session, user: User, now: datetime, remote: str = "", user_agent: str = "") -> str:
    """A new console session for ``user``; returns the token for the cookie (only its hash is stored)."""
    token = secrets.token_urlsafe(32)
    session.add(ConsoleSession(id=_digest(token), user_id=user.id, created_at=now, last_seen_at=now,
                               remote=remote[:64], user_agent=user_agent[:200]))
    session.flush()
    return token


def resume_session(session: Session, token: str, now: datetime,
                   policy: SessionPolicy = SessionPolicy()) -> User | None:
    """The active user behind a live session token, else None (ended, idle too long, too old, user disabled)."""
    row = session.get(ConsoleSession, _digest(token)) if token else None
    if row is None or row.ended_at is not None:
        return None
    if (now - row.last_seen_at).total_seconds() > policy.idle_s or \
            (now - row.created_at).total_seconds() > policy.absolute_s:
        row.ended_at = now
        return None
    user = session.get(User, row.user_id)
    if user is None or not user.active:
        row.ended_at = now
        return None
    if (now - row.last_seen_at).total_seconds() >= policy.touch_every_s:
        row.last_seen_at = now
    return user


def end_session(session: Session, token: str, now: datetime) -> None:
    session.execute(update(ConsoleSession).where(ConsoleSession.id == _digest(token),
                                                 ConsoleSession.ended_at.is_(None)).values(ended_at=now))


def end_user_sessions(session: Session, user_id: int, now: datetime, keep_token: str | None = None) -> int:
    """End every live session of a user (disabled, password or role changed); returns how many."""
    q = update(ConsoleSession).where(ConsoleSession.user_id == user_id, ConsoleSession.ended_at.is_(None))
    if keep_token:
        q = q.where(ConsoleSession.id != _digest(keep_token))
    return session.execute(q.values(ended_at=now)).rowcount or 0
