"""reports: calls by campaign and number (call-history import: duplicates and attempt numbers per number)

Revision ID: r0002
Revises: r0001
"""
from alembic import op

revision = "r0002"
down_revision = "r0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_calls_campaign_phone", "calls", ["campaign_id", "phone", "placed_at"])


def downgrade() -> None:
    op.drop_index("ix_calls_campaign_phone", table_name="calls")
