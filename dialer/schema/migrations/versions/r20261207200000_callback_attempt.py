"""carrier_callbacks.attempt: the attempt token a status callback's URL carried, so a create whose answer was lost is
settled by its own callbacks rather than by the number and the moment

Revision ID: r20261207200000
Revises: r20261207173300
"""
import sqlalchemy as sa
from alembic import op

revision = "r20261207200000"
down_revision = "r20261207173300"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("carrier_callbacks") as batch_op:
        batch_op.add_column(sa.Column("attempt", sa.String(length=32), nullable=True))
        batch_op.create_index("ix_carrier_callbacks_attempt", ["attempt"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("carrier_callbacks") as batch_op:
        batch_op.drop_index("ix_carrier_callbacks_attempt")
        batch_op.drop_column("attempt")
