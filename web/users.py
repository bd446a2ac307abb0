"""``/admin/users``: the administrator creates console users, changes roles, disables accounts, resets passwords.

Every change that alters what a user may do (role, disabled, new password) ends that user's console sessions.
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import BooleanField, PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, EqualTo, ValidationError

from campaigns.accounts import sessions as console_auth
from campaigns.accounts.models import ROLES
from campaigns.accounts.users import (
    ROLE_LABELS,
    create_user,
    free_agent_seats,
    get_user_by_id,
    list_users,
    password_problem,
    set_active,
    set_password,
    set_role,
    username_problem,
)
from dnc.errors import UserError
from web.auth import restart_session
from web.context import db, now, reads
from web.forms import choices

bp = Blueprint("users", __name__, url_prefix="/admin/users")
ROLE_CHOICES = [(r, ROLE_LABELS[r]) for r in ROLES]
NEW_SEAT = ""


def _check_password(form, field) -> None:
    problem = password_problem(field.data or "", getattr(form, "username_value", ""))
    if problem:
        raise ValidationError(problem[0].upper() + problem[1:] + ".")


class NewUserForm(FlaskForm):
    username = StringField("Username", validators=[DataRequired("Choose a username.")])
    role = SelectField("Role", choices=choices(ROLE_CHOICES), default="agent")  # the least privileged
    agent_seat = SelectField("Agent seat", choices=[], validate_choice=False)
    password = PasswordField("Password", validators=[DataRequired("Choose a password."), _check_password],
                             render_kw={"autocomplete": "new-password"})
    confirm = PasswordField("Password again", validators=[EqualTo("password", "The two passwords differ.")],
                            render_kw={"autocomplete": "new-password"})

    @property
    def username_value(self) -> str:
        return (self.username.data or "").strip()

    def validate_username(self, field) -> None:
        problem = username_problem(self.username_value)
        if problem:
            raise ValidationError(problem[0].upper() + problem[1:] + ".")

    def validate_agent_seat(self, field) -> None:
        if field.data and self.role.data != "agent":
            raise ValidationError("Only agents have a seat; choose “new seat” or the role Agent.")


class EditUserForm(FlaskForm):
    role = SelectField("Role", choices=choices(ROLE_CHOICES))
    active = BooleanField("Account active (may sign in)")


class ResetPasswordForm(FlaskForm):
    password = PasswordField("New password", validators=[DataRequired("Choose a password."), _check_password],
                             render_kw={"autocomplete": "new-password"})
    confirm = PasswordField("New password again", validators=[EqualTo("password", "The two passwords differ.")],
                            render_kw={"autocomplete": "new-password"})


@bp.get("/")
def index():
    return render_template("users/index.html", users=list_users(db()), labels=ROLE_LABELS)


@bp.route("/new", methods=["GET", "POST"])
def new():
    form = NewUserForm()
    form.agent_seat.choices = choices([(NEW_SEAT, "new seat named after the user")]
                                      + [(n, n) for n in free_agent_seats(reads())])
    if form.validate_on_submit():
        try:
            user = create_user(db(), form.username_value, form.role.data, form.password.data, now(),
                               agent_name=form.agent_seat.data or None)
            db().commit()
        except UserError as e:
            db().rollback()
            target = form.username if "user named" in str(e) or "username" in str(e) else \
                form.agent_seat if "seat" in str(e) else None
            (target.errors if target else form.form_errors).append(str(e)[0].upper() + str(e)[1:] + ".")
        else:
            flash(f"User {user.username} created ({ROLE_LABELS[user.role]}).", "success")
            return redirect(url_for("users.index"))
    return render_template("users/new.html", form=form), 400 if form.errors or form.form_errors else 200


@bp.route("/<int:user_id>", methods=["GET", "POST"])
def edit(user_id: int):
    user = get_user_by_id(db(), user_id)
    if user is None:
        abort(404)
    form = EditUserForm(obj=user)
    pw_form = ResetPasswordForm(prefix="pw")
    if form.validate_on_submit():
        try:
            changed = []
            if form.role.data != user.role:
                set_role(db(), user.username, form.role.data, now())
                changed.append(f"role {ROLE_LABELS[form.role.data]}")
            if bool(form.active.data) != user.active:
                if user.id == current_user.user_id and not form.active.data:
                    raise UserError("you cannot disable your own account")
                set_active(db(), user.username, bool(form.active.data), now())
                changed.append("enabled" if form.active.data else "disabled")
            if changed:
                console_auth.end_user_sessions(db(), user.id, now(),
                                               keep_token=current_user.token if user.id == current_user.user_id
                                               else None)
            db().commit()
        except UserError as e:
            db().rollback()
            form.form_errors.append(str(e)[0].upper() + str(e)[1:] + ".")
        else:
            flash(f"{user.username}: " + (", ".join(changed) if changed else "nothing changed") + ".", "success")
            return redirect(url_for("users.index"))
    return render_template("users/edit.html", user=user, form=form, pw_form=pw_form, labels=ROLE_LABELS), \
        400 if form.errors or form.form_errors else 200


@bp.post("/<int:user_id>/password")
def reset_password(user_id: int):
    user = get_user_by_id(reads(), user_id)  # set_password hashes before it takes the write lock
    reads().rollback()
    if user is None:
        abort(404)
    form = EditUserForm(obj=user, formdata=None)
    pw_form = ResetPasswordForm(prefix="pw")
    pw_form.username_value = user.username
    if pw_form.validate_on_submit():
        changed = set_password(db(), user.username, pw_form.password.data)
        if user.id == current_user.user_id:  # one's own password: this session restarts too (web.auth)
            restart_session(changed, now())
        else:
            console_auth.end_user_sessions(db(), user.id, now())
        db().commit()
        flash(f"New password set for {user.username}; their sessions were signed out.", "success")
        return redirect(url_for("users.index"))
    return render_template("users/edit.html", user=user, form=form, pw_form=pw_form, labels=ROLE_LABELS), 400
