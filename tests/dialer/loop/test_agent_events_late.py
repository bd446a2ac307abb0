"""The dial loop learns every agent state change, whatever order the transactions that wrote them commit in
(PostgreSQL: the console and several workers write the history at once; a row can commit after many later ids)."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest

from campaigns.agents.models import Agent, AgentStateEvent
from campaigns.campaign.service import create_campaign
from dialer.loop.sql import SqlStore

NOW = datetime(2030, 1, 8, 15, 0, tzinfo=UTC)


@pytest.fixture
def floor(sessions, engine) -> tuple[int, int]:
    """A campaign and one agent (campaign id, agent id), on PostgreSQL only."""
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite has one writer: the history commits in id order")
    with sessions.begin() as s:
        cid = create_campaign(s, "Spring", "+12125554100", NOW).id
        a = Agent(name="ann", campaign_id=cid, state="offline")
        s.add(a)
        s.flush()
        return cid, a.id


def test_an_agent_event_committed_late_is_delivered(sessions, floor):
    cid, agent = floor
    store = SqlStore(sessions)
    cursor = store.agent_cursor(NOW)
    held = sessions()
    try:
        late = AgentStateEvent(agent_id=agent, campaign_id=cid, state="ready", at=NOW)
        held.add(late)
        held.flush()  # its id is drawn; the console's request has not committed yet
        with sessions.begin() as s:  # meanwhile the floor writes 200 more
            s.add_all([AgentStateEvent(agent_id=agent, campaign_id=cid, state="paused", at=NOW) for _ in range(200)])
        events = store.agent_events_since(cursor, NOW)
        assert len(events) == 200
        cursor = max(cursor, events[-1].seq)
        held.commit()
    finally:
        held.close()
    got = store.agent_events_since(cursor, NOW + timedelta(seconds=1))
    assert [e.seq for e in got] == [late.id], "the late row was never delivered"
    assert store.agent_events_since(cursor, NOW + timedelta(minutes=5)) == []  # once only


def test_an_id_rolled_back_is_let_go(sessions, floor):
    """An id whose transaction rolled back is looked for a little while, then no more."""
    cid, agent = floor
    store = SqlStore(sessions)
    cursor = store.agent_cursor(NOW)
    with sessions() as gone:
        gone.add(AgentStateEvent(agent_id=agent, campaign_id=cid, state="ready", at=NOW))
        gone.flush()
        gone.rollback()
    with sessions.begin() as s:
        s.add(AgentStateEvent(agent_id=agent, campaign_id=cid, state="paused", at=NOW))
    assert len(store.agent_events_since(cursor, NOW)) == 1
    assert len(store._open) == 1
    assert store.agent_events_since(cursor + 2, NOW + timedelta(seconds=1)) == [] and len(store._open) == 1
    end = time.monotonic() + 60  # the oldest transaction of the whole cluster (other tests' too) must pass it
    while store.agent_events_since(cursor + 2, NOW + timedelta(minutes=3)) == [] and store._open:
        assert time.monotonic() < end, store._open
        time.sleep(0.2)
    assert store._open == []


def test_a_change_committing_while_the_loop_starts_is_delivered(sessions, floor):
    """The loop seeds its pacers from the agents' rows and reads the history after the newest id; a change whose
    transaction is still open then (its agent row unseen too) is delivered when it commits."""
    cid, agent = floor
    held = sessions()
    try:
        late = AgentStateEvent(agent_id=agent, campaign_id=cid, state="ready", at=NOW)
        held.add(late)
        held.flush()
        with sessions.begin() as s:
            s.add(AgentStateEvent(agent_id=agent, campaign_id=cid, state="paused", at=NOW))
        store = SqlStore(sessions)
        cursor = store.agent_cursor(NOW)
        assert store.agent_events_since(cursor, NOW) == []
        held.commit()
    finally:
        held.close()
    assert [e.seq for e in store.agent_events_since(cursor, NOW + timedelta(seconds=1))] == [late.id]
