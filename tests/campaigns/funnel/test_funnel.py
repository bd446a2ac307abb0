"""The dialable funnel on a floor with leads blocked for every reason: exact counts that add up, the same verdicts as
the pre-dial gate's ``evaluate`` lead by lead, when each window group opens, and how soon the queue runs dry."""

from __future__ import annotations

import json
from datetime import timedelta

from campaigns.agents.service import create_agent
from campaigns.callerid.service import add_number
from campaigns.campaign.dial_settings import update
from campaigns.campaign.service import set_status
from campaigns.dispatch.models import Call
from campaigns.funnel.service import funnel
from campaigns.funnel.sources import forget
from dnc import consent, internal
from dnc.gate import evaluate, gate
from dnc.lists import load_list
from dnc.reassigned import load_rnd

CLEAN = [f"+1212555{i:04d}" for i in range(1000, 1006)]  # six dialable New York numbers


def _file(tmp_path, name: str, *lines: str):
    p = tmp_path / name
    p.write_text("\n".join(lines) + "\n")
    return p


def build_floor(session, leads, campaign, registry, clock, tmp_path) -> dict[str, int]:
    """One or more leads per reason; returns the counts the funnel must show."""
    now = clock.now()
    store = registry("+12125552001")  # that one is on the National DNC Registry
    for source, key, numbers in (("state", "NY", ["2125552002"]), ("litigator", "", ["2125552003"]),
                                 ("wireless", "", ["2125552004", "5125552005"])):
        load_list(session, source, _file(tmp_path, f"{source}{key}.txt", *numbers), key=key,
                  version_date=now.date(), loaded_by="test", now=now)
    load_list(session, "prefix", _file(tmp_path, "prefix.txt", "212999"), version_date=now.date(), loaded_by="test",
              now=now)
    update(session, campaign, now, min_recall_gap_s=3600, lead_daily_cap=2)
    for status in ("closed", "done", "exhausted", "dnc", "suppressed"):
        leads.add(f"+1718555{len(status):04d}", status=status)
    leads.add("+17185554100", status="dialing")
    leads.add("+442071234567", zones="Europe/London")  # not a North American number
    leads.add("+18005554123")  # toll-free: no time zone
    leads.add("+12125552000")
    internal.add_request(session, "+12125552000", channel="web", received_at=now - timedelta(hours=1),
                         added_by="test")
    leads.add("+12125552001")
    leads.add("+12125552002")
    leads.add("+12125552003")
    leads.add("+12125552004")
    leads.add("+15125552005", state="TX")
    consent.add(session, "+15125552005", kind="pewc", granted_at=now - timedelta(days=3), evidence_ref="form 5",
                added_by="test", recorded_at=now - timedelta(days=3))
    leads.add("+13055552006")  # Florida without consent
    leads.add("+12129990007")  # a blocked prefix
    leads.add("+16175552008")  # Boston: no registry snapshot covers 617
    agent = create_agent(session, "ann", now, campaign=campaign)  # offline: her callback waits for her
    leads.add("+12125553001", status="callback", next_attempt_at=now + timedelta(hours=2),
              callback_at=now + timedelta(hours=2))
    leads.add("+12125553002", status="callback", next_attempt_at=now - timedelta(minutes=1),
              callback_at=now - timedelta(minutes=1), callback_agent_id=agent.id)
    leads.add("+12125553003", status="retry", next_attempt_at=now + timedelta(hours=4), attempts=1)
    leads.add("+12125553004", status="retry", next_attempt_at=now - timedelta(minutes=5), attempts=1,
              last_called_at=now - timedelta(minutes=10))
    capped = leads.add("+12125553005", status="retry", next_attempt_at=now - timedelta(minutes=5), attempts=2,
                       last_called_at=now - timedelta(hours=2))
    for k in (3, 2):
        session.add(Call(campaign_id=campaign.id, lead_id=capped.id, phone=capped.phone, placed_at=now - timedelta(
            hours=k), ended_at=now - timedelta(hours=k) + timedelta(seconds=30), outcome="no_answer"))
    for i in range(3):
        leads.add(f"+1808555{4000 + i:04d}")  # Honolulu: 05:00 there
    # the Reassigned Numbers Database data in force (calls resting on consent wait without them)
    load_rnd(session, _file(tmp_path, "rnd.csv", f"3055552010,{(now - timedelta(days=100)).date()}"),
             version_date=now.date(), loaded_by="test", now=now)
    fl = "+13055554100"
    leads.add(fl)
    consent.add(session, fl, kind="pewc", granted_at=now - timedelta(days=3), evidence_ref="form 7", added_by="test",
                recorded_at=now - timedelta(days=3))
    for k in (30, 20, 10):  # three calls this morning: Florida allows no fourth within 24 h
        assert gate(session, fl, campaign=campaign.id, at=now - timedelta(minutes=k), registry=store).allowed
        session.add(Call(campaign_id=campaign.id, phone=fl, placed_at=now - timedelta(minutes=k),
                         ended_at=now - timedelta(minutes=k - 1), outcome="no_answer"))
    leads.add("+13055552010")  # Florida, written consent from before the number was permanently disconnected
    consent.add(session, "+13055552010", kind="pewc", granted_at=now - timedelta(days=300), evidence_ref="form 9",
                added_by="test", recorded_at=now - timedelta(days=300))
    for p in CLEAN:
        leads.add(p)
    session.flush()
    return {"reassigned_number": 1,
            "closed": 1, "done": 1, "exhausted": 1, "dnc": 1, "suppressed": 1, "dialing": 1, "invalid_number": 1,
            "unknown_zone": 1, "internal_dnc": 1, "national_dnc": 1, "state_dnc": 1, "litigator": 1,
            "wireless_no_consent": 1, "wireless_restricted_state": 1, "autodialer_no_consent": 1, "prefix_block": 1,
            "registry_stale": 1, "callback_pending": 1, "callback_reserved": 1, "retry_not_due": 1,
            "recall_gap": 1, "daily_cap": 1, "outside_window": 3, "state_cap": 1, "dialable": len(CLEAN)}


