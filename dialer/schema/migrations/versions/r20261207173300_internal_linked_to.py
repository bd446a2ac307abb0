"""dnc_internal.linked_to: an entry that lists another number of a person who asked not to be called names the
request it follows from

Revision ID: r20261207173300
Revises: r20261207170000
"""
import sqlalchemy as sa
from alembic import op

revision = "r20261207173300"
down_revision = "r20261207170000"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("dnc_internal") as batch_op:
        batch_op.add_column(sa.Column("linked_to", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("dnc_internal") as batch_op:
        batch_op.drop_column("linked_to")
