"""agents.after_call, agents.after_call_reason: an agent's "pause / log out after this call", said while on it

Revision ID: r20261207170000
Revises: r20261207164300
"""
import sqlalchemy as sa
from alembic import op

revision = "r20261207170000"
down_revision = "r20261207164300"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("agents") as batch_op:
        batch_op.add_column(sa.Column("after_call", sa.String(16), nullable=True))
        batch_op.add_column(sa.Column("after_call_reason", sa.String(64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("agents") as batch_op:
        batch_op.drop_column("after_call_reason")
        batch_op.drop_column("after_call")
