"""The simulated campaign in a real database: the product's SQL store under the simulator.

Slow next to the memory store (every loop step is a transaction) but the same code path as ``dialer run``: it
is what proves the in-memory store equivalent (same seed, same calls) and lets a demo fill a database.
"""

from __future__ import annotations

import shutil
import tempfile
from datetime import datetime
from pathlib import Path

from sqlalchemy import insert, update

from campaigns.agents.service import create_agent
from campaigns.campaign.models import Campaign
from campaigns.campaign.service import CampaignSettings, create_campaign
from campaigns.db import make_engine, session_factory, session_scope
from campaigns.leads.models import Lead, LeadList
from dialer.loop.sql import SqlStore
from dialer.schema.migrate import upgrade
from dialer.sim.result import calls_to_columns, events_to_columns
from dialer.sim.scenario import Scenario
from dialer.sim.world import CALLER_ID, CAMPAIGN_NAME, agent_name, campaign_of, phone_of

LEADS_PER_AGENT_HOUR = 150  # an unbounded list is cut to this many fresh leads per staffed hour (more than used)


class SqlWorld:
    kind = "sql"

    def __init__(self, scenario: Scenario, t0: datetime, database_url: str | None = None) -> None:
        self._tmp = None
        if database_url is None:
            self._tmp = tempfile.mkdtemp(prefix="dialer-sim-")
            database_url = f"sqlite:///{Path(self._tmp) / 'sim.sqlite3'}"
        self.engine = make_engine(database_url)
        upgrade(self.engine)
        self.sessions = session_factory(self.engine)
        view = campaign_of(scenario)
        size = scenario.list_size or int(scenario.agents.max_count * scenario.run.hours_per_day * scenario.run.days
                                         * LEADS_PER_AGENT_HOUR) + 1000
        with session_scope(self.sessions) as s:
            c = create_campaign(s, CAMPAIGN_NAME, CALLER_ID, t0, CampaignSettings(
                pacing_mode=view.pacing_mode, abandon_target=view.abandon_target,
                max_attempts=view.rules.max_attempts))
            c.retry_no_answer_s, c.retry_busy_s = view.rules.retry_no_answer_s, view.rules.retry_busy_s
            c.retry_machine_s, c.max_lines = view.rules.retry_machine_s, view.max_lines
            c.machine_action, c.voicemail_message = view.machine_action, view.voicemail_message
            lst = LeadList(campaign_id=c.id, name="simulated list", sha256="0" * 64, uploaded_at=t0,
                           rows=size, accepted=size)
            s.add(lst)
            s.flush()
            for start in range(0, size, 5000):
                s.execute(insert(Lead), [
                    {"campaign_id": c.id, "list_id": lst.id, "line": i + 2, "phone": phone_of(i), "custom": {},
                     "created_at": t0, "updated_at": t0} for i in range(start, min(size, start + 5000))])
            self.agent_ids = [create_agent(s, agent_name(i), t0, campaign=c, simulated=True).id
                              for i in range(scenario.agents.max_count)]
            self.campaign_id = c.id
        self.store = SqlStore(self.sessions, provider="sim")

    def set_active(self, active: bool) -> None:
        with session_scope(self.sessions) as s:
            s.execute(update(Campaign).where(Campaign.id == self.campaign_id)
                      .values(status="active" if active else "paused"))

    def export(self):
        return calls_to_columns(self.store.export_calls()), events_to_columns(self.store.export_agent_events())

    def close(self) -> None:
        self.engine.dispose()
        if self._tmp is not None:
            shutil.rmtree(self._tmp, ignore_errors=True)
