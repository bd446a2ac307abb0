"""lead_call_stats.last_settled_at: when each lead's last call was settled, so a past range's list close reads
the lead's status as it was then (filled by the rollup rebuild that rollup version 7 triggers)

Revision ID: r20261207133251
Revises: r20261207132626
"""
import sqlalchemy as sa
from alembic import op

revision = "r20261207133251"
down_revision = "r20261207132626"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("lead_call_stats") as batch_op:
        batch_op.add_column(sa.Column("last_settled_at", sa.DateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("lead_call_stats") as batch_op:
        batch_op.drop_column("last_settled_at")
