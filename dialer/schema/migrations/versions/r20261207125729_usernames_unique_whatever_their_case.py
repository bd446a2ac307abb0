"""usernames unique whatever their case

Revision ID: r20261207125729
Revises: r20261207062017
Create Date: 2026-12-07 12:57:29

"Alice" and "alice" were two accounts; sign-in now ignores the username's case, so they would be one name for two
people. A unique index on lower(username) makes the database refuse such a pair. A database that already holds
one is not changed at all: the upgrade stops before any change, naming each pair, and an operator renames all but
one of each (``dialer users rename``; which one keeps the name is theirs to say, not a migration's), then upgrades
again. Usernames are ASCII (``campaigns.accounts.users.USERNAME``), so lower() agrees in SQLite and PostgreSQL.
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

from dnc.errors import UserError

# revision identifiers, used by Alembic.
revision: str = 'r20261207125729'
down_revision: Union[str, Sequence[str], None] = 'r20261207062017'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

INDEX = "uq_users_username_lower"


def clashes(conn) -> list[list[tuple[int, str, str]]]:
    """The users whose names differ only in case, as groups of (id, username, role), oldest first."""
    rows = conn.execute(sa.text(
        "SELECT id, username, role FROM users WHERE lower(username) IN "
        "(SELECT lower(username) FROM users GROUP BY lower(username) HAVING count(*) > 1) "
        "ORDER BY lower(username), id")).all()
    groups: dict[str, list[tuple[int, str, str]]] = {}
    for row_id, username, role in rows:
        groups.setdefault(username.lower(), []).append((row_id, username, role))
    return list(groups.values())


def upgrade() -> None:
    groups = clashes(op.get_bind())
    if groups:
        named = "; ".join(" and ".join(f"{name!r} (id {i}, {role})" for i, name, role in g) for g in groups)
        first = groups[0][-1][1]
        raise UserError(
            f"usernames must now be unique whatever their case, and these users differ only in case: {named}. "
            f"Nothing was changed. Rename all but one of each (e.g. `dialer users rename {first} {first}.2`; "
            "they sign in with the new name), then run `dialer db upgrade` again")
    op.create_index(INDEX, "users", [sa.text("lower(username)")], unique=True)


def downgrade() -> None:
    op.drop_index(INDEX, table_name="users")
