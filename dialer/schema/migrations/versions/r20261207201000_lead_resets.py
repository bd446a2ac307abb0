"""lead_resets: each lead a list reset puts back in the queue, with the final status it had and since when, so a past
range's list close counts it as it was then (resets made before this revision were not recorded per lead)

Revision ID: r20261207201000
Revises: r20261207200400
"""
import sqlalchemy as sa
from alembic import op

revision = "r20261207201000"
down_revision = "r20261207200400"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "lead_resets",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("lead_id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("final_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lead_resets")),
    )
    with op.batch_alter_table("lead_resets") as batch_op:
        batch_op.create_index("ix_lead_resets_campaign_at", ["campaign_id", "at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("lead_resets") as batch_op:
        batch_op.drop_index("ix_lead_resets_campaign_at")
    op.drop_table("lead_resets")
