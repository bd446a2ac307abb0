"""The compliance officer's pages: registry ages, look-up with every reason and the history, internal DNC
add/remove with reasons, reconciliation, SLA, abandon, the audit chain and formula-safe CSV exports."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta

import pytest
from sqlalchemy import text

from campaigns.campaign.service import create_campaign
from campaigns.dispatch.models import Call
from dnc import internal
from dnc.gate import evaluate
from dnc.registry import load_full
from dnc.registry.snapshot import Store

LISTED = "+12127364425"  # on the national registry loaded below
CLEAN = "+12127364421"


@pytest.fixture
def store(app):
    return app.extensions["console"].dnc_store


@pytest.fixture
def registry(sessions, store, clock, tmp_path):
    """212 loaded with version 2030-01-05 (3 days old), 415 with 2029-12-10 (29 days: renew now)."""
    f, g = tmp_path / "212.txt", tmp_path / "415.txt"
    f.write_text("2127364425\n2127364426\n")
    g.write_text("4153927701\n")
    with sessions() as s:
        load_full(s, store, [f], version_date=date(2030, 1, 5), loaded_by="ops", now=clock.now(), area_codes="212")
        load_full(s, store, [g], version_date=date(2029, 12, 10), loaded_by="ops", now=clock.now(),
                  area_codes="415")
        s.commit()


@pytest.fixture
def campaign(sessions, clock):
    with sessions() as s:
        c = create_campaign(s, "Spring", "+12125550100", clock.now())
        s.commit()
        return c.id


def test_overview_without_a_registry_says_nothing_may_be_dialed(client, auth):
    auth.login("compliance")
    html = client.get("/compliance/").get_data(as_text=True)
    assert "No national registry snapshot is loaded: nothing may be dialed" in html


def test_overview_shows_registry_versions_and_their_ages(client, auth, registry):
    auth.login("compliance")
    html = client.get("/compliance/").get_data(as_text=True)
    assert 'class="tile bad" id="registry-age"' in html and "29 days" in html  # oldest version: near 31 days
    assert "2029-12-10" in html and "renew now" in html and "2030-01-05" in html and "current" in html


def test_lookup_a_suppressed_number_shows_why(client, auth, registry, campaign, sessions, clock, tmp_path):
    from campaigns.leadimport.service import import_leads
    from dnc.scrub import DncScrubber

    with sessions() as s:
        internal.add_request(s, LISTED, channel="phone", received_at=clock.now(), added_by="cara",
                             reason="asked on the phone")
        s.commit()
    lst = tmp_path / "leads.csv"
    lst.write_text(f"Phone,State\n{LISTED},NY\n")
    scrubber = DncScrubber(sessions, campaign=campaign, at=clock.now(), operator="mia",
                           store=client.application.extensions["console"].dnc_store)
    import_leads(sessions, "Spring", lst, now=clock.now(), scrubber=scrubber)
    auth.login("compliance")
    r = client.get("/compliance/lookup?number=(212) 736-4425&campaign=Spring")
    html = r.get_data(as_text=True)
    assert r.status_code == 200
    assert "may not be called now" in html
    # every reason in words, not only the first
    assert "On the internal do-not-call list" in html and "On the National DNC Registry" in html
    assert "asked on the phone" in html  # the internal entry and its note
    assert "Suppressed at import because" in html
    assert '<span class="badge bad">On the National DNC Registry</span>' in html
    assert "internal add" in html  # the ledger's record of the request
    clean = client.get(f"/compliance/lookup?number={CLEAN}&campaign=Spring").get_data(as_text=True)
    assert "may be called now" in clean


def test_lookup_form_names_a_bad_number(client, auth):
    auth.login("compliance")
    r = client.get("/compliance/lookup?number=hello")
    assert r.status_code == 200 and 'id="number-error"' in r.get_data(as_text=True)
    r = client.get("/compliance/lookup?number=")
    assert r.status_code == 400 and 'id="number-error">Enter a phone number.' in r.get_data(as_text=True)


def test_add_and_remove_internal_dnc_with_reasons(client, auth, registry, campaign, sessions, clock):
    auth.login("compliance")
    page = f"/compliance/lookup?number={CLEAN}"
    r = auth.post("/compliance/dnc/add", {"number": CLEAN, "scope": "company", "channel": "email",
                                          "reason": "e-mail of 8 Jan"}, page=page)
    assert r.status_code == 302
    with sessions() as s:
        d = evaluate(s, CLEAN, campaign=campaign, at=clock.now(), registry=client.application.extensions[
            "console"].dnc_store)
        assert not d.allowed and "internal_dnc" in d.codes  # refused on the very next call
        assert internal.active(s, CLEAN, None, clock.now())[0].added_by == "compliance-user"
    r = auth.post("/compliance/dnc/remove", {"number": CLEAN, "scope": "company", "reason": ""}, page=page)
    assert r.status_code == 400 and 'id="reason-error">Removing a number needs a reason.' in r.get_data(as_text=True)
    r = auth.post("/compliance/dnc/remove", {"number": CLEAN, "scope": f"campaign:{campaign}", "reason": "x"},
                  page=page)
    assert r.status_code == 400 and "is not on the internal DNC list of campaign" in r.get_data(as_text=True)
    r = auth.post("/compliance/dnc/remove", {"number": CLEAN, "scope": "company", "reason": "typed the wrong number"},
                  page=page)
    assert r.status_code == 302
    with sessions() as s:
        assert evaluate(s, CLEAN, campaign=campaign, at=clock.now(),
                        registry=client.application.extensions["console"].dnc_store).allowed
    html = client.get(page).get_data(as_text=True)
    assert "internal remove" in html and "typed the wrong number" in html
    r = auth.post("/compliance/dnc/add", {"number": "12", "scope": "company", "channel": "email"}, page=page)
    assert r.status_code == 400 and 'id="number-error"' in r.get_data(as_text=True)


def test_reconciliation_is_zero_then_names_the_violating_call(client, auth, registry, campaign, sessions, clock):
    auth.login("compliance")
    r = client.get("/compliance/reports/reconcile")
    assert r.status_code == 200 and "No violations: every call complied." in r.get_data(as_text=True)
    with sessions() as s:  # placed after the registry load: judged against it
        s.add(Call(campaign_id=campaign, phone=LISTED, placed_at=clock.now() + timedelta(minutes=5),
                   status="completed"))
        s.add(Call(campaign_id=campaign, phone=CLEAN, placed_at=clock.now() + timedelta(minutes=5),
                   status="completed"))
        s.commit()
    html = client.get("/compliance/reports/reconcile").get_data(as_text=True)
    assert 'class="tile bad" id="verdict"' in html and 'data-value>1<' in html and "national_dnc" in html
    assert "On the National DNC Registry" in html and "Spring" in html
    rows = list(csv.reader(io.StringIO(client.get("/compliance/reports/reconcile.csv").get_data(as_text=True)
                                       .lstrip("\ufeff"))))
    table = rows[:rows.index([])]
    assert table[0][:3] == ["Call", "Number", "Placed"] and len(table) == 2
    assert table[1][1] == LISTED  # a phone number is no formula: it stays as dialed (the README's CSV rule)
    assert ["Calls checked", "2"] in rows and ["Calls that broke a rule", "1"] in rows


def test_sla_and_scrub_ledger_pages(client, auth, sessions, clock, campaign):
    with sessions() as s:
        internal.add_request(s, CLEAN, channel="mail", received_at=clock.now() - timedelta(days=20),
                             recorded_at=clock.now(), added_by="ops", reason="letter")
        s.commit()
    auth.login("compliance")
    html = client.get("/compliance/reports/sla").get_data(as_text=True)
    assert '<div class="label">Breaches</div>' in html and "mail" in html and "NO — breach" in html
    assert "<dt>Requests</dt><dd>1</dd>" in html
    assert client.get("/compliance/reports/scrubs").status_code == 200
    r = client.get("/compliance/reports/sla?since=2030-02-01&until=2030-01-01")
    assert r.status_code == 400 and "“To” is before “From”." in r.get_data(as_text=True)
    assert client.get("/compliance/reports/nope").status_code == 404


def test_abandon_report_per_campaign(client, auth, campaign, sessions, clock):
    with sessions() as s:
        for i, outcome in enumerate(["completed"] * 9 + ["abandoned"]):
            t = clock.now() - timedelta(days=2, minutes=i)
            s.add(Call(campaign_id=campaign, phone=CLEAN, placed_at=t, answered_at=t, answered_by="human",
                       connected_at=t if outcome == "completed" else None, ended_at=t + timedelta(seconds=30),
                       outcome=outcome, status="completed"))
        s.commit()
    auth.login("compliance")
    html = client.get("/compliance/abandon").get_data(as_text=True)
    assert "Spring" in html and '<span class="badge bad">10.0 %</span>' in html


def test_the_abandon_rate_reads_the_same_on_every_page(client, auth, campaign, sessions, clock):
    """1 abandoned of 11 live answers is 9.0909 %: the compliance page, the floor, the abandon report, the strategy
    form and the floor's warning all show it as "9.1 %" (one decimal, ``web.filters.percent``), none as "9.09"."""
    from campaigns.alerts import service as abandon_alerts
    from campaigns.campaign.service import get_campaign

    with sessions() as s:
        for i in range(11):
            t = clock.now() - timedelta(days=2, minutes=i)
            s.add(Call(campaign_id=campaign, phone=CLEAN, placed_at=t, answered_at=t, answered_by="human",
                       connected_at=None if i == 0 else t, ended_at=t + timedelta(seconds=30),
                       outcome="abandoned" if i == 0 else "completed", status="completed"))
        s.flush()
        abandon_alerts.check(s, get_campaign(s, "Spring"), clock.now())
        s.commit()
    auth.login("compliance")
    pages = {"compliance": client.get("/compliance/abandon").get_data(as_text=True)}
    client.post("/logout", data={"csrf_token": auth.token("/compliance/")})
    auth.login("admin")
    pages["floor"] = client.get(f"/floor/?campaign_id={campaign}").get_data(as_text=True)
    pages["report"] = client.get("/reports/abandon?campaign=Spring").get_data(as_text=True)
    pages["strategy"] = client.get(f"/campaigns/{campaign}/strategy/").get_data(as_text=True)
    warnings = client.get(f"/floor/{campaign}/data").get_json()["warnings"]
    for name, html in pages.items():
        assert "9.1 %" in html and "9.09" not in html, name
    assert any("30-day abandon rate 9.1 % is above 3 %" in w for w in warnings), warnings


