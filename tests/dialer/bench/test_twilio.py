"""A short run of ``dialer bench twilio`` (the soak benchmark runs minutes; this runs seconds): the whole live
path at the account's CPS, with the webhook process as a real subprocess. No callback lost, CPS never exceeded,
every answered customer bridged to an agent within 2 s, every call final, no lead dialed twice."""

import pytest

from dialer.bench.twilio import run
from tests.dialer.carriers.twilio.support import restore_ledger_head


@pytest.mark.slow
def test_a_short_soak_loses_no_callback_and_never_exceeds_the_cps(db_url, session):
    restore_ledger_head(session)  # the PostgreSQL fixture truncates the row migration d0001 seeds
    out = run(db_url, cps=5, seconds=8, agents=12, seed=3)
    assert out["calls_placed"] >= 20 and out["calls_in_db"] == out["calls_placed"]
    assert not out["cps_exceeded"] and out["max_calls_in_any_1s_window"] <= 5
    assert out["twilio_queue_max_s"] < 0.25  # a strict one-call-per-200-ms queue would hold no call noticeably
    assert out["callbacks_sent"] > 3 * out["calls_placed"] and out["callbacks_not_accepted"] == 0
    assert out["callbacks_lost"] == 0 and out["callbacks_by_result"].keys() <= {"handled", "stale"}
    assert out["calls_not_final"] == 0 and out["leads_dialed_twice"] == 0
    assert out["outcomes"].get("completed", 0) >= 3
    assert out["bridge_after_answer_max_s"] < 2.0 and out["answer_to_agent_max_s"] < 2.0
