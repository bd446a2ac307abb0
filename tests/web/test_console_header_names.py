"""A campaign, seller or list name reaches a mail's Subject, a download's file name and the words the carrier
speaks: the console's forms refuse one holding a line break or another control character, in words next to the
field, over real HTTP with CSRF (a browser's text box drops line breaks; a crafted request or a paste does not)."""

from __future__ import annotations

from campaigns.campaign.models import Campaign
from campaigns.leads.models import LeadList
from tests.web.test_console_lists import campaign_id, confirm, job_of, upload  # noqa: F401  (fixture)

GOOD = {"name": "Autumn", "caller_id": "(212) 555-4100", "abandon_target": "2.5", "max_attempts": "4",
        "region": "US", "pacing_mode": "predictive", "dedupe_scope": "campaign", "timezone": "America/Chicago"}


def test_the_campaign_form_refuses_a_line_break_in_the_name_or_the_seller_name(client, auth, sessions):
    auth.login("manager")
    r = auth.post("/campaigns/new", GOOD | {"name": "Autumn\r\nBcc: x@evil.example"}, page="/campaigns/new")
    html = r.get_data(as_text=True)
    assert r.status_code == 400
    assert 'id="name-error">Campaign name contains a line break (character 7, U+000D); a name is one line of ' \
           'printable text.' in html, html
    r = auth.post("/campaigns/new", GOOD | {"seller_name": "Acme\x0bSales"}, page="/campaigns/new")
    assert r.status_code == 400
    assert 'id="seller_name-error">Seller name contains a control character (character 5, U+000B)' in \
        r.get_data(as_text=True)
    with sessions() as s:
        assert s.query(Campaign).count() == 0
    assert auth.post("/campaigns/new", GOOD, page="/campaigns/new").status_code == 302
    with sessions() as s:
        c = s.query(Campaign).one()
    r = auth.post(f"/campaigns/{c.id}/edit", GOOD | {"name": "Autumn\nX-Evil: 1"})
    assert r.status_code == 400 and 'id="name-error">Campaign name contains a line break' in r.get_data(as_text=True)
    with sessions() as s:
        assert s.get(Campaign, c.id).name == "Autumn"


def test_the_upload_form_refuses_a_line_break_in_the_list_name(client, auth, campaign_id, sessions):  # noqa: F811
    auth.login("manager")
    job = job_of(upload(client, auth, campaign_id, b"Phone #\n(212) 555-0111\n", json=True))
    r = confirm(client, auth, job, map_first_name="", map_last_name="", map_state="", map_postal_code="",
                list_name="March\r\nBcc: x")
    assert r.status_code == 400
    assert 'id="list_name-error">List name contains a line break (character 6, U+000D)' in r.get_data(as_text=True)
    with sessions() as s:
        assert s.query(LeadList).count() == 0
