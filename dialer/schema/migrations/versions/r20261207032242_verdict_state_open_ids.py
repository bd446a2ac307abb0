"""verdict_state.open_ids: the call ids the verdicts stepped over (a call can commit after a later id was judged)

Revision ID: r20261207032242
Revises: r20261207001330
"""
import sqlalchemy as sa
from alembic import op

revision = "r20261207032242"
down_revision = "r20261207001330"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("verdict_state") as batch_op:
        batch_op.add_column(sa.Column("open_ids", sa.JSON(), server_default="[]", nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("verdict_state") as batch_op:
        batch_op.drop_column("open_ids")
