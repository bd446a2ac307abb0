"""inbound_messages: an index on (received_at, id), the order Compliance → Texts received lists them in (newest
first, a page at a time), so a page reads 50 rows instead of sorting every text kept

Revision ID: r20261207201153
Revises: r20261207201000
"""
from alembic import op

revision = "r20261207201153"
down_revision = "r20261207201000"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("inbound_messages") as batch_op:
        batch_op.create_index("ix_inbound_messages_received_at", ["received_at", "id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("inbound_messages") as batch_op:
        batch_op.drop_index("ix_inbound_messages_received_at")
