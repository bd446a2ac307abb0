"""dial loop: one live attempt per lead and per number (partial unique indexes), the agent's current call,
agent hang-up requests, and the last pacing decision per campaign

Revision ID: l0001
Revises: c0001
"""
import sqlalchemy as sa
from alembic import op

revision = "l0001"
down_revision = "c0001"
branch_labels = ("loop",)
depends_on = None

LIVE = "ended_at IS NULL"
LIVE_LEAD = "ended_at IS NULL AND lead_id IS NOT NULL"
CALLABLE = "status IN ('new', 'retry', 'callback')"


def upgrade() -> None:
    # "live" = not ended: the database refuses a second live call for a lead or a number, whatever workers believe
    op.create_index("uq_calls_live_lead", "calls", ["lead_id"], unique=True,
                    sqlite_where=sa.text(LIVE_LEAD), postgresql_where=sa.text(LIVE_LEAD))
    op.create_index("uq_calls_live_phone", "calls", ["phone"], unique=True,
                    sqlite_where=sa.text(LIVE), postgresql_where=sa.text(LIVE))
    op.create_index("ix_calls_live_campaign", "calls", ["campaign_id"],
                    sqlite_where=sa.text(LIVE), postgresql_where=sa.text(LIVE))
    # the claim's order (campaigns.dispatch.service.claim): walked in order with LIMIT instead of sorting every due lead
    op.create_index("ix_leads_due", "leads", ["campaign_id", sa.text("priority DESC"),
                                              sa.text("COALESCE(next_attempt_at, created_at)"), "id"],
                    sqlite_where=sa.text(CALLABLE), postgresql_where=sa.text(CALLABLE))
    op.add_column("calls", sa.Column("hangup_requested_at", sa.DateTime(), nullable=True))
    op.add_column("agents", sa.Column("call_id", sa.Integer(), nullable=True))
    op.create_index("ix_agents_ready", "agents", ["campaign_id", "state", "state_since"])
    op.create_table(
        "pacing_status",
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("status", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["campaign_id"], ["campaigns.id"], name=op.f("fk_pacing_status_campaign_id_campaigns")),
        sa.PrimaryKeyConstraint("campaign_id", name=op.f("pk_pacing_status")),
    )


def downgrade() -> None:
    op.drop_table("pacing_status")
    op.drop_index("ix_agents_ready", table_name="agents")
    with op.batch_alter_table("agents") as b:
        b.drop_column("call_id")
    with op.batch_alter_table("calls") as b:
        b.drop_column("hangup_requested_at")
    op.drop_index("ix_leads_due", table_name="leads")
    op.drop_index("ix_calls_live_campaign", table_name="calls")
    op.drop_index("uq_calls_live_phone", table_name="calls")
    op.drop_index("uq_calls_live_lead", table_name="calls")
