"""``dialer lists`` and ``dialer leads search|show|edit|dnc`` against a real database: the same services, refusals
on stderr with exit 2, the reset counted before it is done, every change in ``dialer campaigns history``."""

from __future__ import annotations

import json

from campaigns.leads.models import LeadList


def _setup(session, leads, campaign):
    second = LeadList(campaign_id=campaign.id, name="summer", sha256="s" * 64, uploaded_at=leads.now)
    session.add(second)
    session.flush()
    leads.list.name = "spring"
    a = leads.add("+12125551234", first_name="Ada", last_name="Lovelace")
    b = leads.add("+13055551235", first_name="Alan", last_name="Turing", status="exhausted", attempts=5,
                  last_outcome="no_answer")
    c = leads.add("+15125551236", first_name="Grace", last_name="Hopper", status="closed", last_outcome="SALE")
    c.list_id = second.id
    session.commit()
    return a, b, c


def test_lists_enable_mix_reset_and_history(session, leads, campaign, dialer):
    _a, b, _c = _setup(session, leads, campaign)
    r = dialer("lists", "disable", "Floor", "spring", "--by", "mgr")
    assert r.code == 0 and "disabled" in r.out
    r = dialer("lists", "mix", "Floor", "--weights", "spring=60,summer=40", "--by", "mgr", "--json")
    out = json.loads(r.out)
    assert out["mix"] == "weights"
    assert {x["name"]: (x["weight"], x["share"], x["enabled"]) for x in out["lists"]} == {
        "spring": (60, None, False), "summer": (40, 1.0, True)}  # a disabled list has no share of the dials
    r = dialer("lists", "mix", "Floor", "--weights", "spring=0")
    assert r.code == 2 and "error: list mix: a weight is a whole number from 1 to 1000" in r.err
    r = dialer("lists", "mix", "Floor", "--order", "summer,nope")
    assert r.code == 2 and "has no list 'nope'" in r.err
    r = dialer("lists", "reset", "Floor", "spring")
    assert r.code == 2 and "--exhausted (1)" in r.err
    r = dialer("lists", "reset", "Floor", "spring", "--exhausted", "--dry-run", "--json")
    assert json.loads(r.out)["would_reset"] == 1 and json.loads(r.out)["reset"] == 0
    r = dialer("lists", "reset", "Floor", "spring", "--exhausted", "--yes", "--by", "mgr", "--json")
    assert json.loads(r.out)["reset"] == 1
    session.expire_all()
    assert (b.status, b.attempts) == ("retry", 0)
    session.commit()  # end the read's transaction (it holds SQLite's write lock, as in the product) before the CLI
    r = dialer("lists", "reset", "Floor", "summer", "--disposition", "SALE", "--yes")
    assert r.code == 0 and "nothing to reset" in r.out and "closed (sold): 1" in r.out  # sold: never comes back
    history = json.loads(dialer("campaigns", "history", "Floor", "--json").out)["changes"]
    fields = [(h["what"], h["field"], h["by"]) for h in history]
    assert (f"list:{leads.list.id}", "reset for another pass", "mgr") in fields
    assert (f"list:{leads.list.id}", "enabled", "mgr") in fields
    assert (f"list:{leads.list.id}", "list mix", "mgr") in fields


def test_leads_search_show_edit_dnc(session, leads, campaign, dialer):
    a, b, _c = _setup(session, leads, campaign)
    r = dialer("leads", "search", "(212) 555-1234", "--campaign", "Floor", "--json")
    out = json.loads(r.out)
    assert (out["phone"], out["total"], out["leads"][0]["id"]) == ("+12125551234", 1, a.id)
    r = dialer("leads", "search", "turing", "--campaign", "Floor", "--status", "exhausted")
    assert r.code == 0 and "Alan Turing" in r.out and "1 lead\n" in r.out
    r = dialer("leads", "edit", str(a.id), "state=ZZ", "--campaign", "Floor")
    assert r.code == 2 and "error: State: give a two-letter state code" in r.err
    r = dialer("leads", "edit", str(a.id), "state=ny", "first_name=Augusta", "--campaign", "Floor", "--by", "mgr")
    assert r.code == 0 and "changed state, first_name" in r.out
    r = dialer("leads", "dnc", str(b.id), "--campaign", "Floor", "--reason", "asked by letter", "--channel", "mail",
               "--by", "mgr")
    assert r.code == 0 and "added to the internal DNC list" in r.out and "lead status dnc" in r.out
    show = json.loads(dialer("leads", "show", str(b.id), "--campaign", "Floor", "--json").out)
    assert show["status"] == "dnc"
    assert show["changes"][0]["field"] == "do not call" and show["changes"][0]["by"] == "mgr"
    assert show["decisions"][0]["what"] == "Added to the internal DNC list"
    check = dialer("dnc", "check", "+13055551235", "--json")
    assert "internal_dnc" in check.out
    r = dialer("leads", "show", "99999", "--campaign", "Floor")
    assert r.code == 2 and "has no lead 99999" in r.err
