"""lead strategy and abandon-alert settings per campaign, several phones per lead, abandon alerts with a webhook
outbox, and the claim orders "oldest first" / "newest first"

Revision ID: f0003
Revises: f0002
"""
import sqlalchemy as sa
from alembic import op

revision = "f0003"
down_revision = "f0002"
branch_labels = None
depends_on = None

CALLABLE = "status IN ('new', 'retry', 'callback')"


def upgrade() -> None:
    # a number put back into service counts spam flags from then on (older flags stay as history)
    with op.batch_alter_table("caller_ids") as b:
        b.add_column(sa.Column("flags_since", sa.DateTime(), nullable=True))
    op.create_table(
        "dial_settings",
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("lead_order", sa.String(16), nullable=False, server_default="due"),
        sa.Column("new_lead_every", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("phone_switch_after", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("min_recall_gap_s", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("lead_daily_cap", sa.Integer(), nullable=True),
        sa.Column("phone_daily_cap", sa.Integer(), nullable=True),
        sa.Column("retry_shift_s", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("callbacks_personal", sa.Boolean(), nullable=False, server_default=sa.true()),
        sa.Column("callback_grace_s", sa.Integer(), nullable=False, server_default="900"),
        sa.Column("callback_miss_s", sa.Integer(), nullable=False, server_default="3600"),
        sa.Column("abandon_warn_1", sa.Float(), nullable=False, server_default="0.025"),
        sa.Column("abandon_warn_2", sa.Float(), nullable=False, server_default="0.028"),
        sa.Column("abandon_fallback", sa.Boolean(), nullable=False, server_default=sa.true()),
        sa.Column("alert_min_live_answers", sa.Integer(), nullable=False, server_default="100"),
        sa.Column("alert_webhook_url", sa.String(500), nullable=False, server_default=""),
        sa.Column("callerid_min_answer_rate", sa.Float(), nullable=True),
        sa.Column("callerid_min_dials", sa.Integer(), nullable=False, server_default="200"),
        sa.Column("dial_seq", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["campaign_id"], ["campaigns.id"], name=op.f("fk_dial_settings_campaign_id_campaigns")),
        sa.PrimaryKeyConstraint("campaign_id", name=op.f("pk_dial_settings")),
    )
    op.create_table(
        "lead_phones",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("lead_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("phone", sa.String(20), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("added_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["lead_id"], ["leads.id"], name=op.f("fk_lead_phones_lead_id_leads")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lead_phones")),
        sa.UniqueConstraint("lead_id", "position", name=op.f("uq_lead_phones_lead_id_position")),
        sa.UniqueConstraint("lead_id", "phone", name=op.f("uq_lead_phones_lead_id_phone")),
    )
    op.create_table(
        "abandon_guard",
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("level", sa.String(16), nullable=False),
        sa.Column("fallback", sa.Boolean(), nullable=False),
        sa.Column("rate", sa.Float(), nullable=True),
        sa.Column("live_answers", sa.Integer(), nullable=False),
        sa.Column("abandoned", sa.Integer(), nullable=False),
        sa.Column("machines", sa.Integer(), nullable=False),
        sa.Column("checked_at", sa.DateTime(), nullable=False),
        sa.Column("changed_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["campaign_id"], ["campaigns.id"], name=op.f("fk_abandon_guard_campaign_id_campaigns")),
        sa.PrimaryKeyConstraint("campaign_id", name=op.f("pk_abandon_guard")),
    )
    op.create_table(
        "abandon_alerts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("level", sa.String(16), nullable=False),
        sa.Column("previous", sa.String(16), nullable=False),
        sa.Column("rate", sa.Float(), nullable=True),
        sa.Column("live_answers", sa.Integer(), nullable=False),
        sa.Column("abandoned", sa.Integer(), nullable=False),
        sa.Column("machines", sa.Integer(), nullable=False),
        sa.Column("fallback", sa.Boolean(), nullable=False),
        sa.Column("message", sa.String(400), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["campaign_id"], ["campaigns.id"], name=op.f("fk_abandon_alerts_campaign_id_campaigns")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_abandon_alerts")),
    )
    op.create_index("ix_abandon_alerts_campaign_at", "abandon_alerts", ["campaign_id", "at"])
    op.create_table(
        "alert_deliveries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("alert_id", sa.Integer(), nullable=False),
        sa.Column("url", sa.String(500), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("next_try_at", sa.DateTime(), nullable=False),
        sa.Column("delivered_at", sa.DateTime(), nullable=True),
        sa.Column("gave_up_at", sa.DateTime(), nullable=True),
        sa.Column("last_error", sa.String(400), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["alert_id"], ["abandon_alerts.id"], name=op.f("fk_alert_deliveries_alert_id_abandon_alerts")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alert_deliveries")),
    )
    pending = "delivered_at IS NULL AND gave_up_at IS NULL"
    op.create_index("ix_alert_deliveries_pending", "alert_deliveries", ["next_try_at"],
                    sqlite_where=sa.text(pending), postgresql_where=sa.text(pending))
    # "oldest first" walks (priority DESC, id); "newest first" walks (priority, id) backwards
    op.create_index("ix_leads_order_oldest", "leads", ["campaign_id", sa.text("priority DESC"), "id"],
                    sqlite_where=sa.text(CALLABLE), postgresql_where=sa.text(CALLABLE))
    op.create_index("ix_leads_order_newest", "leads", ["campaign_id", "priority", "id"],
                    sqlite_where=sa.text(CALLABLE), postgresql_where=sa.text(CALLABLE))


def downgrade() -> None:
    op.drop_index("ix_leads_order_newest", table_name="leads")
    op.drop_index("ix_leads_order_oldest", table_name="leads")
    op.drop_index("ix_alert_deliveries_pending", table_name="alert_deliveries")
    op.drop_table("alert_deliveries")
    op.drop_index("ix_abandon_alerts_campaign_at", table_name="abandon_alerts")
    op.drop_table("abandon_alerts")
    op.drop_table("abandon_guard")
    op.drop_table("lead_phones")
    op.drop_table("dial_settings")
    with op.batch_alter_table("caller_ids") as b:
        b.drop_column("flags_since")
