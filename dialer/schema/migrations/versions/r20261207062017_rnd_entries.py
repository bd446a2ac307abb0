"""dnc_rnd_entries: the permanent disconnections each Reassigned Numbers Database load records

Revision ID: r20261207062017
Revises: r20261207032242
"""
import sqlalchemy as sa
from alembic import op

revision = "r20261207062017"
down_revision = "r20261207032242"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "dnc_rnd_entries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("load_id", sa.Integer(), nullable=False),
        sa.Column("value", sa.String(length=10), nullable=False),
        sa.Column("disconnected_on", sa.Date(), nullable=False),
        sa.ForeignKeyConstraint(["load_id"], ["dnc_loads.id"], name=op.f("fk_dnc_rnd_entries_load_id_dnc_loads")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dnc_rnd_entries")),
    )
    with op.batch_alter_table("dnc_rnd_entries") as batch_op:
        batch_op.create_index(batch_op.f("ix_dnc_rnd_entries_load_id"), ["load_id"], unique=False)
        batch_op.create_index("ix_dnc_rnd_entries_value", ["value", "load_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("dnc_rnd_entries") as batch_op:
        batch_op.drop_index("ix_dnc_rnd_entries_value")
        batch_op.drop_index(batch_op.f("ix_dnc_rnd_entries_load_id"))
    op.drop_table("dnc_rnd_entries")
