"""Sign-in, sign-out and password change; the Flask-Login wiring over server-side console sessions.

The cookie carries a random session token (Flask-Login's user id is that token, not the user's id), so signing in
always starts a brand-new session (the pre-login session is cleared: no fixation), signing out ends it in the
database, and failed logins are throttled per username and per address across every console process.
"""

from __future__ import annotations

from datetime import datetime
from urllib.parse import urlsplit

from flask import Blueprint, Flask, current_app, flash, redirect, render_template, request, session, url_for
from flask_login import LoginManager, UserMixin, current_user, login_user, logout_user
from flask_wtf import FlaskForm
from wtforms import HiddenField, PasswordField, StringField
from wtforms.validators import DataRequired, EqualTo, Length, ValidationError

from campaigns.accounts import sessions as console_auth
from campaigns.accounts.models import User
from campaigns.accounts.users import (
    ROLE_LABELS,
    authenticate,
    password_problem,
    set_password,
    store_upgraded,
    upgraded_hash,
)
from campaigns.agents.service import go_offline
from web.activity import is_poll
from web.context import db, now, reads

bp = Blueprint("auth", __name__)
HOMES = {"admin": "users.index", "manager": "campaigns.index", "agent": "agent.seat",
         "compliance": "compliance.index", "sales": "reports.index"}


class ConsoleUser(UserMixin):
    """The signed-in user as views see it; ``get_id`` is the session token, so a session can be revoked."""

    def __init__(self, token: str, user: User) -> None:
        self.token = token
        self.user_id = user.id
        self.username = user.username
        self.role = user.role
        self.agent_id = user.agent_id

    def get_id(self) -> str:
        return self.token

    @property
    def role_label(self) -> str:
        return ROLE_LABELS.get(self.role, self.role)


class LoginForm(FlaskForm):
    username = StringField("Username", validators=[DataRequired("Enter your username."), Length(max=80)],
                           render_kw={"autocomplete": "username", "autofocus": True})
    password = PasswordField("Password", validators=[DataRequired("Enter your password."), Length(max=200)],
                             render_kw={"autocomplete": "current-password"})
    next = HiddenField()


class PasswordForm(FlaskForm):
    current = PasswordField("Current password", validators=[DataRequired("Enter your current password.")],
                            render_kw={"autocomplete": "current-password"})
    new = PasswordField("New password", validators=[DataRequired("Choose a new password.")],
                        render_kw={"autocomplete": "new-password"})
    confirm = PasswordField("New password again", validators=[EqualTo("new", "The two new passwords differ.")],
                            render_kw={"autocomplete": "new-password"})

    def validate_new(self, field) -> None:
        problem = password_problem(field.data or "", current_user.username)
        if problem:
            raise ValidationError(problem[0].upper() + problem[1:] + ".")


def remote_address() -> str:
    return (request.remote_addr or "")[:64]


def home_for(role: str) -> str:
    """The role's main page; the console's start page when this build has none for the role."""
    endpoint = HOMES.get(role)
    return url_for(endpoint if endpoint in current_app.view_functions else "home.index")


def _safe_next(target: str | None) -> str | None:
    """Only a path on this site (no scheme, no host, no ``//``, no control character): an open redirect would make
    phishing easy."""
    if not target or any(ord(c) < 32 or ord(c) == 127 for c in target):
        return None  # a control character is in no path: a line break would reach the Location header (a 500)
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return None
    return target


def _reserve(username: str, remote: str, t: datetime) -> console_auth.Reservation:
    """Count a password check before it is made (a short write, committed at once): the sign-in and the current
    password on *Change password* share one count, since both guess the same secret."""
    spot = console_auth.reserve(db(), username, remote, t, current_app.config.get("LOGIN_THROTTLE")
                                or console_auth.Throttle())
    db().commit()
    return spot


def _throttled(form: FlaskForm, spot: console_auth.Reservation, template: str):
    """429 with the form and how long to wait (``Retry-After``)."""
    if spot.slowed:
        form.form_errors.append(f"This account had several failed sign-ins, so it is slowed down: wait "
                                f"{spot.wait} seconds, then try again.")
    else:
        minutes = max(1, round(spot.wait / 60))
        form.form_errors.append(f"Too many failed sign-ins. Try again in about {minutes} minute"
                                f"{'s' if minutes != 1 else ''}.")
    response = current_app.make_response((render_template(template, form=form), 429))
    response.headers["Retry-After"] = str(spot.wait)
    return response


