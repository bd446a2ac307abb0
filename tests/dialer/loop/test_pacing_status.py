"""The pacer's published decision: one row per campaign, written by an upsert so two workers can both publish."""

from __future__ import annotations

import threading

from campaigns.campaign.service import create_campaign
from campaigns.db import session_scope
from campaigns.dispatch.service import pacing_status, save_pacing_status


def test_first_publications_from_two_workers_at_once_both_succeed(sessions, clock):
    now = clock.now()
    with session_scope(sessions) as s:
        cid = create_campaign(s, "Spring", "+12125550100", now).id
    first = sessions()
    first.begin()
    save_pacing_status(first, cid, {"planned": 1}, now)  # not committed yet: the row is new and locked
    errors: list[BaseException] = []

    def second() -> None:
        try:
            with session_scope(sessions) as s:
                save_pacing_status(s, cid, {"planned": 2}, now)
        except BaseException as e:  # noqa: BLE001 -- handed to the test thread
            errors.append(e)

    other = threading.Thread(target=second)
    other.start()
    other.join(0.5)  # it waits for the first transaction (or has not written yet)
    first.commit()
    first.close()
    other.join(30)
    assert not other.is_alive() and errors == []
    with session_scope(sessions) as s:
        row = pacing_status(s, cid)
        assert row is not None and row.status == {"planned": 2} and row.at == now
        save_pacing_status(s, cid, {"planned": 3}, now)
    with session_scope(sessions) as s:
        assert pacing_status(s, cid).status == {"planned": 3}
