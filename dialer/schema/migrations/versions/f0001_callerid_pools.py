"""caller-ID pools, spam flags and local-presence settings

Revision ID: f0001
Revises: c0001
"""
import sqlalchemy as sa
from alembic import op

revision = "f0001"
down_revision = "c0001"
branch_labels = ("funnel",)
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("campaigns") as b:
        b.add_column(sa.Column("local_presence", sa.Boolean(), nullable=False, server_default=sa.false()))
        b.add_column(sa.Column("caller_id_daily_cap", sa.Integer(), nullable=False, server_default="150"))
        b.add_column(sa.Column("spam_flag_threshold", sa.Integer(), nullable=False, server_default="3"))
    op.create_table(
        "caller_ids",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("campaign_id", sa.Integer(), sa.ForeignKey("campaigns.id", name="fk_caller_ids_campaign_id_campaigns"),
                  nullable=False),
        sa.Column("number", sa.String(20), nullable=False),
        sa.Column("area_code", sa.String(3), nullable=False),
        sa.Column("state", sa.String(2), nullable=True),
        sa.Column("daily_cap", sa.Integer(), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("retired_at", sa.DateTime(), nullable=True),
        sa.Column("retired_reason", sa.String(200), nullable=True),
        sa.Column("added_at", sa.DateTime(), nullable=False),
        sa.UniqueConstraint("campaign_id", "number", name="uq_caller_ids_campaign_id_number"),
    )
    op.create_index("ix_caller_ids_campaign_id", "caller_ids", ["campaign_id"])
    op.create_table(
        "caller_id_flags",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("caller_id_id", sa.Integer(),
                  sa.ForeignKey("caller_ids.id", name="fk_caller_id_flags_caller_id_id_caller_ids"), nullable=False),
        sa.Column("flagged_by", sa.String(120), nullable=False),
        sa.Column("reason", sa.String(200), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
    )
    op.create_index("ix_caller_id_flags_caller_id_id", "caller_id_flags", ["caller_id_id"])
    # the daily cap and the health view count calls per shown number
    op.create_index("ix_calls_caller_id_placed", "calls", ["caller_id", "placed_at"])


def downgrade() -> None:
    op.drop_index("ix_calls_caller_id_placed", "calls")
    op.drop_table("caller_id_flags")
    op.drop_table("caller_ids")
    with op.batch_alter_table("campaigns") as b:
        b.drop_column("spam_flag_threshold")
        b.drop_column("caller_id_daily_cap")
        b.drop_column("local_presence")
