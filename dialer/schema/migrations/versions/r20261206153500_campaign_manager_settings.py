"""campaign manager: the campaign's own calling days and wrap-up limit, the list mix, who may join which campaign,
and the history of changes people make (who, when, old -> new)

Revision ID: r20261206153500
Revises: r20261206152747
"""
import sqlalchemy as sa
from alembic import op

revision = "r20261206153500"
down_revision = "r20261206152747"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("campaigns") as b:
        b.add_column(sa.Column("calling_days", sa.String(16), nullable=False, server_default="1234567"))
        b.add_column(sa.Column("wrap_limit_s", sa.Integer(), nullable=True))
        b.add_column(sa.Column("wrap_limit_then", sa.String(8), nullable=False, server_default="ready"))
    with op.batch_alter_table("lead_lists") as b:
        b.add_column(sa.Column("mix_rank", sa.Integer(), nullable=False, server_default="0"))
    op.create_table(
        "campaign_changes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("by", sa.String(120), nullable=False),
        sa.Column("subject", sa.String(64), nullable=False),
        sa.Column("field", sa.String(64), nullable=False),
        sa.Column("old", sa.Text(), nullable=False),
        sa.Column("new", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["campaign_id"], ["campaigns.id"], name=op.f("fk_campaign_changes_campaign_id_campaigns")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_campaign_changes")),
    )
    op.create_index("ix_campaign_changes_campaign_at", "campaign_changes", ["campaign_id", "at"])
    op.create_table(
        "agent_campaigns",
        sa.Column("agent_id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["agent_id"], ["agents.id"], name=op.f("fk_agent_campaigns_agent_id_agents")),
        sa.ForeignKeyConstraint(["campaign_id"], ["campaigns.id"], name=op.f("fk_agent_campaigns_campaign_id_campaigns")),
        sa.PrimaryKeyConstraint("agent_id", "campaign_id", name=op.f("pk_agent_campaigns")),
    )
    op.create_index(op.f("ix_agent_campaigns_campaign_id"), "agent_campaigns", ["campaign_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_agent_campaigns_campaign_id"), table_name="agent_campaigns")
    op.drop_table("agent_campaigns")
    op.drop_index("ix_campaign_changes_campaign_at", table_name="campaign_changes")
    op.drop_table("campaign_changes")
    with op.batch_alter_table("lead_lists") as b:
        b.drop_column("mix_rank")
    with op.batch_alter_table("campaigns") as b:
        b.drop_column("wrap_limit_then")
        b.drop_column("wrap_limit_s")
        b.drop_column("calling_days")