def flat(f) -> dict[str, int]:
    out = {k: v for k, v in f.final.items() if v}
    out.update(f.blocked)
    if f.dialing:
        out["dialing"] = f.dialing
    if f.dialable:
        out["dialable"] = f.dialable
    return out


def test_every_reason_counted_once_and_the_counts_add_up(session, leads, campaign, registry, clock, tmp_path):
    forget()
    expected = build_floor(session, leads, campaign, registry, clock, tmp_path)
    f = funnel(session, campaign, clock.now())
    assert flat(f) == expected
    assert f.adds_up and f.total == len(leads.all()) == sum(expected.values())
    hawaii = [w for w in f.windows if w.zones == ("Pacific/Honolulu",)]
    assert len(hawaii) == 1 and hawaii[0].leads == 3 and hawaii[0].reason == "outside_window"
    assert hawaii[0].opens_at == clock.now().replace(hour=18)  # 08:00 in Honolulu
    # a second refresh reuses the cached registry look-ups and says the same
    assert flat(funnel(session, campaign, clock.now())) == expected
    # paused, the leads that would be dialable are counted as blocked by the campaign, nothing else moves
    set_status(session, campaign, "paused", clock.now())
    paused = flat(funnel(session, campaign, clock.now()))
    assert paused.pop("campaign_paused") == len(CLEAN) and "dialable" not in paused
    assert paused == {k: v for k, v in expected.items() if k != "dialable"}


def test_the_funnel_agrees_with_the_gate_lead_by_lead(session, leads, campaign, registry, clock, tmp_path):
    """Every callable lead the funnel counts as dialable is one ``evaluate`` allows, and every lead it blocks by a
    rule has that reason among ``evaluate``'s."""
    forget()
    expected = build_floor(session, leads, campaign, registry, clock, tmp_path)
    now = clock.now()
    rule_codes = {"invalid_number", "unknown_zone", "reassigned_number", "internal_dnc", "national_dnc", "state_dnc",
                  "litigator", "wireless_no_consent", "wireless_restricted_state", "autodialer_no_consent",
                  "prefix_block", "registry_stale", "outside_window", "state_cap"}
    seen = {c: 0 for c in rule_codes}
    allowed = 0
    for lead in leads.all():
        if lead.status not in ("new",):
            continue
        d = evaluate(session, lead.phone, campaign=campaign.id, at=now, state=lead.state,
                     postal_code=lead.postal_code, zones=lead.zone_list or None)
        codes = set(d.codes)
        primary = next((c for c in ("invalid_number", "unknown_zone", "reassigned_number", "internal_dnc",
                                    "national_dnc", "state_dnc",
                                    "litigator", "wireless_no_consent", "wireless_restricted_state",
                                    "autodialer_no_consent", "prefix_block", "registry_stale", "outside_window",
                                    "state_cap") if c in codes), None)
        if primary is None:
            allowed += 1
        else:
            seen[primary] += 1
    f = funnel(session, campaign, now)
    assert allowed == f.dialable == expected["dialable"]
    for code, n in seen.items():
        assert f.blocked.get(code, 0) == n, code