def restart_session(user: User, t: datetime) -> int:
    """End every session of ``user`` (the signed-in user), this one too, and go on under a new token: after a password
    change a copy of this session's cookie, taken by whoever made the user change it, is signed out with the rest.
    Returns how many other sessions ended; the caller commits."""
    ended = console_auth.end_user_sessions(db(), user.id, t)
    token = console_auth.start_session(db(), user, t, remote_address(), request.headers.get("User-Agent", ""))
    login_user(ConsoleUser(token, user))
    return max(0, ended - 1)


@bp.route("/login", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated and request.method == "GET":
        return redirect(home_for(current_user.role))
    form = LoginForm()
    if request.method == "GET":
        form.next.data = request.args.get("next", "")
    status = 200
    if form.validate_on_submit():
        username, remote, t = form.username.data.strip(), remote_address(), now()
        # Three steps, so no transaction holds SQLite's write lock across the password check (scrypt, ~0.5 s):
        # reserve the attempt (a short write), check the password on the reading session, then (only on success)
        # a short write that starts the console session.
        spot = _reserve(username, remote, t)
        if spot.attempt is None:
            return _throttled(form, spot, "auth/login.html")
        user = authenticate(reads(), username, form.password.data)
        stored = user.password_hash if user is not None else ""
        reads().rollback()
        if user is None:
            form.form_errors.append("Wrong username or password (or the account is disabled).")
            status = 401
        else:
            upgraded = upgraded_hash(stored, form.password.data)  # an older cost: scrypt again, still unlocked
            console_auth.succeeded(db(), spot.attempt)
            if upgraded is not None:
                store_upgraded(db(), user.id, stored, upgraded)
            if current_user.is_authenticated:  # a second sign-in in the same browser ends the first session
                console_auth.end_session(db(), current_user.token, t)
            target = _safe_next(form.next.data)
            session.clear()  # new session: nothing from before the sign-in survives (session fixation)
            token = console_auth.start_session(db(), user, t, remote, request.headers.get("User-Agent", ""))
            db().commit()
            session.permanent = True
            login_user(ConsoleUser(token, user))
            return redirect(target or home_for(user.role))
    elif request.method == "POST":
        status = 400
    return render_template("auth/login.html", form=form), status


@bp.post("/logout")
def logout():
    console_auth.end_session(db(), current_user.token, now())
    if current_user.agent_id is not None:  # an empty seat must not stay ready for the dial loop
        go_offline(db(), current_user.agent_id, now())
    db().commit()
    logout_user()
    session.clear()
    flash("You are signed out.", "info")
    return redirect(url_for("auth.login"))


@bp.route("/account/password", methods=["GET", "POST"])
def password():
    """Change one's own password. The current password is a guess like a sign-in's (throttled with it), and every
    session ends, this one too: it goes on under a new token, so a copy of its cookie (why people change a password)
    is signed out with the rest."""
    form = PasswordForm()
    if form.validate_on_submit():
        t = now()
        spot = _reserve(current_user.username, remote_address(), t)
        if spot.attempt is None:
            return _throttled(form, spot, "auth/password.html")
        user = authenticate(reads(), current_user.username, form.current.data)  # no lock held across scrypt
        reads().rollback()
        if user is None:
            form.current.errors.append("This is not your current password.")
        else:
            set_password(db(), user.username, form.new.data)  # scrypt first, then the write lock
            console_auth.succeeded(db(), spot.attempt)
            ended = restart_session(user, t)
            db().commit()
            flash("Password changed" + (f"; {ended} other session{'s' if ended != 1 else ''} signed out."
                                        if ended > 0 else "."), "success")
            return redirect(home_for(user.role))
    return render_template("auth/password.html", form=form), 400 if form.errors else 200


def init_auth(app: Flask) -> None:
    manager = LoginManager(app)
    manager.login_view = "auth.login"
    manager.session_protection = "basic"

    @manager.user_loader
    def load(token: str) -> ConsoleUser | None:
        # on the reading session: every request passes here, and most only read (a write, to end an expired
        # session or note last_seen once a minute, takes the lock at that statement and only until the commit)
        user = console_auth.resume_session(reads(), token, now(), polling=is_poll())
        reads().commit()
        return ConsoleUser(token, user) if user is not None else None
