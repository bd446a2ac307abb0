"""The command line: funnel JSON that adds up, strategy settings with validation, caller-ID pools, hot leads,
callbacks and the alerts view; user mistakes are one line and exit status 2."""

from __future__ import annotations

import json

from campaigns.campaign.service import get_campaign
from campaigns.db import make_engine, session_factory, session_scope
from campaigns.leads.models import Lead, LeadList
from dnc.zones import candidate_zones


def _j(r) -> dict:
    assert r.code == 0, r.err
    return json.loads(r.out.strip().splitlines()[-1])


def _leads(db_url, phones):
    engine = make_engine(db_url)
    with session_scope(session_factory(engine)) as s:
        c = get_campaign(s, "cli")
        lst = LeadList(campaign_id=c.id, name="l", sha256="c" * 64, uploaded_at=c.created_at)
        s.add(lst)
        s.flush()
        for p in phones:
            s.add(Lead(campaign_id=c.id, list_id=lst.id, phone=p, timezones=",".join(candidate_zones(p)), custom={},
                       created_at=c.created_at, updated_at=c.created_at))
        s.flush()
        ids = [x.id for x in s.query(Lead).order_by(Lead.id)]
    engine.dispose()
    return ids


def test_funnel_strategy_and_alerts_from_the_command_line(dialer, db_url, store):
    assert dialer("campaigns", "create", "cli", "--caller-id", "+12125554100").code == 0
    _leads(db_url, ["+12125551001", "+12125551002", "+18005554100"])
    f = _j(dialer("campaigns", "funnel", "cli", "--at", "2030-01-08T15:00:00Z", "--json"))
    assert f["total"] == 3 and f["adds_up"] is True
    assert f["blocked"] == {"unknown_zone": 1, "registry_stale": 2}  # no registry loaded yet
    text = dialer("campaigns", "funnel", "cli", "--at", "2030-01-08T15:00:00Z")
    assert text.code == 0 and "national registry missing or too old" in text.out and "total" in text.out
    s = _j(dialer("campaigns", "strategy", "cli", "--lead-order", "follow_sun", "--new-lead-every", "3",
                  "--lead-daily-cap", "2", "--alert-webhook", "https://hooks.example.com/a", "--json"))
    assert s["changed"] == ["alert_webhook_url", "lead_daily_cap", "lead_order", "new_lead_every"]
    assert s["settings"]["lead_order"] == "follow_sun" and s["settings"]["lead_daily_cap"] == 2
    pool = _j(dialer("campaigns", "strategy", "cli", "--local-presence", "--callerid-daily-cap", "90", "--json"))
    assert pool["changed"] == ["caller_id_daily_cap", "local_presence"] and pool["settings"]["local_presence"] is True
    assert _j(dialer("campaigns", "strategy", "cli", "--lead-daily-cap", "0", "--json"))["settings"][
        "lead_daily_cap"] is None
    bad = dialer("campaigns", "strategy", "cli", "--abandon-warn", "0.029", "--abandon-high", "0.028")
    assert bad.code == 2 and bad.err.startswith("error: abandon_warn_1") and len(bad.err.splitlines()) == 1
    bad = dialer("campaigns", "strategy", "cli", "--alert-webhook", "ftp://x")
    assert bad.code == 2 and "alert_webhook_url" in bad.err
    a = _j(dialer("campaigns", "alerts", "cli", "--check", "--json"))
    assert a["level"] == "ok" and a["abandon_rate_30d"] is None and a["thresholds"]["high"] == 0.028
    assert dialer("campaigns", "funnel", "nope").code == 2


def test_caller_ids_hot_leads_and_callbacks_from_the_command_line(dialer, db_url, store):
    assert dialer("campaigns", "create", "cli", "--caller-id", "+12125554100").code == 0
    ids = _leads(db_url, ["+12125551001", "+13125551002"])
    added = _j(dialer("callerid", "add", "cli", "+12125554101", "(312) 555-4102", "--daily-cap", "50", "--json"))
    assert [a["number"] for a in added["added"]] == ["+12125554101", "+13125554102"]
    assert added["added"][1]["state"] == "IL"
    dup = dialer("callerid", "add", "cli", "+12125554101")
    assert dup.code == 2 and "already in the pool" in dup.err
    for who in ("ann", "bob", "cy"):
        flagged = _j(dialer("callerid", "flag", "cli", "+12125554101", "--by", who, "--json"))
    assert flagged["active"] is False and "3 spam flags" in flagged["retired_reason"]
    health = _j(dialer("callerid", "health", "cli", "--json"))["numbers"]
    assert {h["number"]: (h["active"], h["flags"]) for h in health} == {"+12125554101": (False, 3),
                                                                        "+13125554102": (True, 0)}
    restored = _j(dialer("callerid", "restore", "cli", "+12125554101", "--json"))
    assert restored["active"] is True
    assert _j(dialer("callerid", "health", "cli", "--json"))["numbers"][0]["flags"] == 0
    hot = _j(dialer("leads", "hot", "--campaign", "cli", "--phone", "212-555-1001", "--json"))
    assert (hot["created"], hot["lead_id"], hot["priority"], hot["status"]) == (False, ids[0], 11, "new")
    new = _j(dialer("leads", "hot", "--campaign", "cli", "--phone", "+12125559876", "--first-name", "Ann",
                    "--json"))
    assert new["created"] is True and new["status"] == "new" and new["priority"] == 11
    cb = _j(dialer("callbacks", "add", "--campaign", "cli", "--lead", str(ids[0]), "--at", "2031-01-07T22:00",
                   "--json"))
    assert cb["moved"] is True and cb["due_at"] == "2031-01-08T13:00:00+00:00"  # 08:00 New York, next morning
    listed = _j(dialer("callbacks", "list", "--campaign", "cli", "--json"))["callbacks"]
    assert [(r["id"], r["status"]) for r in listed] == [(cb["id"], "pending")]
    assert _j(dialer("callbacks", "cancel", str(cb["id"]), "--reason", "customer emailed", "--json"))[
        "status"] == "cancelled"
    gone = dialer("callbacks", "cancel", str(cb["id"]), "--reason", "again")
    assert gone.code == 2 and "only pending or missed" in gone.err
    shown = _j(dialer("leads", "phones", "--campaign", "cli", "--lead", str(ids[1]), "--json"))
    assert shown["phones"] == [{"position": 1, "phone": "+13125551002", "failures": 0}]
