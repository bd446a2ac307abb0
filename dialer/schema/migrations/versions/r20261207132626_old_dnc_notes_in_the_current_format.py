"""old DNC notes in the current format

Revision ID: r20261207132626
Revises: r20261207125729
Create Date: 2026-12-07 13:26:26

Before commit 4795122 a manager's do-not-call mark stored its note as it was typed:
``internal_dnc: marked by mia: litigator; national_dnc, asked twice``. ``dnc.reasons.stored_codes`` splits reasons
at ';', so the words after it read as a second code (``national_dnc``) the lead never had: counted in the list
report, shown on the suppressed-leads page, re-judged by consent. ``dnc.reasons.stored`` now writes a ';' inside a
reason's words as ','; this rewrites the old rows the same way. Only the mark wrote ``internal_dnc: marked by ``,
always as the one reason of its row (a username holds no ';'), so every ';' in such a row is the note's; rows of
any other writer are left as they are. Running it again finds nothing (no ';' is left in those rows); downgrade
leaves the rows in the current format, which every version reads.
"""
from typing import Sequence, Union

from alembic import op

# revision identifiers, used by Alembic.
revision: str = 'r20261207132626'
down_revision: Union[str, Sequence[str], None] = 'r20261207125729'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

MARK = "internal_dnc: marked by "  # what campaigns.leads.edit.mark_dnc wrote first (substr: '_' is a LIKE wildcard)


def upgrade() -> None:
    op.execute(f"UPDATE leads SET suppression = replace(suppression, ';', ',') "
               f"WHERE substr(suppression, 1, {len(MARK)}) = '{MARK}' AND suppression LIKE '%;%'")


def downgrade() -> None:
    pass  # the old format was the defect; the current one reads the same under every version
