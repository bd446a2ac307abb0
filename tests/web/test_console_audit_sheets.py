"""The auditor's pages read like a report, not a database dump: names, a stated zone, reasons in words with their
codes, counts that add up (a lead with several reasons said so), and the same content as CSV and PDF; only the
compliance officer and the administrator may open them."""

from __future__ import annotations

import csv
import html as html_mod
import io
import re
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from campaigns.agents.models import Agent
from campaigns.campaign.service import create_campaign
from campaigns.dispatch.models import Call
from campaigns.leadimport.service import import_leads
from campaigns.leads.models import Lead
from dnc import internal
from dnc.registry import load_full
from dnc.scrub import DncScrubber
from dnc.tables import InternalEntry

LISTED, CLEAN = "+12127364425", "+12127364421"
RANGE = "tz=America/New_York&until=2030-01-09"
PAGES = ("scrubs", "reconcile", "window", "sla", "removals")
# what an auditor must never see: internal column names, Python literals, bare ids
LEAKS = ("e164", "campaign_id", "by_reason", "input_sha256", "hours_to_effective", "False", "True", "None", "['",
         "{'", "agent #", "call:")


@pytest.fixture
def history(sessions, clock, tmp_path, app):
    store = app.extensions["console"].dnc_store
    reg, leads = tmp_path / "212.txt", tmp_path / "leads.csv"
    reg.write_text("2127364425\n")
    leads.write_text(f"First,Last,Phone,State\nAnn,Lee,{LISTED},NY\nBob,Roe,{CLEAN},NY\n")
    now = clock.now()  # Tuesday 2030-01-08 10:00 in New York
    with sessions() as s:
        load_full(s, store, [reg], version_date=date(2030, 1, 5), loaded_by="ops", now=now, area_codes="212")
        cid = create_campaign(s, "Spring", "+12125550100", now).id
        dana = Agent(name="Dana Whitfield", campaign_id=cid, state="offline")
        s.add(dana)
        s.flush()
        internal.add_request(s, LISTED, channel="agent", received_at=now - timedelta(days=1),
                             added_by=f"agent #{dana.id}", reason="asked on the call")
        s.commit()
        dana_id = dana.id
    scrubber = DncScrubber(sessions, campaign=cid, at=now, operator="mia", store=store)
    import_leads(sessions, "Spring", leads, now=now, scrubber=scrubber)  # with its scrub-ledger record
    with sessions() as s:
        ann = s.scalar(select(Lead.id).where(Lead.phone == LISTED))
        call = Call(campaign_id=cid, lead_id=ann, phone=LISTED, placed_at=now + timedelta(hours=12),
                    status="completed", agent_id=dana_id)  # 22:00 in New York, to a listed number, by Dana
        s.add(call)
        s.add(Call(campaign_id=cid, phone=CLEAN, placed_at=now + timedelta(minutes=5), status="completed"))
        s.flush()
        entry = s.scalar(select(InternalEntry).where(InternalEntry.e164 == LISTED))
        entry.source_ref = f"call:{call.id}"  # as an agent's DNC disposition records it
        internal.remove(s, LISTED, removed_by="cara", reason="typed the wrong number", at=now + timedelta(hours=13))
        s.commit()
    return cid


def _visible(html: str) -> str:
    body = html.split('<div class="page-head">', 1)[1]
    body = re.sub(r"<form method=\"get\" class=\"filters\">.*?</form>", "", body, flags=re.S)
    return html_mod.unescape(re.sub(r"<[^>]+>", " ", body))


@pytest.mark.parametrize("name", PAGES)
def test_each_page_reads_like_a_report(client, auth, history, name):
    auth.login("compliance")
    html = client.get(f"/compliance/reports/{name}?tz=America/New_York&until=2030-01-09").get_data(as_text=True)
    text = _visible(html)
    for leak in LEAKS:
        assert leak not in text, f"{name}: {leak!r} shown"
    assert "times in America/New_York" in text
    if name != "scrubs":
        assert "EST" in text
    assert 'media="print"' in html or "audit.css" in html  # the print stylesheet


def test_reconciliation_names_campaign_agent_reasons_and_local_time(client, auth, history):
    auth.login("compliance")
    text = _visible(client.get(f"/compliance/reports/reconcile?{RANGE}").get_data(as_text=True))
    assert "Spring" in text and "Dana Whitfield" in text and "Ann Lee" in text
    assert "On the National DNC Registry" in text and "national_dnc" in text
    assert "Outside the calling hours" in text and "outside_window" in text
    assert "On the internal do-not-call list" in text and "internal_dnc" in text
    assert "Tue 22:00 EST America/New_York" in text and "2030-01-08 22:00:00 EST" in text
    assert "broke more than one rule" in text  # the call is counted under each of its three rules
    window = _visible(client.get(f"/compliance/reports/window?{RANGE}").get_data(as_text=True))
    assert "Outside the calling hours" in window and "national_dnc" not in window


def test_sla_and_ledger_say_who_and_why(client, auth, history):
    auth.login("compliance")
    sla = _visible(client.get("/compliance/reports/sla").get_data(as_text=True))
    assert "Dana Whitfield" in sla and "agent's disposition" in sla and "every campaign" in sla
    ledger = html_mod.unescape(client.get("/compliance/reports/scrubs").get_data(as_text=True))
    assert "Lead list" in ledger and "Spring" in ledger and "National registry" in ledger
    # the listed lead is suppressed for two reasons: the counts say so instead of silently adding up to 2 of 1
    assert "On the internal do-not-call list (internal_dnc): 1" in ledger
    assert "2 reasons over 1 lead:" in ledger and 'class="hash-short"' in ledger
    removals = _visible(client.get("/compliance/reports/removals?until=2030-01-09").get_data(as_text=True))
    assert "typed the wrong number" in removals and "cara" in removals


@pytest.mark.parametrize("name", PAGES)
def test_csv_and_pdf_of_each_page(client, auth, history, name):
    auth.login("compliance")
    r = client.get(f"/compliance/reports/{name}.csv?tz=America/New_York&until=2030-01-09")
    assert r.status_code == 200 and r.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(r.get_data(as_text=True).lstrip("\ufeff"))))
    table = rows[:rows.index([])]
    assert all(len(row) == len(table[0]) for row in table) and len(table) >= 2
    flat = " ".join(" ".join(row) for row in rows)
    for leak in LEAKS:
        assert leak not in flat, f"{name}.csv: {leak!r}"
    if name == "scrubs":
        assert any(len(cell) == 64 for row in table for cell in row)  # the whole hash in the export
    p = client.get(f"/compliance/reports/{name}.pdf?tz=America/New_York&until=2030-01-09")
    assert p.status_code == 200 and p.mimetype == "application/pdf" and p.data.startswith(b"%PDF-")
    assert b"attachment" in p.headers["Content-Disposition"].encode() and p.data.count(b"/Type /Page") >= 1


@pytest.mark.parametrize("role", ["manager", "sales", "agent"])
def test_other_roles_are_refused(client, auth, role):
    auth.login(role)
    for path in ("/compliance/reports/reconcile", "/compliance/reports/reconcile.csv",
                 "/compliance/reports/reconcile.pdf", "/compliance/reports/scrubs.pdf"):
        assert client.get(path).status_code == 403, (role, path)


def test_admin_may_download(client, auth, history):
    auth.login("admin")
    assert client.get("/compliance/reports/sla.pdf").status_code == 200
