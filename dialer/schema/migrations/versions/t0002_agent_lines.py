"""Twilio: agents' nailed-up lines, the last result of each periodic job; the AMD wait flag goes (the answer is
delivered at once and the verdict is its own event).

Revision ID: t0002
Revises: t0001
"""
import sqlalchemy as sa
from alembic import op

revision = "t0002"
down_revision = "t0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "agent_lines",
        sa.Column("agent_id", sa.Integer(), nullable=False),
        sa.Column("phone", sa.String(length=20), nullable=True),
        sa.Column("call_sid", sa.String(length=64), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("since", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("agent_id", name=op.f("pk_agent_lines")),
        sa.ForeignKeyConstraint(["agent_id"], ["agents.id"], name=op.f("fk_agent_lines_agent_id_agents")),
    )
    with op.batch_alter_table("carrier_callbacks") as b:
        b.drop_column("waits_for_amd")
    with op.batch_alter_table("job_leases") as b:
        b.add_column(sa.Column("last_result", sa.JSON(), nullable=True))
        b.add_column(sa.Column("last_error", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("job_leases") as b:
        b.drop_column("last_error")
        b.drop_column("last_result")
    with op.batch_alter_table("carrier_callbacks") as b:
        b.add_column(sa.Column("waits_for_amd", sa.Boolean(), nullable=False, server_default=sa.false()))
    op.drop_table("agent_lines")
