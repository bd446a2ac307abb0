"""Lead lists in the claim, on the memory store and the SQL stores alike: a disabled list's leads are not dialed
(and are again once it is enabled), a weighted mix dials each list in its share, an ordered mix dials the lists in
their places, and a hot lead goes first whatever its list. The simulator and the pacing benchmark run on the
memory store, so a manager's list settings must mean the same there."""

from __future__ import annotations

from collections import Counter

import pytest
from sqlalchemy import insert

from campaigns.campaign.models import Campaign
from campaigns.db import session_scope
from campaigns.leads import listadmin
from campaigns.leads.models import Lead, LeadList
from dialer.loop import MemoryStore
from dialer.loop.memory import MemLead, MemList
from tests.dialer.loop.conftest import build_floor

PER_LIST = 12


def number(list_no: int, i: int) -> str:
    return f"+1212{list_no + 2}55{i:04d}"


class Lists:
    """Three lists of ``PER_LIST`` leads (a, b, c) on ``floor``'s store, and the list admin of that store."""

    def __init__(self, floor, hot_in: str | None = None) -> None:
        self.floor, self.ids = floor, {}
        f, t0 = floor, floor.t0
        if isinstance(f.store, MemoryStore):
            lead_id = 1
            for k, name in enumerate("abc"):
                self.ids[name] = k + 1
                f.store.add_list(MemList(k + 1, f.campaign_id))
                for i in range(PER_LIST):
                    hot = 5 if name == hot_in and i == PER_LIST - 1 else 0
                    f.store.add_lead(MemLead(lead_id, f.campaign_id, number(k, i), t0, list_id=k + 1, priority=hot))
                    lead_id += 1
            return
        with session_scope(f.sessions) as s:
            for k, name in enumerate("abc"):
                lst = LeadList(campaign_id=f.campaign_id, name=name, sha256=name * 64, uploaded_at=t0)
                s.add(lst)
                s.flush()
                self.ids[name] = lst.id
                s.execute(insert(Lead), [{"campaign_id": f.campaign_id, "list_id": lst.id, "phone": number(k, i),
                                          "custom": {}, "created_at": t0, "updated_at": t0,
                                          "priority": 5 if name == hot_in and i == PER_LIST - 1 else 0}
                                         for i in range(PER_LIST)])

    def name_of(self, phone: str) -> str:
        return "abc"[int(phone[5]) - 2]

    def enable(self, name: str, active: bool) -> None:
        if isinstance(self.floor.store, MemoryStore):
            self.floor.store.set_list_active(self.ids[name], active)
            return
        with session_scope(self.floor.sessions) as s:
            c = s.get(Campaign, self.floor.campaign_id)
            listadmin.set_active(s, c, s.get(LeadList, self.ids[name]), active, "mgr", self.floor.t0)

    def mix(self, mode: str, values: dict[str, int]) -> None:
        by_id = {self.ids[k]: v for k, v in values.items()}
        if isinstance(self.floor.store, MemoryStore):
            self.floor.store.set_list_mix(self.floor.campaign_id, mode, by_id)
            return
        with session_scope(self.floor.sessions) as s:
            listadmin.set_mix(s, s.get(Campaign, self.floor.campaign_id), mode, by_id, "mgr", self.floor.t0)

    def dial(self, n: int, t: float) -> list[str]:
        """The lists of the calls one turn placed, in the order placed."""
        before = len(self.floor.carrier.placed)
        self.floor.dial(n, t)
        return [self.name_of(req.to) for _, req in self.floor.carrier.placed[before:]]


@pytest.fixture
def lfloor(kind, request, clock):
    return build_floor(kind, request, clock, leads=0, agents=2)


def test_a_disabled_lists_leads_wait_until_it_is_enabled(lfloor):
    lists = Lists(lfloor)
    lists.enable("b", False)
    lists.enable("c", False)
    assert Counter(lists.dial(PER_LIST + 5, 1.0)) == Counter({"a": PER_LIST})  # only a's; b and c wait
    assert lists.dial(3, 2.0) == []
    lists.enable("c", True)
    assert Counter(lists.dial(PER_LIST + 5, 3.0)) == Counter({"c": PER_LIST})


def test_a_weighted_mix_dials_each_list_in_its_share(lfloor):
    lists = Lists(lfloor)
    lists.mix("weights", {"a": 3, "b": 1})  # c has no weight: only when a and b have nothing due
    got = []
    for turn, n in enumerate([1, 2, 1, 4, 3, 1]):  # turns of any size: the shares hold across them
        got += lists.dial(n, 1.0 + turn)
    assert Counter(got) == Counter({"a": 9, "b": 3})
    assert Counter(got[:4]) == Counter({"a": 3, "b": 1})
    assert Counter(lists.dial(12, 10.0)) == Counter({"a": 3, "b": 9})  # the rest of a and b before any of c
    assert Counter(lists.dial(20, 11.0)) == Counter({"c": PER_LIST})


def test_an_ordered_mix_dials_the_lists_in_their_places_a_hot_lead_first(lfloor):
    lists = Lists(lfloor, hot_in="c")
    lists.mix("order", {"b": 1, "a": 2})  # c, left out, goes last
    assert lists.dial(1, 1.0) == ["c"]  # c's hot lead first, whatever its list's place
    assert Counter(lists.dial(PER_LIST - 1, 2.0)) == Counter({"b": PER_LIST - 1})
    assert lists.dial(2, 3.0) == ["b", "a"]  # every b before any a
    lists.enable("a", False)
    assert Counter(lists.dial(4, 4.0)) == Counter({"c": 4})  # a disabled list gives its place up


def test_a_disabled_lists_lead_cannot_be_preview_dialed(kind, request, clock):
    from dnc.errors import UserError

    f = build_floor(kind, request, clock, leads=0, agents=1, pacing_mode="preview")
    lists = Lists(f)
    lists.enable("a", False)
    f.ready(0, 0.0)
    with pytest.raises(UserError, match="cannot be dialed now"):
        f.loop.preview_dial(f.agents[0], 1, f.at(1.0))  # lead 1 is a's
    assert f.carrier.placed == [] and f.store.agent(f.agents[0]).state == "ready"
