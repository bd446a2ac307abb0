"""Suppressed leads for the manager and the compliance officer (page and CSV), and consent records and suppression
lists loaded from the console: consent makes a lead suppressed for lack of it dialable."""

from __future__ import annotations

import csv
import io
from datetime import date

import pytest
from sqlalchemy import select

from campaigns.campaign.service import create_campaign
from campaigns.leadimport.service import import_leads
from campaigns.leads.models import Lead
from dnc import internal
from dnc.registry import load_full
from dnc.scrub import DncScrubber
from dnc.tables import ListLoad

LISTED, BOTH = "+12127364425", "+12127364426"


@pytest.fixture
def suppressed(sessions, clock, tmp_path, app):
    store = app.extensions["console"].dnc_store
    reg, leads = tmp_path / "212.txt", tmp_path / "leads.csv"
    reg.write_text("2127364425\n2127364426\n")
    leads.write_text(f"First,Last,Phone,State\nAnn,Lee,{LISTED},NY\nBea,Cho,{BOTH},NY\nDee,Fox,+12127364421,NY\n")
    with sessions.begin() as s:
        load_full(s, store, [reg], version_date=date(2030, 1, 5), loaded_by="ops", now=clock.now(), area_codes="212")
        cid = create_campaign(s, "Spring", "+12125550100", clock.now()).id
        internal.add_request(s, BOTH, channel="web", received_at=clock.now(), added_by="web")
    import_leads(sessions, "Spring", leads, now=clock.now(),
                 scrubber=DncScrubber(sessions, campaign=cid, at=clock.now(), operator="mia", store=store))


@pytest.mark.parametrize("role", ["manager", "compliance", "admin"])
def test_suppressed_leads_with_their_reasons(client, auth, suppressed, role):
    auth.login(role)
    html = client.get("/compliance/suppressed?campaign=Spring").get_data(as_text=True)
    assert "Ann Lee" in html and "Bea Cho" in html and "Dee Fox" not in html
    assert "On the National DNC Registry" in html and "national_dnc" in html and "internal_dnc" in html
    assert "<dt>Suppressed leads</dt><dd>2</dd>" in html and "1 lead has several reasons" in html
    rows = list(csv.reader(io.StringIO(client.get("/compliance/suppressed.csv?campaign=Spring")
                                       .get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[0][:2] == ["Lead", "Number"] and {r[0] for r in rows[1:3]} == {"Ann Lee", "Bea Cho"}
    assert ["Suppressed leads", "2"] in rows


@pytest.mark.parametrize("role", ["sales", "agent"])
def test_others_may_not_see_suppressed_leads(client, auth, role):
    auth.login(role)
    assert client.get("/compliance/suppressed").status_code == 403
    assert client.get("/compliance/suppressed.csv").status_code == 403


def test_manager_may_not_load_consent(client, auth):
    auth.login("manager")
    assert client.get("/compliance/load").status_code == 403


def test_consent_loaded_in_the_console_makes_the_lead_dialable(client, auth, suppressed, sessions, clock):
    auth.login("compliance")
    assert client.get("/compliance/load").status_code == 200
    data = f"number,kind,granted_at,evidence_ref\n{LISTED},pewc,{clock.now().isoformat()},web form 12\n" \
           f"{BOTH},pewc,{clock.now().isoformat()},web form 13\n"
    r = auth.post("/compliance/load/consents", {"file": (io.BytesIO(data.encode()), "consent.csv")},
                  page="/compliance/load", content_type="multipart/form-data")
    assert r.status_code == 302
    html = client.get("/compliance/load").get_data(as_text=True)
    assert "2 consent records recorded. 1 suppressed lead became dialable, 1 kept other reasons" in html
    with sessions() as s:
        assert s.scalar(select(Lead.status).where(Lead.phone == LISTED)) == "new"
        assert s.scalar(select(Lead.suppression).where(Lead.phone == BOTH)).startswith("internal_dnc: on the ")
    bad = auth.post("/compliance/load/consents", {"file": (io.BytesIO(b"+12127364421,maybe,x,y\n"), "bad.csv")},
                    page="/compliance/load", content_type="multipart/form-data")
    assert bad.status_code == 400 and "line 1" in bad.get_data(as_text=True)


def test_a_suppression_list_loaded_in_the_console(client, auth, sessions):
    auth.login("compliance")
    r = auth.post("/compliance/load/list", {"source": "litigator", "version": "2030-01-07", "vendor": "acme",
                                            "file": (io.BytesIO(b"2127364499,plaintiff\n"), "lit.txt")},
                  page="/compliance/load", content_type="multipart/form-data")
    assert r.status_code == 302
    assert "Litigator list of 2030-01-07: 1 entries in force" in client.get("/compliance/load").get_data(as_text=True)
    with sessions() as s:
        ld = s.scalar(select(ListLoad).where(ListLoad.source == "litigator"))
        assert ld.loaded_by == "compliance-user" and ld.count == 1
    r = auth.post("/compliance/load/list", {"source": "state", "version": "2030-01-07",
                                            "file": (io.BytesIO(b"2127364499\n"), "st.txt")},
                  page="/compliance/load", content_type="multipart/form-data")
    assert r.status_code == 400 and "needs a two-letter state" in r.get_data(as_text=True)


def test_reassigned_numbers_data_loaded_in_the_console(client, auth, sessions):
    auth.login("compliance")
    page = client.get("/compliance/").get_data(as_text=True)
    assert "No Reassigned Numbers Database data are loaded" in page and "rnd_stale" in page
    bad = auth.post("/compliance/load/rnd", {"version": "2030-01-07",
                                             "file": (io.BytesIO(b"2127364499,2029-06-01\n2127364498,June\n"),
                                                      "rnd.csv")},
                    page="/compliance/load", content_type="multipart/form-data")
    text = bad.get_data(as_text=True)
    assert bad.status_code == 400 and "rnd.csv" in text and "line 2" in text and "column 2 (disconnected_on)" in text
    with sessions() as s:
        assert s.scalar(select(ListLoad).where(ListLoad.source == "rnd")) is None  # nothing half-loaded
    r = auth.post("/compliance/load/rnd", {"version": "2030-01-07", "vendor": "reassigned.us",
                                           "file": (io.BytesIO(b"number,disconnected_on\n2127364499,2029-06-01\n"),
                                                    "rnd.csv")},
                  page="/compliance/load", content_type="multipart/form-data")
    assert r.status_code == 302
    assert "Reassigned Numbers Database data of 2030-01-07: 1 numbers" in client.get("/compliance/load") \
        .get_data(as_text=True)
    with sessions() as s:
        ld = s.scalar(select(ListLoad).where(ListLoad.source == "rnd"))
        assert (ld.loaded_by, ld.mode, ld.count, ld.vendor) == ("compliance-user", "full", 1, "reassigned.us")
    page = client.get("/compliance/").get_data(as_text=True)
    assert "2030-01-07" in page and "No Reassigned Numbers Database data are loaded" not in page
