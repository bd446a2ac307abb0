"""reports: change capture on calls and agent state, hourly rollups, per-lead first-contact stats, daily reports

Revision ID: r0001
Revises: c0001

Reports over 10 million calls must answer in under 2 s, so they read rollups instead of raw calls. Triggers append
one row to ``report_changes`` whenever a call or an agent state event is written; ``campaigns.reports.rollup``
recomputes exactly the hours and leads that changed before every report (and from the scheduler), so the
rollups are always exact. The log is append-only (no unique key) so two dial-loop workers never wait on it.
"""
import sqlalchemy as sa
from alembic import op

revision = "r0001"
down_revision = "c0001"
branch_labels = ("reports",)
depends_on = ("t0001",)  # the keypress opt-out index sits on carrier_callbacks

COUNTS = ("dials", "live_answers", "contacts", "abandoned", "machines", "no_answers", "busies", "failures",
          "closes", "callbacks", "dnc_requests", "keypress_optouts", "completed", "handled")

PG_FUNCTIONS = """
CREATE OR REPLACE FUNCTION report_capture_call() RETURNS trigger AS $$
BEGIN
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        INSERT INTO report_changes (campaign_id, hour, lead_id, agent_id, kind)
        VALUES (NEW.campaign_id, date_trunc('hour', NEW.placed_at), NEW.lead_id, NULL, 'call');
    END IF;
    IF TG_OP = 'DELETE' OR (TG_OP = 'UPDATE' AND (OLD.placed_at IS DISTINCT FROM NEW.placed_at
            OR OLD.lead_id IS DISTINCT FROM NEW.lead_id OR OLD.campaign_id IS DISTINCT FROM NEW.campaign_id)) THEN
        INSERT INTO report_changes (campaign_id, hour, lead_id, agent_id, kind)
        VALUES (OLD.campaign_id, date_trunc('hour', OLD.placed_at), OLD.lead_id, NULL, 'call');
    END IF;
    RETURN NULL;
END $$ LANGUAGE plpgsql;

CREATE OR REPLACE FUNCTION report_capture_agent() RETURNS trigger AS $$
BEGIN
    IF NEW.campaign_id IS NOT NULL THEN
        INSERT INTO report_changes (campaign_id, hour, lead_id, agent_id, kind)
        VALUES (NEW.campaign_id, date_trunc('hour', NEW.at), NULL, NEW.agent_id, 'agent');
    END IF;
    -- the new event also ends the interval the agent's previous event opened, maybe in another campaign
    INSERT INTO report_changes (campaign_id, hour, lead_id, agent_id, kind)
    SELECT p.campaign_id, date_trunc('hour', NEW.at), NULL, NEW.agent_id, 'agent'
    FROM (SELECT campaign_id FROM agent_state_events WHERE agent_id = NEW.agent_id AND id <> NEW.id
          AND at <= NEW.at ORDER BY at DESC, id DESC LIMIT 1) p
    WHERE p.campaign_id IS NOT NULL AND p.campaign_id IS DISTINCT FROM NEW.campaign_id;
    RETURN NULL;
END $$ LANGUAGE plpgsql;

CREATE OR REPLACE FUNCTION report_capture_keypress() RETURNS trigger AS $$
BEGIN
    IF NEW.kind = 'dtmf' THEN
        INSERT INTO report_changes (campaign_id, hour, lead_id, agent_id, kind)
        SELECT c.campaign_id, date_trunc('hour', c.placed_at), c.lead_id, NULL, 'call'
        FROM calls c WHERE c.provider_sid = NEW.call_sid;
    END IF;
    RETURN NULL;
END $$ LANGUAGE plpgsql;
"""

PG_TRIGGERS = """
CREATE TRIGGER report_capture_call AFTER INSERT OR UPDATE OR DELETE ON calls
    FOR EACH ROW EXECUTE FUNCTION report_capture_call();
CREATE TRIGGER report_capture_agent AFTER INSERT ON agent_state_events
    FOR EACH ROW EXECUTE FUNCTION report_capture_agent();
CREATE TRIGGER report_capture_keypress AFTER INSERT ON carrier_callbacks
    FOR EACH ROW EXECUTE FUNCTION report_capture_keypress();
"""