def test_audit_chain_status_turns_red_when_a_record_is_edited(client, auth, sessions, clock, engine):
    with sessions() as s:
        internal.add_request(s, CLEAN, channel="web", received_at=clock.now(), added_by="ops")
        internal.add_request(s, LISTED, channel="web", received_at=clock.now(), added_by="ops")
        s.commit()
    auth.login("compliance")
    html = client.get("/compliance/audit").get_data(as_text=True)
    assert 'data-value>intact<' in html
    with engine.begin() as conn:
        conn.execute(text("UPDATE dnc_ledger SET actor = 'mallory' WHERE seq = 1"))
    html = client.get("/compliance/audit").get_data(as_text=True)
    assert 'data-value>TAMPERED<' in html and "record seq 1" in html


def test_store_is_the_configured_one(app, tmp_path):
    assert isinstance(app.extensions["console"].dnc_store, Store)
    assert str(app.extensions["console"].dnc_store.root) == str(tmp_path / "dnc")


def test_overview_says_when_this_server_lacks_the_registry_in_force_and_lists_each_host(client, auth, store, sessions,
                                                                                         clock, engine, tmp_path):
    from dnc.registry.upkeep import sync_host

    store.auto_fetch = False  # the page must say so, not fetch it meanwhile
    other = Store(tmp_path / "other-host", auto_fetch=False)
    f = tmp_path / "212.txt"
    f.write_text("2127364425\n")
    with sessions() as s:
        gen = load_full(s, other, [f], version_date=date(2030, 1, 5), loaded_by="ops", now=clock.now(),
                        area_codes="212").generation
        s.commit()
    sync_host(engine, other, clock.now())
    auth.login("compliance")
    html = client.get("/compliance/").get_data(as_text=True)
    assert 'id="registry-unavailable"' in html and f"snapshot in force (<span class=\"mono\">{gen}</span>)" in html
    assert "it has not been fetched yet" in html and "registry_unavailable" in html
    assert 'id="registry-hosts"' in html and "has the snapshot in force" in html and "other-host" in html
    sync_host(engine, store, clock.now())
    html = client.get("/compliance/").get_data(as_text=True)
    assert 'id="registry-unavailable"' not in html and "3 days" in html


