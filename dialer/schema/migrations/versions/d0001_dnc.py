"""DNC engine: internal DNC requests, list loads and entries, consent/EBR, hash-chained audit ledger.

Revision ID: d0001
Revises: c0001
"""
import sqlalchemy as sa
from alembic import op

revision = "d0001"
down_revision = "c0001"
branch_labels = ("dnc",)
depends_on = None

GENESIS = "0" * 64


def upgrade() -> None:
    op.create_table(
        "dnc_internal",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("e164", sa.String(length=20), nullable=False),
        sa.Column("scope", sa.String(length=8), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=True),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("received_at", sa.DateTime(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(), nullable=False),
        sa.Column("effective_at", sa.DateTime(), nullable=False),
        sa.Column("honor_deadline", sa.DateTime(), nullable=False),
        sa.Column("retain_until", sa.DateTime(), nullable=False),
        sa.Column("added_by", sa.String(length=120), nullable=False),
        sa.Column("source_ref", sa.String(length=200), nullable=False),
        sa.Column("reason", sa.String(length=400), nullable=False),
        sa.Column("removed_at", sa.DateTime(), nullable=True),
        sa.Column("removed_by", sa.String(length=120), nullable=True),
        sa.Column("removal_reason", sa.String(length=400), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dnc_internal")),
    )
    op.create_index("ix_dnc_internal_e164", "dnc_internal", ["e164", "effective_at"])
    op.create_table(
        "dnc_loads",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("list_key", sa.String(length=16), nullable=False),
        sa.Column("mode", sa.String(length=8), nullable=False),
        sa.Column("version_date", sa.Date(), nullable=False),
        sa.Column("file_name", sa.String(length=400), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("lines", sa.BigInteger(), nullable=False),
        sa.Column("count", sa.BigInteger(), nullable=False),
        sa.Column("added", sa.BigInteger(), nullable=False),
        sa.Column("deleted", sa.BigInteger(), nullable=False),
        sa.Column("malformed", sa.Integer(), nullable=False),
        sa.Column("area_codes", sa.JSON(), nullable=True),
        sa.Column("generation", sa.String(length=40), nullable=True),
        sa.Column("vendor", sa.String(length=120), nullable=False),
        sa.Column("loaded_at", sa.DateTime(), nullable=False),
        sa.Column("loaded_by", sa.String(length=120), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dnc_loads")),
    )
    op.create_index("ix_dnc_loads_source", "dnc_loads", ["source", "list_key", "loaded_at"])
    op.create_table(
        "dnc_list_entries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("load_id", sa.Integer(), nullable=False),
        sa.Column("value", sa.String(length=16), nullable=False),
        sa.Column("note", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(["load_id"], ["dnc_loads.id"], name=op.f("fk_dnc_list_entries_load_id_dnc_loads")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dnc_list_entries")),
    )
    op.create_index("ix_dnc_list_entries_value", "dnc_list_entries", ["value", "load_id"])
    op.create_index(op.f("ix_dnc_list_entries_load_id"), "dnc_list_entries", ["load_id"])
    op.create_table(
        "dnc_consents",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("e164", sa.String(length=20), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=True),
        sa.Column("granted_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=True),
        sa.Column("evidence_ref", sa.String(length=400), nullable=False),
        sa.Column("added_by", sa.String(length=120), nullable=False),
        sa.Column("recorded_at", sa.DateTime(), nullable=False),
        sa.Column("revoked_at", sa.DateTime(), nullable=True),
        sa.Column("revoked_by", sa.String(length=120), nullable=True),
        sa.Column("revoked_reason", sa.String(length=400), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dnc_consents")),
    )
    op.create_index("ix_dnc_consents_e164", "dnc_consents", ["e164", "granted_at"])
    op.create_table(
        "dnc_ledger",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("e164", sa.String(length=20), nullable=True),
        sa.Column("campaign_id", sa.Integer(), nullable=True),
        sa.Column("allowed", sa.Boolean(), nullable=True),
        sa.Column("reasons", sa.String(length=400), nullable=False),
        sa.Column("actor", sa.String(length=120), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dnc_ledger")),
        sa.UniqueConstraint("seq", name=op.f("uq_dnc_ledger_seq")),
    )
    op.create_index("ix_dnc_ledger_e164_at", "dnc_ledger", ["e164", "at"])
    op.create_index("ix_dnc_ledger_kind_at", "dnc_ledger", ["kind", "at"])
    head = op.create_table(
        "dnc_ledger_head",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dnc_ledger_head")),
    )
    op.bulk_insert(head, [{"id": 1, "seq": 0, "hash": GENESIS}])


def downgrade() -> None:
    op.drop_table("dnc_ledger_head")
    op.drop_index("ix_dnc_ledger_kind_at", table_name="dnc_ledger")
    op.drop_index("ix_dnc_ledger_e164_at", table_name="dnc_ledger")
    op.drop_table("dnc_ledger")
    op.drop_index("ix_dnc_consents_e164", table_name="dnc_consents")
    op.drop_table("dnc_consents")
    op.drop_index(op.f("ix_dnc_list_entries_load_id"), table_name="dnc_list_entries")
    op.drop_index("ix_dnc_list_entries_value", table_name="dnc_list_entries")
    op.drop_table("dnc_list_entries")
    op.drop_index("ix_dnc_loads_source", table_name="dnc_loads")
    op.drop_table("dnc_loads")
    op.drop_index("ix_dnc_internal_e164", table_name="dnc_internal")
    op.drop_table("dnc_internal")
