"""List upload through the console: mapping preview and edits, errors next to fields, repeats, size limit,
the receipt, and formula-safe rejected-row downloads (CSV injection)."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pytest

from campaigns.campaign.models import Campaign
from campaigns.campaign.service import create_campaign
from campaigns.leads.models import Lead, LeadList
from dnc.internal import add_request

MESSY = Path(__file__).parent / "data" / "messy-leads.csv"


@pytest.fixture
def campaign_id(sessions, clock):
    with sessions() as s:
        c = create_campaign(s, "Spring", "+12125554100", clock.now())
        add_request(s, "+13053581200", channel="phone", received_at=clock.now(), added_by="compliance-user",
                    reason="asked")
        s.commit()
        return c.id


def upload(client, auth, campaign_id, content: bytes, name: str = "leads.csv", json: bool = False):
    token = auth.token(f"/campaigns/{campaign_id}/upload")
    headers = {"Accept": "application/json"} if json else {}
    return client.post(f"/campaigns/{campaign_id}/upload", headers=headers, content_type="multipart/form-data",
                       data={"csrf_token": token, "file": (io.BytesIO(content), name)})


def job_of(response) -> str:
    location = response.get_json()["next"] if response.is_json else response.headers["Location"]
    return re.fullmatch(r"/uploads/([0-9a-f]{32})", location).group(1)


def confirm(client, auth, job: str, **fields):
    data = {"map_phone": "Phone #", "map_first_name": "First", "map_last_name": "Last", "map_state": "ST",
            "map_postal_code": "Zip", "map_name": "", "list_name": "March"} | fields
    return auth.post(f"/uploads/{job}", data)


def test_upload_preview_import_receipt_and_rejects(client, auth, campaign_id, sessions):
    auth.login("manager")
    r = upload(client, auth, campaign_id, MESSY.read_bytes(), "messy-leads.csv", json=True)
    assert r.status_code == 200
    job = job_of(r)
    page = client.get(f"/uploads/{job}").get_data(as_text=True)
    assert '<option selected value="Phone #">' in page and '<option selected value="Zip">' in page
    assert "(212) 736-4421" in page  # the first rows are shown
    r = confirm(client, auth, job)
    assert r.status_code == 303 and r.headers["Location"] == f"/uploads/{job}/progress"
    status = client.get(f"/uploads/{job}/status").get_json()
    assert status["state"] == "done"
    res = status["result"]
    assert (res["rows"], res["accepted"], res["duplicates"], res["rejected"], res["suppressed"]) == (13, 6, 2, 4, 1)
    assert res["suppressed_by"] == {"internal_dnc": 1, "autodialer_no_consent": 1}
    page = client.get(status["list_url"]).get_data(as_text=True)
    assert "13 rows = 6 accepted + 2 duplicates + 4 rejected + 1 suppressed" in page
    assert "phone number is empty" in page and "On the internal do-not-call list" in page
    with sessions() as s:
        lst = s.query(LeadList).filter_by(name="March").one()
        assert lst.uploaded_by == "manager-user" and lst.source_filename == "messy-leads.csv"
        assert s.query(Lead).filter_by(list_id=lst.id).count() == 7
    r = client.get(status["list_url"] + "/rejects.csv")
    assert r.status_code == 200 and r.headers["Content-Disposition"] == 'attachment; filename="March-rejected.csv"'
    rows = list(csv.reader(io.StringIO(r.get_data(as_text=True).lstrip("\ufeff"))))
    assert [row[0] for row in rows[1:]] == ["Finn", "Gus", "Hana", "Ivan"]
    r = client.get(status["list_url"] + "/rejects.csv?duplicates=1")
    assert [row[0] for row in csv.reader(io.StringIO(r.get_data(as_text=True)))][1:] == \
        ["Eve", "Finn", "Gus", "Hana", "Ivan", "Mo"]


def test_rejected_rows_download_defuses_formulas(client, auth, campaign_id):
    """CSV injection: a cell that starts with = + - @ (or a tab) reaches the spreadsheet as text, not a formula."""
    evil = (b"Phone,Name,Note\n"
            b"=1+1,=cmd|' /C calc'!A0,+SUM(A1)\n"
            b"-2,@SUM(1+1),\tTAB\n"
            b"n/a,ok,=HYPERLINK(\"http://evil.example\")\n"
            b"2127364421,a lead,fine\n")  # one good row: a file of rejected rows alone stores nothing
    auth.login("manager")
    job = job_of(upload(client, auth, campaign_id, evil, "evil.csv"))
    r = auth.post(f"/uploads/{job}", {"map_phone": "Phone", "map_name": "Name", "list_name": "evil"})
    assert r.status_code == 303
    lst_url = client.get(f"/uploads/{job}/status").get_json()["list_url"]
    text = client.get(lst_url + "/rejects.csv").get_data(as_text=True).lstrip("\ufeff")
    rows = list(csv.reader(io.StringIO(text)))
    assert len(rows) == 4
    for row in rows[1:]:
        for cell in row:
            assert not cell or cell[0] not in "=+-@\t\r", row
    assert rows[1][:3] == ["'=1+1", "'=cmd|' /C calc'!A0", "'+SUM(A1)"]
    assert rows[3][2] == "'=HYPERLINK(\"http://evil.example\")"


def test_mapping_errors_sit_next_to_their_fields(client, auth, campaign_id):
    auth.login("manager")
    job = job_of(upload(client, auth, campaign_id, MESSY.read_bytes()))
    r = confirm(client, auth, job, map_phone="", map_last_name="First")
    html = r.get_data(as_text=True)
    assert r.status_code == 400
    assert 'id="map_phone-error">Choose the column that holds the phone numbers.' in html
    assert 'id="map_last_name-error">Column “First” already feeds First name.' in html
    r = confirm(client, auth, job, map_name="Notes")
    assert 'id="map_name-error">Use a full-name column or first/last name columns, not both.' in r.get_data(
        as_text=True)


def test_a_changed_mapping_is_what_the_import_uses(client, auth, campaign_id, sessions):
    """A headerless file: the user names the phone column by its number; another column becomes the state."""
    data = b"Ann,2127364421,NY\nBob,4153927700,CA\n"
    auth.login("manager")
    job = job_of(upload(client, auth, campaign_id, data, "vendor.txt"))
    page = client.get(f"/uploads/{job}").get_data(as_text=True)
    assert "no header line" in page and "column_2" in page
    r = auth.post(f"/uploads/{job}", {"map_phone": "column_2", "map_first_name": "column_1",
                                      "map_state": "column_3", "list_name": "vendor"})
    assert r.status_code == 303
    with sessions() as s:
        leads = s.query(Lead).order_by(Lead.line).all()
        assert [(x.first_name, x.phone, x.state) for x in leads] == [("Ann", "+12127364421", "NY"),
                                                                     ("Bob", "+14153927700", "CA")]


def test_a_file_without_a_phone_column_asks_for_one(client, auth, campaign_id):
    auth.login("manager")
    job = job_of(upload(client, auth, campaign_id, b"Name,Where\nAnn,NY\nBob,CA\n"))
    page = client.get(f"/uploads/{job}").get_data(as_text=True)
    assert "no phone column" in page and "Choose the phone column below" in page


def test_unreadable_and_empty_files_say_why(client, auth, campaign_id):
    auth.login("manager")
    r = upload(client, auth, campaign_id, b"", "empty.csv", json=True)
    assert r.status_code == 400 and "empty" in r.get_json()["error"]
    job = job_of(upload(client, auth, campaign_id, b"\x00\x01\x02binary\x00\xff" * 50, "x.csv"))
    r = client.get(f"/uploads/{job}")
    assert r.status_code == 400 and "cannot be imported" in r.get_data(as_text=True)
    r = auth.post(f"/campaigns/{campaign_id}/upload", {})
    assert r.status_code == 400 and 'id="file-error">Choose a file to upload.' in r.get_data(as_text=True)


def test_the_same_file_twice_needs_a_tick(client, auth, campaign_id):
    auth.login("manager")
    job = job_of(upload(client, auth, campaign_id, MESSY.read_bytes()))
    assert confirm(client, auth, job).status_code == 303
    job2 = job_of(upload(client, auth, campaign_id, MESSY.read_bytes()))
    r = confirm(client, auth, job2, list_name="again")
    assert r.status_code == 303
    r = client.get(f"/uploads/{job2}/progress")
    assert r.status_code == 302 and r.headers["Location"] == f"/uploads/{job2}"
    page = client.get(f"/uploads/{job2}").get_data(as_text=True)
    assert "already imported" in page and "Import it again although" in page
    r = confirm(client, auth, job2, list_name="again", force="y")
    assert r.status_code == 303  # imported again: every number is already in the campaign, so nothing is stored
    status = client.get(f"/uploads/{job2}/status").get_json()
    assert status["state"] == "failed" and "0 leads imported: 9 of the 13 rows were duplicates of leads already " \
        "in list 'March' and 4 of the 13 rows were rejected" in status["error"]


def test_upload_size_limit(client, auth, campaign_id, app):
    app.config["MAX_CONTENT_LENGTH"] = 1024
    auth.login("manager")
    r = upload(client, auth, campaign_id, b"Phone\n" + b"2127364421\n" * 200, json=True)
    assert r.status_code == 413 and "limit" in r.get_json()["error"]
    r = upload(client, auth, campaign_id, b"Phone\n" + b"2127364421\n" * 200)
    assert r.status_code == 413 and "File too large" in r.get_data(as_text=True)


def test_discard_removes_the_upload(client, auth, campaign_id, app):
    auth.login("manager")
    job = job_of(upload(client, auth, campaign_id, MESSY.read_bytes()))
    r = auth.post(f"/uploads/{job}/discard", page=f"/uploads/{job}")
    assert r.status_code == 302
    assert client.get(f"/uploads/{job}").status_code == 404
    assert not (Path(app.config["UPLOAD_DIR"]) / job).exists()


def test_campaign_create_edit_and_status(client, auth, sessions):
    auth.login("manager")
    r = auth.post("/campaigns/new", {"name": "", "caller_id": "12", "abandon_target": "5", "max_attempts": "0",
                                     "region": "USA", "pacing_mode": "predictive", "dedupe_scope": "campaign",
                                     "timezone": "America/New_York"})
    html = r.get_data(as_text=True)
    assert r.status_code == 400
    assert 'id="name-error">Give the campaign a name.' in html
    assert 'id="abandon_target-error">Between 0.01 % and the legal cap of 3 %.' in html
    assert 'id="max_attempts-error">Between 1 and 100.' in html and 'id="region-error">Two letters' in html
    good = {"name": "Autumn", "caller_id": "(212) 555-4100", "abandon_target": "2.5", "max_attempts": "4",
            "region": "US", "pacing_mode": "predictive", "dedupe_scope": "campaign", "timezone": "America/Chicago"}
    r = auth.post("/campaigns/new", good | {"caller_id": "12"})
    assert 'id="caller_id-error">Caller ID' in r.get_data(as_text=True)
    r = auth.post("/campaigns/new", good | {"callback_number": "999"})
    assert 'id="callback_number-error">Callback number' in r.get_data(as_text=True)
    r = auth.post("/campaigns/new", good)
    assert r.status_code == 302
    with sessions() as s:
        c = s.query(Campaign).filter_by(name="Autumn").one()
        assert (c.caller_id, c.abandon_target, c.max_attempts, c.timezone) == ("+12125554100", 0.025, 4,
                                                                               "America/Chicago")
    r = auth.post("/campaigns/new", good)
    assert "already exists" in r.get_data(as_text=True)
    r = auth.post(f"/campaigns/{c.id}/edit", good | {"name": "Autumn 2030", "pacing_mode": "progressive"})
    assert r.status_code == 302
    for status, expect in (("active", "active"), ("paused", "paused"), ("finished", "finished")):
        r = auth.post(f"/campaigns/{c.id}/status", {"status": status}, page=f"/campaigns/{c.id}")
        assert r.status_code == 302
        with sessions() as s:
            assert s.get(Campaign, c.id).status == expect
    r = auth.post(f"/campaigns/{c.id}/status", {"status": "active"}, page=f"/campaigns/{c.id}", follow_redirects=True)
    assert "it cannot become active" in r.get_data(as_text=True)
    with sessions() as s:
        assert s.get(Campaign, c.id).name == "Autumn 2030" and s.get(Campaign, c.id).pacing_mode == "progressive"


def test_manager_writes_the_call_script(client, auth, campaign_id, sessions):
    from campaigns.campaign.scripts import get_script, render_script

    auth.login("manager")
    r = auth.post(f"/campaigns/{campaign_id}/script", {"text": "Hi {first_name}, {agent} for {seller}.\r\n{Company}?"})
    assert r.status_code == 302
    with sessions() as s:
        text = get_script(s, campaign_id)
    assert text == "Hi {first_name}, {agent} for {seller}.\n{Company}?"
    assert render_script(text, {"first_name": "Ann", "agent": "Bo", "seller": "Acme"}, {"company": "Initech"}) == \
        "Hi Ann, Bo for Acme.\nInitech?"
    assert render_script("{nope} {first_name}", {"first_name": ""}) == "{nope} "
    assert "Hi {first_name}" in client.get(f"/campaigns/{campaign_id}").get_data(as_text=True)
    r = auth.post(f"/campaigns/{campaign_id}/script", {"text": "x" * 20_001})
    assert r.status_code == 400 and 'id="text-error">At most 20,000 characters.' in r.get_data(as_text=True)


def test_manager_adds_a_campaign_disposition_and_flags_must_agree(client, auth, campaign_id, sessions):
    from campaigns.campaign.dispositions import list_dispositions

    auth.login("manager")
    page = f"/campaigns/{campaign_id}/dispositions"
    r = auth.post(page, {"code": "appt", "label": "Appointment set", "is_contact": "y", "is_close": "y"})
    assert r.status_code == 400 and "A close ends the lead: it must also be final." in r.get_data(as_text=True)
    r = auth.post(page, {"code": "bad code", "label": "x", "is_contact": "y"})
    assert 'id="code-error">Code must be 1-32 capital letters' in r.get_data(as_text=True)
    r = auth.post(page, {"code": "appt", "label": "Appointment set", "is_contact": "y", "is_close": "y",
                         "is_final": "y", "is_completed": "y"})
    assert r.status_code == 302
    r = auth.post(page, {"code": "APPT", "label": "again", "is_contact": "y"})
    assert 'id="code-error">Code APPT is already a disposition' in r.get_data(as_text=True)
    r = auth.post(f"{page}/APPT", {"label": "Appointment booked", "is_contact": "y", "is_close": "y",
                                   "is_final": "y"})
    assert r.status_code == 302
    with sessions() as s:
        appt = next(d for d in list_dispositions(s, campaign_id) if d.code == "APPT")
        assert (appt.label, appt.is_close, appt.is_final, appt.is_completed) == ("Appointment booked", True, True,
                                                                                  False)
    r = auth.post(f"{page}/APPT", {"label": "x", "is_callback": "y", "is_final": "y"})
    assert "A callback keeps the lead open" in r.get_data(as_text=True)
    assert client.get(f"{page}/NOPE").status_code == 404


def test_stale_unconfirmed_uploads_are_swept_by_file_age(client, auth, campaign_id, app):
    import os
    import time

    auth.login("manager")
    old = job_of(upload(client, auth, campaign_id, MESSY.read_bytes()))
    fresh = job_of(upload(client, auth, campaign_id, MESSY.read_bytes()))
    root = Path(app.config["UPLOAD_DIR"])
    day_ago = time.time() - 25 * 3600
    os.utime(root / old, (day_ago, day_ago))
    upload(client, auth, campaign_id, MESSY.read_bytes())
    assert not (root / old).exists() and (root / fresh).exists()


def test_a_receipts_suppression_sources_say_a_lead_counts_under_each_of_its_reasons(client, auth, sessions, clock):
    """One row suppressed for two reasons (on the registry, and a mobile without consent): the receipt said
    "Suppressed 1" and listed 1 + 1 by source with nothing to say why they add up to 2 (found uploading a small list
    on the demo)."""
    from dnc.reasons import stored

    now = clock.now()
    with sessions() as s:
        c = create_campaign(s, "Spring", "+12125554100", now)
        lst = LeadList(campaign_id=c.id, name="small", sha256="5" * 64, uploaded_at=now, rows=3, accepted=2,
                       suppressed=1)
        s.add(lst)
        s.flush()
        for i, reasons in enumerate((None, None, stored(["national_dnc", "autodialer_no_consent"]))):
            s.add(Lead(campaign_id=c.id, list_id=lst.id, phone=f"+1212736{4400 + i}", created_at=now, updated_at=now,
                       status="suppressed" if reasons else "new", suppression=reasons))
        s.commit()
        list_id = lst.id
    auth.login("manager")
    html = client.get(f"/lists/{list_id}").get_data(as_text=True)
    assert "On the National DNC Registry" in html
    assert "1 suppressed lead was held back by more than one rule: it is counted under each" in html