def test_reconciliation_shows_each_figure_once(client, auth, registry, campaign, sessions, clock):
    """The verdict tile is the headline figure; the summary beneath lists the others (it repeated "Calls that broke a
    rule" under the tile)."""
    with sessions() as s:
        s.add(Call(campaign_id=campaign, phone=LISTED, placed_at=clock.now() + timedelta(minutes=5),
                   status="completed"))
        s.commit()
    auth.login("compliance")
    html = client.get("/compliance/reports/reconcile").get_data(as_text=True)
    assert html.count("Calls that broke a rule") == 1 and html.count("Calls checked") == 1
    tile = html[html.index('id="verdict"'):html.index('id="summary"')]
    assert "Calls that broke a rule" in tile and "data-value>1<" in tile
    assert "Calls that complied" in html[html.index('id="summary"'):]


def test_the_sla_verdict_tile_shows_the_breaches_it_judges(client, auth, sessions, clock):
    """The tile is coloured by breaches, so it shows the breaches (it showed the requests honoured, in red)."""
    with sessions() as s:
        internal.add_request(s, CLEAN, channel="mail", received_at=clock.now() - timedelta(days=20),
                             recorded_at=clock.now(), added_by="ops", reason="letter")
        s.commit()
    auth.login("compliance")
    html = client.get("/compliance/reports/sla").get_data(as_text=True)
    tile = html[html.index('id="verdict"'):html.index('id="summary"')]
    assert 'class="tile bad"' in html and "Breaches" in tile and "data-value>1<" in tile
    assert html.count("Breaches") == 1 and html.count("Honoured within 10 business days") == 1