HOUR = "strftime('%Y-%m-%d %H:00:00.000000', {0}.placed_at)"
SQLITE_TRIGGERS = [
    f"""CREATE TRIGGER report_capture_call_ins AFTER INSERT ON calls BEGIN
        INSERT INTO report_changes (campaign_id, hour, lead_id, agent_id, kind)
        VALUES (NEW.campaign_id, {HOUR.format('NEW')}, NEW.lead_id, NULL, 'call'); END""",
    f"""CREATE TRIGGER report_capture_call_upd AFTER UPDATE ON calls BEGIN
        INSERT INTO report_changes (campaign_id, hour, lead_id, agent_id, kind)
        VALUES (NEW.campaign_id, {HOUR.format('NEW')}, NEW.lead_id, NULL, 'call'); END""",
    f"""CREATE TRIGGER report_capture_call_move AFTER UPDATE ON calls
        WHEN OLD.placed_at IS NOT NEW.placed_at OR OLD.lead_id IS NOT NEW.lead_id
             OR OLD.campaign_id IS NOT NEW.campaign_id BEGIN
        INSERT INTO report_changes (campaign_id, hour, lead_id, agent_id, kind)
        VALUES (OLD.campaign_id, {HOUR.format('OLD')}, OLD.lead_id, NULL, 'call'); END""",
    f"""CREATE TRIGGER report_capture_call_del AFTER DELETE ON calls BEGIN
        INSERT INTO report_changes (campaign_id, hour, lead_id, agent_id, kind)
        VALUES (OLD.campaign_id, {HOUR.format('OLD')}, OLD.lead_id, NULL, 'call'); END""",
    """CREATE TRIGGER report_capture_agent AFTER INSERT ON agent_state_events BEGIN
        INSERT INTO report_changes (campaign_id, hour, lead_id, agent_id, kind)
        SELECT NEW.campaign_id, strftime('%Y-%m-%d %H:00:00.000000', NEW.at), NULL, NEW.agent_id, 'agent'
        WHERE NEW.campaign_id IS NOT NULL;
        INSERT INTO report_changes (campaign_id, hour, lead_id, agent_id, kind)
        SELECT p.campaign_id, strftime('%Y-%m-%d %H:00:00.000000', NEW.at), NULL, NEW.agent_id, 'agent'
        FROM (SELECT campaign_id FROM agent_state_events WHERE agent_id = NEW.agent_id AND id <> NEW.id
              AND at <= NEW.at ORDER BY at DESC, id DESC LIMIT 1) p
        WHERE p.campaign_id IS NOT NULL AND p.campaign_id IS NOT NEW.campaign_id; END""",
    f"""CREATE TRIGGER report_capture_keypress AFTER INSERT ON carrier_callbacks WHEN NEW.kind = 'dtmf' BEGIN
        INSERT INTO report_changes (campaign_id, hour, lead_id, agent_id, kind)
        SELECT c.campaign_id, {HOUR.format('c')}, c.lead_id, NULL, 'call'
        FROM calls c WHERE c.provider_sid = NEW.call_sid; END""",
]
SQLITE_TRIGGER_NAMES = ("report_capture_call_ins", "report_capture_call_upd", "report_capture_call_move",
                        "report_capture_call_del", "report_capture_agent", "report_capture_keypress")


