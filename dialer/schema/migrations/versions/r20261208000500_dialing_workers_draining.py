"""dial_workers.draining: a worker stopping after SIGTERM says so on its row, so the others share the campaigns it
does not hold among themselves instead of counting it in the fair share (it takes nothing while it drains)

Revision ID: r20261208000500
Revises: r20261207210500
"""
import sqlalchemy as sa
from alembic import op

revision = "r20261208000500"
down_revision = "r20261207210500"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("dial_workers") as batch_op:
        batch_op.add_column(sa.Column("draining", sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table("dial_workers") as batch_op:
        batch_op.drop_column("draining")
