"""``dialer users``: console accounts. ``dialer users add admin --role admin`` creates the first administrator."""

from __future__ import annotations

import sys
from dataclasses import asdict

import click

from campaigns.accounts.models import ROLES
from campaigns.accounts.users import (
    create_user,
    get_user,
    list_users,
    password_problem,
    rename_user,
    set_active,
    set_password,
    set_role,
)
from dialer.cli.context import CliContext, emit_json, pass_ctx, table
from dnc.errors import UserError


@click.group("users")
def users() -> None:
    """Console accounts: add users, list them, reset passwords, enable and disable."""


def _read_password(from_stdin: bool, username: str) -> str:
    """The new password: one line from stdin (scripts), else typed twice without echo."""
    if from_stdin:
        line = sys.stdin.readline()
        password = line.rstrip("\r\n")
        if not password:
            raise UserError("--password-stdin: no password on standard input")
    else:
        password = click.prompt(f"password for {username}", hide_input=True, confirmation_prompt=True,
                                err=True)
    problem = password_problem(password, username)
    if problem:
        raise UserError(problem)
    return password


@users.command("add")
@click.argument("username")
@click.option("--role", required=True, type=click.Choice(ROLES),
              help="admin, manager (campaign manager), agent, compliance (officer) or sales (lead).")
@click.option("--agent", "agent_name", default=None,
              help="For agents: the agent seat to use (an existing one, e.g. a simulated seat to take over; "
                   "default: a new seat named after the user).")
@click.option("--password-stdin", is_flag=True, help="Read the password from the first line of standard input.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@pass_ctx
def add(ctx: CliContext, username: str, role: str, agent_name: str | None, password_stdin: bool,
        as_json: bool) -> None:
    """Create console user USERNAME with ROLE (the password is asked for, or read with --password-stdin)."""
    password = _read_password(password_stdin, username)
    with ctx.session() as s:
        user = create_user(s, username, role, password, ctx.clock.now(), agent_name=agent_name)
        out = {"id": user.id, "username": user.username, "role": user.role, "agent_id": user.agent_id}
    if as_json:
        emit_json(out)
    else:
        seat = f", agent seat #{out['agent_id']}" if out["agent_id"] else ""
        click.echo(f"created user {out['username']!r} ({out['role']}{seat})")


@users.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@pass_ctx
def list_(ctx: CliContext, as_json: bool) -> None:
    """List console users with their roles."""
    with ctx.session() as s:
        rows = [asdict(r) for r in list_users(s)]
    if as_json:
        emit_json({"users": rows})
        return
    click.echo(table([{**r, "created_at": f"{r['created_at']:%Y-%m-%d %H:%M}"} for r in rows],
                     ["username", "role", "active", "agent", "created_at"]))


@users.command("passwd")
@click.argument("username")
@click.option("--password-stdin", is_flag=True, help="Read the password from the first line of standard input.")
@pass_ctx
def passwd(ctx: CliContext, username: str, password_stdin: bool) -> None:
    """Set a new password for USERNAME (ends the user's console sessions)."""
    from campaigns.accounts.sessions import end_user_sessions

    password = _read_password(password_stdin, username)
    with ctx.session() as s:
        user = set_password(s, username, password)
        end_user_sessions(s, user.id, ctx.clock.now())
    click.echo(f"password of {username!r} changed")


@users.command("role")
@click.argument("username")
@click.argument("role", type=click.Choice(ROLES))
@pass_ctx
def role(ctx: CliContext, username: str, role: str) -> None:
    """Give USERNAME another ROLE (ends the user's console sessions)."""
    from campaigns.accounts.sessions import end_user_sessions

    with ctx.session() as s:
        user = set_role(s, username, role, ctx.clock.now())
        end_user_sessions(s, user.id, ctx.clock.now())
    click.echo(f"{username!r} is now {role}")


@users.command("rename")
@click.argument("username")
@click.argument("new_name")
@pass_ctx
def rename(ctx: CliContext, username: str, new_name: str) -> None:
    """Give USERNAME the name NEW_NAME (they sign in with it from now on; sessions and seat stay theirs)."""
    with ctx.session() as s:
        was = get_user(s, username).username  # as stored: the name typed may differ in case
        now = rename_user(s, username, new_name).username
    click.echo(f"{was!r} is now {now!r}")


def _toggle(active: bool, verb: str):
    @click.argument("username")
    @pass_ctx
    def cmd(ctx: CliContext, username: str) -> None:
        from campaigns.accounts.sessions import end_user_sessions

        with ctx.session() as s:
            user = set_active(s, username, active, ctx.clock.now())
            if not active:
                end_user_sessions(s, user.id, ctx.clock.now())
        click.echo(f"{username!r} {verb}d")

    cmd.__doc__ = f"{verb.capitalize()} USERNAME" + ("" if active else " (and end its console sessions).")
    return users.command(verb)(cmd)


_toggle(True, "enable")
_toggle(False, "disable")
