"""leads: an index on (campaign_id, created_at), so a past range's list close and summary find the leads created
after the range (taken out of its counts) without reading every lead of the campaign: 150 ms of a 100,000-lead
campaign's 300 ms list close on PostgreSQL went to that scan, and it grows with the leads

Revision ID: r20261207210500
Revises: r20261207201153
"""
from alembic import op

revision = "r20261207210500"
down_revision = "r20261207201153"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("leads") as batch_op:
        batch_op.create_index("ix_leads_campaign_created", ["campaign_id", "created_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("leads") as batch_op:
        batch_op.drop_index("ix_leads_campaign_created")
