"""Campaigns shared out among dialing workers: one owner each, fair shares, a dead worker's campaigns taken over
once its lease runs out, a paused campaign with live calls still owned."""

from __future__ import annotations

from datetime import timedelta

from campaigns.campaign.service import create_campaign
from campaigns.dispatch.models import Call
from campaigns.leases import ownership as shares

TTL = 8.0


def campaigns(session, now, n: int, status: str = "active") -> list[int]:
    ids = []
    for i in range(n):
        c = create_campaign(session, f"C{len(ids)}-{status}-{i}", "+12125550100", now)
        c.status = status
        ids.append(c.id)
    session.commit()
    return ids


def beat(session, name, now, mine=frozenset()):
    shares.heartbeat(session, name, "sim", now, TTL)
    got = shares.rebalance(session, name, now, TTL, mine=set(mine))
    session.commit()
    return got


def test_two_workers_share_the_campaigns_and_each_campaign_has_one_owner(session, clock):
    ids = campaigns(session, clock.now(), 5)
    a = beat(session, "a", clock.now())
    assert a.owned == set(ids) and a.share == 5  # alone: everything
    b = beat(session, "b", clock.now())
    assert b.owned == set() and b.share == 3  # a still holds them all
    clock.advance(2)
    a = beat(session, "a", clock.now(), a.owned)
    assert len(a.owned) == 3 and len(a.released) == 2  # a gives its surplus back to the worker under its share
    b = beat(session, "b", clock.now(), b.owned)
    assert len(b.owned) == 2 and not a.owned & b.owned
    assert set(b.taken) == b.owned
    assert shares.owners(session, clock.now()) == {**{c: "a" for c in a.owned}, **{c: "b" for c in b.owned}}


def test_a_dead_workers_campaigns_go_to_the_others_once_its_lease_runs_out(session, clock):
    ids = campaigns(session, clock.now(), 4)
    a = beat(session, "a", clock.now())
    b = beat(session, "b", clock.now())
    a = beat(session, "a", clock.now(), a.owned)
    b = beat(session, "b", clock.now(), b.owned)
    assert len(a.owned) == len(b.owned) == 2
    clock.advance(TTL - 1)  # a stops beating (SIGKILL); b keeps renewing
    b = beat(session, "b", clock.now(), b.owned)
    assert len(b.owned) == 2  # a's leases still run
    clock.advance(1.5)
    b = beat(session, "b", clock.now(), b.owned)
    assert b.owned == set(ids) and b.workers == 1
    assert set(b.taken) == a.owned and set(b.taken.values()) == {"a"}  # taken from a: its calls are reconciled


def test_a_paused_campaign_keeps_an_owner_while_it_has_live_calls(session, clock):
    [cid] = campaigns(session, clock.now(), 1, status="paused")
    assert beat(session, "a", clock.now()).owned == set()
    session.add(Call(campaign_id=cid, phone="+12125550111", provider="twilio", placed_at=clock.now()))
    session.commit()
    a = beat(session, "a", clock.now())
    assert a.owned == {cid}
    session.query(Call).update({"ended_at": clock.now()})
    session.commit()
    a = beat(session, "a", clock.now() + timedelta(seconds=1), a.owned)
    assert a.owned == set() and a.released == {cid}


def test_a_stopping_worker_hands_its_campaigns_over_at_once(session, clock):
    ids = campaigns(session, clock.now(), 2)
    a = beat(session, "a", clock.now())
    assert a.owned == set(ids)
    shares.retire(session, "a", clock.now())
    session.commit()
    b = beat(session, "b", clock.now())
    assert b.owned == set(ids) and set(b.taken.values()) == {None}


def test_only_limits_a_worker_to_its_campaigns(session, clock):
    ids = campaigns(session, clock.now(), 3)
    shares.heartbeat(session, "a", "sim", clock.now(), TTL)
    got = shares.rebalance(session, "a", clock.now(), TTL, mine=set(), only={ids[1]})
    assert got.owned == {ids[1]}


def test_a_draining_worker_keeps_its_campaigns_and_takes_no_more(session, clock):
    """A worker letting its agents' calls finish before it stops gives none of its campaigns to a worker under its
    share (that would hand the calls over mid-conversation), and takes none: it dials nothing any more."""
    ids = campaigns(session, clock.now(), 4)
    a = beat(session, "a", clock.now())
    assert a.owned == set(ids)
    beat(session, "b", clock.now())  # under its share: a would give it half
    clock.advance(2)
    shares.heartbeat(session, "a", "sim", clock.now(), TTL)
    drained = shares.rebalance(session, "a", clock.now(), TTL, mine=a.owned, draining=True)
    session.commit()
    assert drained.owned == set(ids) and not drained.released
    more = [create_campaign(session, "Started meanwhile", "+12125550100", clock.now()).id]  # needs an owner
    session.commit()
    clock.advance(2)
    shares.heartbeat(session, "a", "sim", clock.now(), TTL)
    drained = shares.rebalance(session, "a", clock.now(), TTL, mine=drained.owned, draining=True)
    session.commit()
    assert more[0] not in drained.owned and drained.owned == set(ids)
