"""Reconciliation kept current: the stored verdicts equal a full reconciliation of the calls, after new calls, a
DNC request recorded later with an earlier effect, a late-arriving earlier call, and a new rules file."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from importlib import resources

import pytest
from sqlalchemy import select

from campaigns.campaign.service import create_campaign
from campaigns.compliance import verdicts
from campaigns.compliance.feed import call_records
from campaigns.dispatch.models import Call
from dnc import consent, internal
from dnc.reassigned import load_rnd
from dnc.reconcile import reconcile
from dnc.registry import Store, generate, load_full

NOON = datetime(2030, 1, 8, 17, 0, tzinfo=UTC)  # 12:00 in New York, a Tuesday
MIAMI, NYC, LATE = "+13052345601", "+12122345602", "+12122345603"


@pytest.fixture
def store(tmp_path, setenv, session):
    root = tmp_path / "dnc"
    setenv(DIALER_DNC_DIR=str(root))
    path = generate(tmp_path / "registry.txt", 500, area_codes=("212", "305"), seed=5).path
    s = Store(root)
    load_full(session, s, [path], version_date=(NOON - timedelta(days=3)).date(), loaded_by="test",
              now=NOON - timedelta(days=3), area_codes="212,305")
    empty = tmp_path / "rnd.csv"  # RND data recording no disconnection: Miami's consent stands
    empty.write_text("")
    load_rnd(session, empty, version_date=(NOON - timedelta(days=3)).date(), loaded_by="test",
             now=NOON - timedelta(days=3))
    session.commit()
    return s


def _call(s, cid: int, phone: str, at: datetime, **kw) -> int:
    c = Call(campaign_id=cid, phone=phone, placed_at=at, ended_at=at + timedelta(seconds=20), status="ended",
             outcome="no_answer", **kw)
    s.add(c)
    s.flush()
    return c.id


def _stored(s) -> dict[str, str]:
    return {f"call:{v.call_id}": v.codes for v in verdicts.findings(s, NOON - timedelta(days=5),
                                                                     NOON + timedelta(days=5))}


def _full(s, store) -> dict[str, str]:
    return {r["call"]: r["codes"] for r in reconcile(s, call_records(s), store)}


def test_stored_verdicts_follow_every_change(session, store):
    s = session
    cid = create_campaign(s, "Spring", "+12125554100", NOON).id
    consent.add(s, MIAMI, kind="pewc", granted_at=NOON - timedelta(days=9), evidence_ref="form 1", added_by="t",
                recorded_at=NOON - timedelta(days=9))
    for h in (0, 1, 2, 3):  # the fourth call to Miami in 24 hours breaks Florida's cap
        _call(s, cid, MIAMI, NOON + timedelta(hours=h))
    _call(s, cid, NYC, NOON + timedelta(hours=10))  # 22:00 in New York
    _call(s, cid, LATE, NOON + timedelta(hours=1))
    s.commit()
    r = verdicts.refresh(s, store, NOON)
    assert (r.judged, r.findings, r.rebuilt) == (6, 2, True)
    assert _stored(s) == _full(s, store) and sorted(_stored(s).values()) == ["outside_window", "state_cap"]
    assert verdicts.checked(s, NOON.date(), NOON.date(), cid) == 5  # the 22:00 call is on the next UTC day
    assert verdicts.checked(s, NOON.date(), NOON.date() + timedelta(days=1)) == 6
    assert verdicts.refresh(s, store, NOON).judged == 0  # nothing new: nothing judged

    # a DNC request that arrives later, effective from an earlier call (imported history): LATE's call broke it
    internal.add_request(s, LATE, channel="agent", received_at=NOON, effective_at=NOON, added_by="import")
    # a call from another dialer, earlier than the four: now the third Miami call is over the cap as well
    _call(s, cid, MIAMI, NOON - timedelta(hours=2), imported=True, provider="import")
    s.commit()
    r = verdicts.refresh(s, store, NOON + timedelta(days=1))
    assert r.judged == 1 and r.rejudged >= 4
    assert _stored(s) == _full(s, store)
    assert sorted(_stored(s).values()) == ["internal_dnc", "outside_window", "state_cap", "state_cap"]
    assert [v.codes for v in verdicts.findings(s, NOON, NOON + timedelta(days=1), window=True)] == \
        ["state_cap", "state_cap", "outside_window"]
    s.commit()


def test_a_new_rules_file_judges_everything_again(session, store, tmp_path, setenv):
    s = session
    cid = create_campaign(s, "Spring", "+12125554100", NOON).id
    _call(s, cid, NYC, NOON + timedelta(hours=8, minutes=30))  # 20:30 in New York: legal under 21:00
    s.commit()
    assert verdicts.refresh(s, store, NOON).findings == 0
    rules = tmp_path / "rules.toml"
    text = resources.files("dnc").joinpath("data/rules.toml").read_text(encoding="utf-8")
    assert 'end = "21:00"' in text or '"21:00"' in text
    rules.write_text(text.replace('"21:00"', '"20:00"', 1), encoding="utf-8")
    setenv(DIALER_DNC_RULES=str(rules))
    r = verdicts.refresh(s, store, NOON)
    assert r.rebuilt and r.judged == 1 and r.findings == 1
    assert s.scalar(select(Call.id)) is not None


def test_a_backlog_is_judged_in_steps_and_the_report_says_what_waits(session, store):
    from campaigns.compliance.auditor import Span, reconciliation
    from dialer.jobs.compliance import reconciliation_verdicts

    s = session
    cid = create_campaign(s, "Spring", "+12125554100", NOON).id
    for m in range(5):
        _call(s, cid, NYC, NOON + timedelta(minutes=m))
    s.commit()
    assert verdicts.refresh(s, store, NOON, limit=2).judged == 2 and verdicts.pending(s) == 3
    sheet = reconciliation(s, store, NOON, Span(NOON.date(), NOON.date()), cid)  # judges the rest itself
    assert verdicts.pending(s) == 0 and sheet.verdict == "ok" and sheet.summary[0] == ("Calls checked", "5")
    _call(s, cid, NYC, NOON + timedelta(minutes=9))
    s.commit()
    assert reconciliation_verdicts(s, NOON, store)["judged"] == 1  # the worker's job, every minute


def test_a_call_is_judged_once_placed_at_the_instant_it_was_sent(session, store):
    """A claimed call's row exists before the carrier takes it; ``mark_placed`` then moves ``placed_at`` to the
    moment the request went out (up to a second later): the verdict is about that moment, so a claim at 20:59:59.6
    in New York sent at 21:00:00.4 is outside the window."""
    from campaigns.dispatch.service import mark_placed

    s = session
    cid = create_campaign(s, "Spring", "+12125554100", NOON).id
    claimed = NOON + timedelta(hours=8, minutes=59, seconds=59, microseconds=600_000)
    c = Call(campaign_id=cid, phone=NYC, placed_at=claimed, status="queued")
    s.add(c)
    s.commit()
    assert verdicts.refresh_unlocked(s, store, claimed) is not None  # the job runs between claim and send
    mark_placed(s, c.id, "sim", "ref-1", claimed + timedelta(milliseconds=800))
    s.commit()
    assert verdicts.refresh_unlocked(s, store, claimed + timedelta(seconds=1)) is not None
    assert [v.codes for v in verdicts.findings(s, NOON, NOON + timedelta(days=1))] == ["outside_window"]
    assert verdicts.pending(s) == 0 and verdicts.checked(s, NOON.date(), NOON.date() + timedelta(days=1)) == 1


def test_a_claim_the_carrier_refused_leaves_no_hole(session, store):
    """A claim whose placement failed is deleted; on SQLite the next call can get its id again (a table's largest
    rowid is reused once deleted). That call is judged all the same, and the refused claim counts nowhere."""
    from campaigns.dispatch.service import place_failed

    s = session
    cid = create_campaign(s, "Spring", "+12125554100", NOON).id
    refused = Call(campaign_id=cid, phone=NYC, placed_at=NOON, status="queued")
    s.add(refused)
    s.commit()
    assert verdicts.refresh_unlocked(s, store, NOON) is not None
    place_failed(s, refused.id, NOON)
    s.commit()
    late = _call(s, cid, MIAMI, NOON + timedelta(hours=10))  # 22:00 in Miami
    s.commit()
    assert verdicts.refresh_unlocked(s, store, NOON + timedelta(hours=10)) is not None
    assert [v.call_id for v in verdicts.findings(s, NOON, NOON + timedelta(days=1))] == [late]
    assert verdicts.checked(s, NOON.date(), NOON.date() + timedelta(days=1)) == 1 and verdicts.pending(s) == 0


def test_a_claim_stepped_over_is_judged_when_sent_however_late(session, store):
    """A later call is judged while an earlier claim waits for the carrier (a preview call, a worker that stopped
    before sending): the claim's id stays open, and the call is judged once sent, even hours later."""
    from campaigns.compliance.models import VerdictState
    from campaigns.dispatch.service import mark_placed

    s = session
    cid = create_campaign(s, "Spring", "+12125554100", NOON).id
    waiting = Call(campaign_id=cid, phone=NYC, placed_at=NOON, status="queued")
    s.add(waiting)
    s.flush()
    _call(s, cid, LATE, NOON)
    s.commit()
    for hours in (0, 3):
        assert verdicts.refresh_unlocked(s, store, NOON + timedelta(hours=hours)).judged == (1 if not hours else 0)
        assert [r[:2] for r in s.get(VerdictState, 1, populate_existing=True).open_ids] == [[waiting.id] * 2]
    mark_placed(s, waiting.id, "sim", "ref-2", NOON + timedelta(hours=10))  # 22:00 in New York
    s.commit()
    assert verdicts.refresh_unlocked(s, store, NOON + timedelta(hours=10)).judged == 1
    assert [v.call_id for v in verdicts.findings(s, NOON, NOON + timedelta(days=1))] == [waiting.id]
    assert s.get(VerdictState, 1, populate_existing=True).open_ids == [] and verdicts.pending(s) == 0
