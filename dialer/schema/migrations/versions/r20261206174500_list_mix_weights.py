"""lists: the list mix by weights (a share of the dials per list) and the weighted draw's running credit

Revision ID: r20261206174500
Revises: r20261206142421
"""
import sqlalchemy as sa
from alembic import op

revision = "r20261206174500"
down_revision = "r20261206142421"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("lead_lists") as b:
        b.add_column(sa.Column("mix_weight", sa.Integer(), nullable=True))
        b.add_column(sa.Column("mix_credit", sa.Float(), nullable=False, server_default="0"))


def downgrade() -> None:
    with op.batch_alter_table("lead_lists") as b:
        b.drop_column("mix_credit")
        b.drop_column("mix_weight")