def upgrade() -> None:
    op.create_table(
        "report_changes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("hour", sa.DateTime(), nullable=False),
        sa.Column("lead_id", sa.Integer(), nullable=True),
        sa.Column("agent_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_report_changes")),
    )
    op.create_index("ix_report_changes_campaign_id", "report_changes", ["campaign_id", "id"])
    op.create_table(
        "call_rollups",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("bucket", sa.DateTime(), nullable=False),
        sa.Column("list_id", sa.Integer(), nullable=True),
        sa.Column("agent_id", sa.Integer(), nullable=True),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("disposition_code", sa.String(length=32), nullable=True),
        *[sa.Column(c, sa.Integer(), nullable=False, server_default="0") for c in COUNTS],
        sa.Column("talk_seconds", sa.Float(), nullable=False, server_default="0"),
        sa.Column("wrap_seconds", sa.Float(), nullable=False, server_default="0"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_call_rollups")),
    )
    op.create_index("ix_call_rollups_campaign_bucket", "call_rollups", ["campaign_id", "bucket"])
    op.create_table(
        "lead_call_stats",
        sa.Column("lead_id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("dials", sa.Integer(), nullable=False),
        sa.Column("contacts", sa.Integer(), nullable=False),
        sa.Column("first_contact_at", sa.DateTime(), nullable=True),
        sa.Column("first_contact_list_id", sa.Integer(), nullable=True),
        sa.Column("first_contact_agent_id", sa.Integer(), nullable=True),
        sa.Column("first_contact_closed", sa.Boolean(), nullable=False),
        sa.Column("first_close_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("lead_id", name=op.f("pk_lead_call_stats")),
    )
    op.create_index("ix_lead_call_stats_first_contact", "lead_call_stats", ["campaign_id", "first_contact_at"])
    op.create_table(
        "agent_rollups",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("bucket", sa.DateTime(), nullable=False),
        sa.Column("agent_id", sa.Integer(), nullable=False),
        sa.Column("ready_seconds", sa.Float(), nullable=False),
        sa.Column("talking_seconds", sa.Float(), nullable=False),
        sa.Column("wrap_seconds", sa.Float(), nullable=False),
        sa.Column("paused_seconds", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agent_rollups")),
    )
    op.create_index("ix_agent_rollups_campaign_bucket", "agent_rollups", ["campaign_id", "bucket"])
    op.create_index("ix_agent_rollups_agent_bucket", "agent_rollups", ["agent_id", "bucket"])
    op.create_table(
        "report_state",
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("refreshed_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("campaign_id", name=op.f("pk_report_state")),
    )
    op.create_table(
        "daily_reports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("period_start", sa.DateTime(), nullable=False),
        sa.Column("period_end", sa.DateTime(), nullable=False),
        sa.Column("generated_at", sa.DateTime(), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["campaign_id"], ["campaigns.id"], name=op.f("fk_daily_reports_campaign_id_campaigns")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_daily_reports")),
        sa.UniqueConstraint("campaign_id", "day", name=op.f("uq_daily_reports_campaign_id_day")),
    )
    # agent time is rebuilt per agent from the event before a change; keypress opt-outs are read per call
    op.create_index("ix_agent_state_events_agent_at", "agent_state_events", ["agent_id", "at"])
    op.create_index("ix_carrier_callbacks_dtmf", "carrier_callbacks", ["call_sid"],
                    postgresql_where=sa.text("kind = 'dtmf'"), sqlite_where=sa.text("kind = 'dtmf'"))
    # driver-level: the SQLite trigger bodies hold "%H:00:00", which text() would read as bind parameters
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        bind.exec_driver_sql(PG_FUNCTIONS)
        bind.exec_driver_sql(PG_TRIGGERS)
    else:
        for ddl in SQLITE_TRIGGERS:
            bind.exec_driver_sql(ddl)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS report_capture_call ON calls")
        op.execute("DROP TRIGGER IF EXISTS report_capture_agent ON agent_state_events")
        op.execute("DROP TRIGGER IF EXISTS report_capture_keypress ON carrier_callbacks")
        op.execute("DROP FUNCTION IF EXISTS report_capture_call(), report_capture_agent(), report_capture_keypress()")
    else:
        for name in SQLITE_TRIGGER_NAMES:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
    op.drop_index("ix_carrier_callbacks_dtmf", table_name="carrier_callbacks")
    op.drop_index("ix_agent_state_events_agent_at", table_name="agent_state_events")
    op.drop_table("daily_reports")
    op.drop_table("report_state")
    op.drop_index("ix_agent_rollups_agent_bucket", table_name="agent_rollups")
    op.drop_index("ix_agent_rollups_campaign_bucket", table_name="agent_rollups")
    op.drop_table("agent_rollups")
    op.drop_index("ix_lead_call_stats_first_contact", table_name="lead_call_stats")
    op.drop_table("lead_call_stats")
    op.drop_index("ix_call_rollups_campaign_bucket", table_name="call_rollups")
    op.drop_table("call_rollups")
    op.drop_index("ix_report_changes_campaign_id", table_name="report_changes")
    op.drop_table("report_changes")
