"""Caller-ID pools: local presence picks a matching number, the per-number daily cap holds over a simulated day,
spam flags retire a number at the threshold, and the health view retires one whose answer rate collapsed."""

from datetime import timedelta

import pytest

from campaigns.callerid.service import Picker, add_number, choose_caller_id, flag_number, health, set_active
from campaigns.dispatch.models import Call
from dnc.errors import UserError


def _dial(session, campaign, number, at, answered=False, by="human"):
    """A finished dial: a person's answer went to an agent (completed), a machine's was detected (machine)."""
    outcome = ("machine" if by == "machine" else "completed") if answered else "no_answer"
    session.add(Call(campaign_id=campaign.id, phone=f"+1312555{session.info.setdefault('n', 0):04d}",
                     caller_id=number, placed_at=at, ended_at=at + timedelta(seconds=30),
                     answered_at=at if answered else None, answered_by=by if answered else None,
                     connected_at=at if outcome == "completed" else None, outcome=outcome))
    session.info["n"] += 1
    session.flush()


def test_without_a_pool_the_campaign_caller_id_is_used(session, campaign, clock):
    assert choose_caller_id(session, campaign, "+13125550111", clock.now()) == "+12125550100"


def test_local_presence_prefers_area_code_then_state(session, campaign, clock):
    campaign.local_presence = True
    add_number(session, campaign, "+12125550101", clock.now())  # NY, 212
    add_number(session, campaign, "+13125550102", clock.now())  # IL, 312
    add_number(session, campaign, "+17735550103", clock.now())  # IL, 773
    assert choose_caller_id(session, campaign, "+13125559999", clock.now()) == "+13125550102"
    assert choose_caller_id(session, campaign, "+17735559999", clock.now()) == "+17735550103"
    # 847 is Illinois too: no area-code match, a number of the state wins over New York
    assert choose_caller_id(session, campaign, "+18475559999", clock.now()) in {"+13125550102", "+17735550103"}
    # a lead with an address in New York gets the New York number even from an Illinois mobile
    assert choose_caller_id(session, campaign, "+18475559999", clock.now(), lead_states={"NY"}) == "+12125550101"
    # no match at all (Texas): the least used number
    _dial(session, campaign, "+12125550101", clock.now())
    _dial(session, campaign, "+13125550102", clock.now())
    assert choose_caller_id(session, campaign, "+15125559999", clock.now()) == "+17735550103"
    # without local presence the least-used number wins regardless of geography
    campaign.local_presence = False
    assert choose_caller_id(session, campaign, "+13125559999", clock.now()) == "+17735550103"


def test_one_picker_spreads_a_claim_over_the_pool_and_never_passes_a_cap(session, campaign, clock):
    add_number(session, campaign, "+12125550101", clock.now(), daily_cap=3)
    add_number(session, campaign, "+12125550102", clock.now(), daily_cap=2)
    picker = Picker(session, campaign, clock.now())
    picks = [picker.pick("+13125550111") for _ in range(6)]
    assert picks.count("+12125550101") == 3 and picks.count("+12125550102") == 2 and picks[-1] is None
    assert picker.exhausted


def test_daily_cap_holds_over_a_simulated_day_and_resets_at_local_midnight(session, campaign, clock):
    add_number(session, campaign, "+12125550101", clock.now(), daily_cap=40)
    add_number(session, campaign, "+12125550102", clock.now(), daily_cap=25)
    t = clock.now()
    placed = []
    for _ in range(100):  # one simulated day of dialing attempts, one every 5 minutes
        number = choose_caller_id(session, campaign, "+13125550111", t)
        if number is not None:
            _dial(session, campaign, number, t)
            placed.append(number)
        t += timedelta(minutes=5)
    assert placed.count("+12125550101") == 40 and placed.count("+12125550102") == 25
    assert choose_caller_id(session, campaign, "+13125550111", t) is None
    next_morning = clock.now().replace(hour=14) + timedelta(days=1)  # 09:00 New York the next day
    assert choose_caller_id(session, campaign, "+13125550111", next_morning) is not None


def test_spam_flags_retire_a_number_at_the_threshold(session, campaign, clock):
    add_number(session, campaign, "+12125550101", clock.now())
    add_number(session, campaign, "+12125550102", clock.now())
    for who in ("agent1", "agent2"):
        flag_number(session, campaign, "+12125550101", who, clock.now())
    assert {h.number: h.active for h in health(session, campaign, clock.now())}["+12125550101"] is True
    flag_number(session, campaign, "(212) 555-0101", "manager", clock.now())
    rows = {h.number: h for h in health(session, campaign, clock.now())}
    assert rows["+12125550101"].active is False and rows["+12125550101"].flags == 3
    assert "spam flags" in rows["+12125550101"].retired_reason
    for _ in range(5):
        assert choose_caller_id(session, campaign, "+13125550111", clock.now()) == "+12125550102"
    # put back into service: old flags stay as history but count no more
    set_active(session, campaign, "+12125550101", True, clock.now() + timedelta(minutes=1))
    flag_number(session, campaign, "+12125550101", "agent3", clock.now() + timedelta(minutes=2))
    assert {h.number: h.flags for h in health(session, campaign, clock.now())}["+12125550101"] == 1


def test_health_counts_dials_and_person_answers_and_retires_below_the_floor(session, campaign, clock):
    now = clock.now()
    add_number(session, campaign, "+12125550101", now)
    add_number(session, campaign, "+12125550102", now)
    for i in range(10):
        _dial(session, campaign, "+12125550101", now - timedelta(hours=i), answered=(i % 2 == 0))
        _dial(session, campaign, "+12125550102", now - timedelta(hours=i), answered=(i == 0),
              by="machine" if i else "human")
    _dial(session, campaign, "+12125550102", now - timedelta(hours=1), answered=True, by="machine")
    rows = {h.number: h for h in health(session, campaign, now)}
    assert (rows["+12125550101"].dials_7d, rows["+12125550101"].answered_7d) == (10, 5)
    assert rows["+12125550101"].answer_rate_7d == 0.5
    assert (rows["+12125550102"].dials_7d, rows["+12125550102"].answered_7d) == (11, 1)  # machines don't count
    rows = {h.number: h for h in health(session, campaign, now, min_answer_rate=0.2, min_dials=10)}
    assert rows["+12125550101"].active and not rows["+12125550102"].active
    assert "answer rate 9.1%" in rows["+12125550102"].retired_reason


def test_pool_errors_are_clear(session, campaign, clock):
    add_number(session, campaign, "+12125550101", clock.now())
    with pytest.raises(UserError, match="already in the pool"):
        add_number(session, campaign, "212-555-0101", clock.now())
    with pytest.raises(UserError, match="not in the caller-ID pool"):
        flag_number(session, campaign, "+12125550199", "x", clock.now())
    with pytest.raises(UserError, match="daily cap"):
        add_number(session, campaign, "+12125550103", clock.now(), daily_cap=0)
    with pytest.raises(UserError, match="already active"):
        set_active(session, campaign, "+12125550101", True, clock.now())
