"""dial_workers.presence: the key of the advisory lock a live worker holds, so the others see at once when it dies

Revision ID: r20261207001330
Revises: r20261206184500
"""
import sqlalchemy as sa
from alembic import op

revision = "r20261207001330"
down_revision = "r20261206184500"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("dial_workers") as batch_op:
        batch_op.add_column(sa.Column("presence", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("dial_workers") as batch_op:
        batch_op.drop_column("presence")
