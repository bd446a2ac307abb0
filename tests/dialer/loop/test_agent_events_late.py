"""The dial loop learns every agent state change, whatever order the transactions that wrote them commit in
(PostgreSQL: the console and several workers write the history at once; a row can commit after many later ids)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from campaigns.agents.models import Agent, AgentStateEvent
from campaigns.campaign.service import create_campaign
from dialer.loop.sql import SqlStore

NOW = datetime(2030, 1, 8, 15, 0, tzinfo=UTC)


def test_an_agent_event_committed_late_is_delivered(sessions, engine):
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite has one writer: the history commits in id order")
    with sessions.begin() as s:
        cid = create_campaign(s, "Spring", "+12125554100", NOW).id
        a = Agent(name="ann", campaign_id=cid, state="offline")
        s.add(a)
        s.flush()
        agent = a.id
    store = SqlStore(sessions)
    cursor = store.agent_cursor()
    held = sessions()
    try:
        late = AgentStateEvent(agent_id=agent, campaign_id=cid, state="ready", at=NOW)
        held.add(late)
        held.flush()  # its id is drawn; the console's request has not committed yet
        with sessions.begin() as s:  # meanwhile the floor writes 200 more
            s.add_all([AgentStateEvent(agent_id=agent, campaign_id=cid, state="paused", at=NOW) for _ in range(200)])
        events = store.agent_events_since(cursor)
        assert len(events) == 200
        cursor = max(cursor, events[-1].seq)
        held.commit()
    finally:
        held.close()
    got = store.agent_events_since(cursor)
    assert [e.seq for e in got] == [late.id], "the late row was never delivered"
    assert store.agent_events_since(cursor) == []  # once only
