"""lead search: a lead's other phones found by the number (index on lead_phones.phone)

Revision ID: r20261206180000
Revises: r20261206174500
"""
from alembic import op

revision = "r20261206180000"
down_revision = "r20261206174500"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_lead_phones_phone", "lead_phones", ["phone"])


def downgrade() -> None:
    op.drop_index("ix_lead_phones_phone", table_name="lead_phones")
