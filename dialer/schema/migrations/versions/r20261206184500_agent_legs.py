"""agents: every leg that joined an agent's conference, so a replayed join of an old leg changes nothing

Revision ID: r20261206184500
Revises: r20261206183000
"""
import sqlalchemy as sa
from alembic import op

revision = "r20261206184500"
down_revision = "r20261206183000"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "agent_legs",
        sa.Column("call_sid", sa.String(length=64), nullable=False),
        sa.Column("agent_id", sa.Integer(), nullable=False),
        sa.Column("started_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("call_sid", name=op.f("pk_agent_legs")),
        sa.ForeignKeyConstraint(["agent_id"], ["agents.id"], name=op.f("fk_agent_legs_agent_id_agents")),
    )
    op.create_index(op.f("ix_agent_legs_agent_id"), "agent_legs", ["agent_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_agent_legs_agent_id"), table_name="agent_legs")
    op.drop_table("agent_legs")
