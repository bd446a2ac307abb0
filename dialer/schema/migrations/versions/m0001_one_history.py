"""One history from here on: the first round's six branch heads (core tables, dnc, funnel, loop, reports, twilio,
web) meet in this revision; every later revision follows it in a single line.

A database built at those heads upgrades through it without a change to its tables.

Revision ID: m0001
Revises: d0001, f0003, l0002, r0004, t0002, w0002
"""

revision = "m0001"
down_revision = ("d0001", "f0003", "l0002", "r0004", "t0002", "w0002")
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
