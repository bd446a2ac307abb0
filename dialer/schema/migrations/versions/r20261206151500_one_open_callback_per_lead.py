"""one open callback per lead

Revision ID: r20261206151500
Revises: r20261206150000
Create Date: 2026-12-06 15:15:00

Two people scheduling a callback for one lead at the same moment each cancelled the open callbacks they saw (none)
and added their own: the lead had two open callbacks. A partial unique index makes the database refuse that. Leads
that already have several keep their newest open callback; the others are cancelled as replaced, as scheduling a
new one would have done.
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = 'r20261206151500'
down_revision: Union[str, Sequence[str], None] = 'r20261206150000'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

OPEN = "status IN ('pending', 'missed')"


def upgrade() -> None:
    op.execute(f"""
        UPDATE callbacks SET status = 'cancelled', closed_at = created_at,
               cancelled_reason = 'replaced by a newer callback'
         WHERE {OPEN}
           AND id < (SELECT max(newer.id) FROM callbacks AS newer
                      WHERE newer.lead_id = callbacks.lead_id AND newer.status IN ('pending', 'missed'))
    """)
    op.create_index('uq_callbacks_open_lead', 'callbacks', ['lead_id'], unique=True,
                    sqlite_where=sa.text(OPEN), postgresql_where=sa.text(OPEN))


def downgrade() -> None:
    op.drop_index('uq_callbacks_open_lead', table_name='callbacks',
                  sqlite_where=sa.text(OPEN), postgresql_where=sa.text(OPEN))
