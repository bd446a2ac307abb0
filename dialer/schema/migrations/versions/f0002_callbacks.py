"""callbacks with a history: pending, fired, missed, cancelled

Revision ID: f0002
Revises: f0001
"""
import sqlalchemy as sa
from alembic import op

revision = "f0002"
down_revision = "f0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "callbacks",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("campaign_id", sa.Integer(), sa.ForeignKey("campaigns.id", name="fk_callbacks_campaign_id_campaigns"),
                  nullable=False),
        sa.Column("lead_id", sa.Integer(), sa.ForeignKey("leads.id", name="fk_callbacks_lead_id_leads"), nullable=False),
        sa.Column("agent_id", sa.Integer(), sa.ForeignKey("agents.id", name="fk_callbacks_agent_id_agents"),
                  nullable=True),
        sa.Column("requested_at", sa.DateTime(), nullable=False),
        sa.Column("due_at", sa.DateTime(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("note", sa.String(400), nullable=False),
        sa.Column("cancelled_reason", sa.String(200), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("closed_at", sa.DateTime(), nullable=True),
    )
    op.create_index("ix_callbacks_lead_id", "callbacks", ["lead_id"])
    op.create_index("ix_callbacks_campaign_status_due", "callbacks", ["campaign_id", "status", "due_at"])


def downgrade() -> None:
    op.drop_table("callbacks")
