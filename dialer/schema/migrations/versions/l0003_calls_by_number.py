"""dial loop: calls by number and by time across campaigns (the FL/OK/MD call caps count every call to a number,
whatever its campaign: the gate looks one number up right before each dial, the funnel looks for the numbers
called often in the last day)

Revision ID: l0003
Revises: m0001
"""
from alembic import op

revision = "l0003"
down_revision = "m0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_calls_phone_placed", "calls", ["phone", "placed_at"])
    op.create_index("ix_calls_placed_phone", "calls", ["placed_at", "phone"])


def downgrade() -> None:
    op.drop_index("ix_calls_placed_phone", table_name="calls")
    op.drop_index("ix_calls_phone_placed", table_name="calls")
