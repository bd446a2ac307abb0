"""A short run of ``dialer bench twilio`` (the soak benchmark runs minutes; this runs seconds): the whole live
path at the account's CPS, with the webhook process as a real subprocess. No callback lost, CPS never exceeded,
every live answer bridged to an agent within 2 s by the loop's clock or given the safe-harbor message, every call
final, no lead dialed twice, and no thread of the worker left running."""

import threading

import pytest

from dialer.bench.twilio import run
from tests.dialer.carriers.twilio.support import restore_ledger_head


@pytest.mark.slow
def test_a_short_soak_loses_no_callback_and_never_exceeds_the_cps(db_url, session):
    restore_ledger_head(session)  # the PostgreSQL fixture truncates the row migration d0001 seeds
    before = {t.ident for t in threading.enumerate()}
    out = run(db_url, cps=5, seconds=8, agents=12, seed=3)
    # the worker and the simulated agents are stopped for good: nothing of theirs writes after the bench returns
    assert [t.name for t in threading.enumerate() if t.ident not in before] == []
    # enough traffic to test the path (power is held to the abandon budget, so fewer than the rule would place)
    assert out["calls_placed"] >= 12 and out["calls_in_db"] == out["calls_placed"]
    # the guard counts a send from when its write finished, so no second ever holds more than the limit, however
    # late a busy host runs a thread (how evenly the sends are spread is the benchmark's figure, not a test's)
    assert not out["cps_exceeded"] and out["max_calls_in_any_1s_window"] <= 5
    assert out["callbacks_sent"] > 3 * out["calls_placed"] and out["callbacks_not_accepted"] == 0
    assert out["callbacks_lost"] == 0 and out["callbacks_by_result"].keys() <= {"handled", "stale"}
    assert out["calls_not_final"] == 0 and out["leads_dialed_twice"] == 0
    # every live answer went to an agent or, past the grace, to the safe-harbor message; at least one was talked to
    assert out["outcomes"].get("completed", 0) >= 1
    assert out["outcomes"].get("completed", 0) + out["outcomes"].get("abandoned", 0) == out["live_answers"]
    # the loop never puts a customer through once the 2 s are over by its own clock (it abandons instead)
    assert out["stored_answer_to_connect_max_s"] < 2.0
    # and the customer's wait, answer to the agent's conference on the carrier's clock, is there for each talk
    assert out["answer_to_agent_p50_s"] is not None and 0 < out["answer_to_agent_p50_s"] <= out["answer_to_agent_max_s"]
