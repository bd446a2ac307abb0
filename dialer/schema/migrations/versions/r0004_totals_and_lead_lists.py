"""reports: lead stats carry the lead's current list (kept current by a trigger on moves); leads by list and status

Revision ID: r0004
Revises: r0003

List close over a million leads must not join leads to their call stats: each stats row now carries the list
the lead belongs to, and moving a lead to another list logs a change so its row follows it. The rollups are
rebuilt by the code's ROLLUP_VERSION bump.
"""
import sqlalchemy as sa
from alembic import op

revision = "r0004"
down_revision = "r0003"
branch_labels = None
depends_on = None

PG = """
CREATE OR REPLACE FUNCTION report_capture_lead_move() RETURNS trigger AS $$
BEGIN
    INSERT INTO report_changes (campaign_id, hour, lead_id, agent_id, kind)
    VALUES (NEW.campaign_id, date_trunc('hour', NEW.updated_at), NEW.id, NULL, 'lead');
    RETURN NULL;
END $$ LANGUAGE plpgsql;
CREATE TRIGGER report_capture_lead_move AFTER UPDATE OF list_id ON leads
    FOR EACH ROW WHEN (OLD.list_id IS DISTINCT FROM NEW.list_id) EXECUTE FUNCTION report_capture_lead_move();
"""
SQLITE = """CREATE TRIGGER report_capture_lead_move AFTER UPDATE OF list_id ON leads
    WHEN OLD.list_id IS NOT NEW.list_id BEGIN
    INSERT INTO report_changes (campaign_id, hour, lead_id, agent_id, kind)
    VALUES (NEW.campaign_id, strftime('%Y-%m-%d %H:00:00.000000', NEW.updated_at), NEW.id, NULL, 'lead'); END"""


def upgrade() -> None:
    op.execute("DELETE FROM lead_call_stats")
    op.execute("DELETE FROM report_state")
    with op.batch_alter_table("lead_call_stats") as b:
        b.add_column(sa.Column("list_id", sa.Integer(), nullable=True))
        b.create_index("ix_lead_call_stats_list", ["campaign_id", "list_id"])
    op.create_index("ix_leads_campaign_list_status", "leads", ["campaign_id", "list_id", "status"])
    bind = op.get_bind()
    bind.exec_driver_sql(PG if bind.dialect.name == "postgresql" else SQLITE)


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        bind.exec_driver_sql("DROP TRIGGER IF EXISTS report_capture_lead_move ON leads")
        bind.exec_driver_sql("DROP FUNCTION IF EXISTS report_capture_lead_move()")
    else:
        bind.exec_driver_sql("DROP TRIGGER IF EXISTS report_capture_lead_move")
    op.drop_index("ix_leads_campaign_list_status", table_name="leads")
    with op.batch_alter_table("lead_call_stats") as b:
        b.drop_index("ix_lead_call_stats_list")
        b.drop_column("list_id")
