"""Twilio: carrier callback inbox (unique per call and event) and job leases for the scheduler.

Revision ID: t0001
Revises: c0001
"""
import sqlalchemy as sa
from alembic import op

revision = "t0001"
down_revision = "c0001"
branch_labels = ("twilio",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "carrier_callbacks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("provider", sa.String(length=16), nullable=False),
        sa.Column("call_sid", sa.String(length=64), nullable=False),
        sa.Column("event_key", sa.String(length=48), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("rank", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=True),
        sa.Column("outcome", sa.String(length=16), nullable=True),
        sa.Column("answered_by", sa.String(length=24), nullable=True),
        sa.Column("digits", sa.String(length=16), nullable=True),
        sa.Column("sequence", sa.Integer(), nullable=True),
        sa.Column("waits_for_amd", sa.Boolean(), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("carrier_at", sa.DateTime(), nullable=False),
        sa.Column("received_at", sa.DateTime(), nullable=False),
        sa.Column("processed_at", sa.DateTime(), nullable=True),
        sa.Column("result", sa.String(length=16), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_carrier_callbacks")),
        sa.UniqueConstraint("provider", "call_sid", "event_key",
                            name=op.f("uq_carrier_callbacks_provider_call_sid_event_key")),
    )
    op.create_index("ix_carrier_callbacks_pending", "carrier_callbacks", ["processed_at", "id"])
    op.create_index("ix_carrier_callbacks_call", "carrier_callbacks", ["call_sid"])
    op.create_table(
        "job_leases",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("holder", sa.String(length=120), nullable=True),
        sa.Column("expires_at", sa.DateTime(), nullable=True),
        sa.Column("last_run_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_job_leases")),
    )


def downgrade() -> None:
    op.drop_table("job_leases")
    op.drop_index("ix_carrier_callbacks_call", table_name="carrier_callbacks")
    op.drop_index("ix_carrier_callbacks_pending", table_name="carrier_callbacks")
    op.drop_table("carrier_callbacks")
