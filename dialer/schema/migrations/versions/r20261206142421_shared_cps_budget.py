"""shared cps budget: one send clock per carrier account, so every worker of the database together stays within
the account's calls-per-second limit (campaigns/cpsbudget)

Revision ID: r20261206142421
Revises: r20261206153500
Create Date: 2026-12-06 14:24:22.370417

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = 'r20261206142421'
down_revision: Union[str, Sequence[str], None] = 'r20261206153500'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table('cps_budgets',
    sa.Column('account', sa.String(length=64), nullable=False),
    sa.Column('next_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('account', name=op.f('pk_cps_budgets'))
    )


def downgrade() -> None:
    op.drop_table('cps_budgets')
