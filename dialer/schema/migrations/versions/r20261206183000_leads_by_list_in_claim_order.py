"""the list mix: each list's callable leads in claim order (priority, due, id), so the claim reads one list
without sorting the whole queue

Revision ID: r20261206183000
Revises: r20261206180000
"""
import sqlalchemy as sa
from alembic import op

revision = "r20261206183000"
down_revision = "r20261206180000"
branch_labels = None
depends_on = None

CALLABLE = "status IN ('new', 'retry', 'callback')"


def upgrade() -> None:
    op.create_index("ix_leads_list_due", "leads",
                    ["list_id", sa.text("priority DESC"), sa.text("COALESCE(next_attempt_at, created_at)"), "id"],
                    sqlite_where=sa.text(CALLABLE), postgresql_where=sa.text(CALLABLE))


def downgrade() -> None:
    op.drop_index("ix_leads_list_due", table_name="leads")
