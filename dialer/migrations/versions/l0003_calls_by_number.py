"""dial loop: calls by number across campaigns (the FL/OK/MD call caps count every call to a number, whatever its
campaign, right before each dial)

Revision ID: l0003
Revises: l0002
"""
from alembic import op

revision = "l0003"
down_revision = "l0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_calls_phone_placed", "calls", ["phone", "placed_at"])


def downgrade() -> None:
    op.drop_index("ix_calls_phone_placed", table_name="calls")
