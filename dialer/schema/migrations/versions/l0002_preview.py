"""dial loop: a lead shown to a preview agent is reserved for them for a while (no other agent or worker takes it)

Revision ID: l0002
Revises: l0001
"""
import sqlalchemy as sa
from alembic import op

revision = "l0002"
down_revision = "l0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("leads", sa.Column("reserved_agent_id", sa.Integer(), nullable=True))
    op.add_column("leads", sa.Column("reserved_until", sa.DateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("leads") as b:
        b.drop_column("reserved_until")
        b.drop_column("reserved_agent_id")
