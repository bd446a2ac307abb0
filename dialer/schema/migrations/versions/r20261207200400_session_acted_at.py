"""console_sessions.acted_at: when the session's user last did something (a page, a form, a click), apart from when
it was last seen (any request, a page's polling too): the idle hour counts from the first, a seat's presence from
the second

Revision ID: r20261207200400
Revises: r20261207200000
"""
import sqlalchemy as sa
from alembic import op

revision = "r20261207200400"
down_revision = "r20261207200000"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("console_sessions") as batch_op:
        batch_op.add_column(sa.Column("acted_at", sa.DateTime(), nullable=True))
    op.execute("UPDATE console_sessions SET acted_at = last_seen_at")
    with op.batch_alter_table("console_sessions") as batch_op:
        batch_op.alter_column("acted_at", existing_type=sa.DateTime(), nullable=False)


def downgrade() -> None:
    with op.batch_alter_table("console_sessions") as batch_op:
        batch_op.drop_column("acted_at")
