"""inbound_messages: texts sent to our numbers, once per carrier message id, and the DNC request a STOP made

Revision ID: r20261207164300
Revises: r20261207133251
"""
import sqlalchemy as sa
from alembic import op

revision = "r20261207164300"
down_revision = "r20261207133251"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "inbound_messages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("provider", sa.String(length=16), nullable=False),
        sa.Column("message_sid", sa.String(length=64), nullable=False),
        sa.Column("sender", sa.String(length=64), nullable=False),
        sa.Column("e164", sa.String(length=20), nullable=True),
        sa.Column("to_number", sa.String(length=64), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("received_at", sa.DateTime(), nullable=False),
        sa.Column("action", sa.String(length=24), nullable=False),
        sa.Column("word", sa.String(length=40), nullable=False),
        sa.Column("entry_id", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inbound_messages")),
        sa.UniqueConstraint("provider", "message_sid", name=op.f("uq_inbound_messages_provider_message_sid")),
    )
    with op.batch_alter_table("inbound_messages") as batch_op:
        batch_op.create_index("ix_inbound_messages_e164", ["e164"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("inbound_messages") as batch_op:
        batch_op.drop_index("ix_inbound_messages_e164")
    op.drop_table("inbound_messages")
