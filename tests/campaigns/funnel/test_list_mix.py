"""The list mix in the claim: weights draw leads from each active list in its share, claim after claim (the credits
persist); a hot lead still goes first; a list without a weight waits for the weighted ones; a disabled list is not
dialed whatever its weight. Enabling, disabling and mixing are recorded in the campaign's history."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime

import pytest

from campaigns.campaign.history import changes
from campaigns.dispatch import service as dispatch
from campaigns.leads import listadmin
from campaigns.leads.models import Lead, LeadList
from dnc.errors import UserError

NOW = datetime(2030, 1, 8, 17, 0, tzinfo=UTC)  # a Tuesday, noon in New York


def _list(session, campaign, name: str) -> LeadList:
    lst = LeadList(campaign_id=campaign.id, name=name, sha256=name[0] * 64, uploaded_at=NOW)
    session.add(lst)
    session.flush()
    return lst


def _fill(session, leads, lst: LeadList, first: int, n: int) -> None:
    for i in range(n):
        lead = leads.add(f"+1212555{first + i:04d}")
        lead.list_id = lst.id
    session.flush()


def _draw(session, campaign, rounds: int, per_claim: int) -> Counter:
    """Claim ``rounds`` times and end each call at once (the leads go to retry, due later)."""
    got: Counter = Counter()
    for _ in range(rounds):
        for c in dispatch.claim(session, campaign, per_claim, NOW):
            got[session.get(Lead, c.lead_id).list_id] += 1
            dispatch.end(session, c.call_id, "no_answer", NOW)
    return got


@pytest.mark.parametrize("per_claim", [1, 4])
def test_weights_draw_each_list_in_its_share_across_claims(session, leads, campaign, per_claim):
    a, b = leads.list, _list(session, campaign, "second")
    _fill(session, leads, a, 1000, 40)
    _fill(session, leads, b, 2000, 40)
    listadmin.set_mix(session, campaign, "weights", {a.id: 3, b.id: 1}, "mgr", NOW)
    got = _draw(session, campaign, 20 // per_claim, per_claim)
    assert got == Counter({a.id: 15, b.id: 5})


def test_even_ranks_or_no_weights_keep_the_lead_order(session, leads, campaign):
    a, b = leads.list, _list(session, campaign, "second")
    _fill(session, leads, a, 1000, 6)
    _fill(session, leads, b, 2000, 6)
    got = _draw(session, campaign, 1, 8)
    assert got == Counter({a.id: 6, b.id: 2})  # longest due, then id: the first list's leads come first
    listadmin.set_mix(session, campaign, "order", {b.id: 1}, "mgr", NOW)
    assert (b.mix_rank, a.mix_rank) == (1, 2)
    assert _draw(session, campaign, 1, 4) == Counter({b.id: 4})


def test_a_hot_lead_goes_first_and_unweighted_lists_wait(session, leads, campaign):
    a, b, c = leads.list, _list(session, campaign, "second"), _list(session, campaign, "third")
    _fill(session, leads, a, 1000, 3)
    _fill(session, leads, b, 2000, 3)
    _fill(session, leads, c, 3000, 3)
    hot = leads.add("+12125559999", priority=50)
    hot.list_id = b.id
    listadmin.set_mix(session, campaign, "weights", {a.id: 1, b.id: 1}, "mgr", NOW)
    claimed = [x.lead_id for x in dispatch.claim(session, campaign, 9, NOW)]
    assert claimed[0] == hot.id
    lists_in_order = [session.get(Lead, i).list_id for i in claimed]
    assert lists_in_order[-2:] == [c.id, c.id]  # the unweighted list only after both weighted lists ran dry
    assert Counter(lists_in_order[:7]) == Counter({a.id: 3, b.id: 4})

    for x in dispatch.live_calls(session, campaign.id):
        dispatch.end(session, x.id, "no_answer", NOW)
    hot_elsewhere = leads.add("+12125559998", priority=50)  # e.g. the campaign's hot-lead list: no weight
    hot_elsewhere.list_id = c.id
    _fill(session, leads, a, 1100, 3)
    _fill(session, leads, b, 2100, 3)
    assert dispatch.claim(session, campaign, 1, NOW)[0].lead_id == hot_elsewhere.id


def test_a_disabled_list_is_not_dialed_whatever_its_weight(session, leads, campaign):
    a, b = leads.list, _list(session, campaign, "second")
    _fill(session, leads, a, 1000, 3)
    _fill(session, leads, b, 2000, 3)
    listadmin.set_mix(session, campaign, "weights", {a.id: 9, b.id: 1}, "mgr", NOW)
    assert listadmin.set_active(session, campaign, a, False, "mgr", NOW)
    assert not listadmin.set_active(session, campaign, a, False, "mgr", NOW)  # no change, nothing recorded
    assert _draw(session, campaign, 1, 6) == Counter({b.id: 3})
    history = changes(session, campaign.id, subject=f"list:{a.id}")
    assert [(h.field, h.old, h.new, h.by) for h in history][:2] == [("enabled", "yes", "no", "mgr"),
                                                                    ("list mix", "no preference", "weight 9", "mgr")]


def test_mix_refusals_name_the_problem(session, leads, campaign):
    a = leads.list
    with pytest.raises(UserError, match="weight is a whole number from 1 to 1000"):
        listadmin.set_mix(session, campaign, "weights", {a.id: 0}, "mgr", NOW)
    with pytest.raises(UserError, match="has no list 999"):
        listadmin.set_mix(session, campaign, "order", {999: 1}, "mgr", NOW)
    with pytest.raises(UserError, match="must be one of"):
        listadmin.set_mix(session, campaign, "shuffle", {}, "mgr", NOW)


def test_preview_skips_a_disabled_list_and_follows_the_weights(session, leads, campaign):
    from campaigns.agents import preview
    from campaigns.agents.service import create_agent, go_ready

    campaign.pacing_mode = "preview"
    a, b, c = leads.list, _list(session, campaign, "second"), _list(session, campaign, "third")
    _fill(session, leads, a, 1000, 6)
    _fill(session, leads, b, 2000, 6)
    _fill(session, leads, c, 3000, 6)
    agent = create_agent(session, "ann", NOW, campaign)
    go_ready(session, agent.id, NOW)
    listadmin.set_active(session, campaign, c, False, "mgr", NOW)
    listadmin.set_mix(session, campaign, "weights", {a.id: 1, b.id: 2, c.id: 5}, "mgr", NOW)
    seen = []
    for _ in range(6):
        lead = preview.preview_next(session, agent.id, NOW)
        seen.append(lead.list_id)
        preview.preview_skip(session, agent.id, lead.id, NOW)
        lead.next_attempt_at = NOW.replace(year=2031)  # out of the way: the next preview is another lead
        session.flush()
    assert Counter(seen) == Counter({a.id: 2, b.id: 4})


def test_order_dials_list_by_list_with_hot_leads_first_and_new_lists_last(session, leads, campaign):
    a, b = leads.list, _list(session, campaign, "second")
    _fill(session, leads, a, 1000, 3)
    _fill(session, leads, b, 2000, 3)
    listadmin.set_mix(session, campaign, "order", {b.id: 1, a.id: 2}, "mgr", NOW)
    late = _list(session, campaign, "uploaded later")  # no place: after the ordered lists
    _fill(session, leads, late, 3000, 2)
    hot = leads.add("+12125559997", priority=50)
    hot.list_id = a.id  # the second list in the order, but hot
    session.flush()
    assert listadmin.mix_text(late, "order") == "after the ordered lists"
    claimed = [session.get(Lead, c.lead_id) for c in dispatch.claim(session, campaign, 9, NOW)]
    assert claimed[0].id == hot.id
    assert [x.list_id for x in claimed[1:]] == [b.id] * 3 + [a.id] * 3 + [late.id] * 2