def test_runway_at_the_current_pace(session, leads, campaign, registry, clock):
    forget()
    registry()
    now = clock.now()
    for i in range(30):
        leads.add(f"+1212555{6000 + i:04d}")
    for i in range(60):  # 60 retries come due over the next hour, one a minute
        leads.add(f"+1212555{7000 + i:04d}", status="retry", attempts=1, next_attempt_at=now + timedelta(minutes=i + 1))
    for i in range(45):  # 3 dials a minute over the last 15 minutes
        session.add(Call(campaign_id=campaign.id, phone=f"+1999555{i:04d}", placed_at=now - timedelta(seconds=20 * i),
                         ended_at=now, outcome="no_answer"))
    session.flush()
    f = funnel(session, campaign, now)
    assert f.pace_per_min == 3.0 and f.dialable == 30 and f.due_next_hour == 60
    # 30 in stock, +1 and -3 a minute: dry in the 15th minute
    assert f.runs_dry_in_min == 15
    assert "runs dry in about 15 minutes" in f.runway_text()
    d = json.loads(json.dumps(f.as_dict()))
    assert d["total"] == 90 and d["adds_up"] is True and d["runs_dry_in_min"] == 15


def test_a_paused_campaign_has_no_runway(session, leads, campaign, registry, clock):
    """Paused right after dialing: its leads wait behind "campaign not running" (none dialable), but the pace of the
    last 15 minutes still ran them dry "in about 1 minutes", a warning on the floor of a campaign that dials nothing
    and whose leads are all there (found pausing the demo's campaign)."""
    from campaigns.floor.funnel import floor_funnel

    forget()
    registry()
    now = clock.now()
    for i in range(30):
        leads.add(f"+1212555{6000 + i:04d}")
    for i in range(45):
        session.add(Call(campaign_id=campaign.id, phone=f"+1999555{i:04d}", placed_at=now - timedelta(seconds=20 * i),
                         ended_at=now, outcome="no_answer"))
    set_status(session, campaign, "paused", now)
    session.flush()
    f = funnel(session, campaign, now)
    assert f.dialable == 0 and f.blocked.get("campaign_paused") == 30
    assert f.runs_dry_in_min is None and f.runway_text() == "not dialing now: the campaign is paused"
    assert not any("runs dry" in n for n in f.notes)
    assert not any("runs dry" in w for w in floor_funnel(session, campaign, now, max_age_s=0)["warnings"])


def test_a_queue_running_dry_in_one_minute_says_minute(session, leads, campaign, registry, clock):
    forget()
    registry()
    now = clock.now()
    leads.add("+12125556000")
    for i in range(45):
        session.add(Call(campaign_id=campaign.id, phone=f"+1999555{i:04d}", placed_at=now - timedelta(seconds=20 * i),
                         ended_at=now, outcome="no_answer"))
    session.flush()
    f = funnel(session, campaign, now)
    assert f.runs_dry_in_min == 1 and f.runway_text() == "the queue runs dry in about 1 minute at the current pace"
    assert "1 lead is dialable but no agent is ready" in f.notes


def test_a_used_up_caller_id_pool_blocks_the_campaign(session, leads, campaign, registry, clock):
    forget()
    registry()
    now = clock.now()
    for p in CLEAN:
        leads.add(p)
    add_number(session, campaign, "+12125554101", now, daily_cap=1)
    session.add(Call(campaign_id=campaign.id, phone="+12125559999", caller_id="+12125554101",
                     placed_at=now - timedelta(minutes=5), ended_at=now, outcome="busy"))
    session.flush()
    f = funnel(session, campaign, now)
    assert f.blocked == {"no_caller_id": len(CLEAN)} and f.dialable == 0
    assert any("caller-ID pool" in n for n in f.notes)


def test_the_floor_gets_the_funnel_with_its_warnings_cached_for_a_few_seconds(session, leads, campaign, registry,
                                                                               clock, tmp_path):
    from campaigns.alerts import service as abandon_alerts
    from campaigns.floor.funnel import floor_funnel

    forget()
    expected = build_floor(session, leads, campaign, registry, clock, tmp_path)
    now = clock.now()
    for i in range(30):  # a 30-day rate of 5 %: over the target
        session.add(Call(campaign_id=campaign.id, phone=f"+1999555{i:04d}", placed_at=now - timedelta(days=1),
                         ended_at=now - timedelta(days=1), outcome="abandoned" if i < 2 else "completed"))
    session.flush()
    abandon_alerts.check(session, campaign, now)
    out = floor_funnel(session, campaign, now)
    assert out["adds_up"] and out["total"] == sum(expected.values()) and out["dialable"] == len(CLEAN)
    assert out["blocked_by"][0] == {"code": "outside_window", "label": "outside the calling window", "leads": 3}
    assert out["abandon"]["level"] == "over" and "progressive" in out["fallback"]
    assert any(w.startswith("30-day abandon rate 6.7 %") for w in out["warnings"])
    from campaigns.floor.view import floor

    assert any("machine hang-ups by AMD are not counted" in w for w in floor(session, campaign, now).warnings)
    leads.add("+12125558888")  # a new lead: served from the cache for a few seconds, then counted
    assert floor_funnel(session, campaign, now + timedelta(seconds=5))["total"] == out["total"]
    assert floor_funnel(session, campaign, now + timedelta(seconds=11))["total"] == out["total"] + 1
