"""The Lists page (enable/disable, the mix, a reset counted and confirmed) and the lead pages (search, history,
edit, DNC) over real HTTP forms with CSRF: who may do what, refusals under their field, every change recorded."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from campaigns.campaign.history import changes
from campaigns.campaign.service import create_campaign
from campaigns.leads.models import Lead, LeadList
from dnc import internal


@pytest.fixture
def floor(sessions, clock, seed_users):
    now = clock.now()
    with sessions() as s:
        c = create_campaign(s, "Spring", "+12125554100", now)
        lists = [LeadList(campaign_id=c.id, name=n, sha256=n[0] * 64, uploaded_at=now) for n in ("april", "may")]
        s.add_all(lists)
        s.flush()

        def add(lst, phone, first, last, **kw):
            lead = Lead(campaign_id=c.id, list_id=lst.id, phone=phone, first_name=first, last_name=last,
                        timezones="America/New_York", custom={"plan": "gold"}, created_at=now - timedelta(days=1),
                        updated_at=now, **kw)
            s.add(lead)
            return lead

        ada = add(lists[0], "+12125551234", "Ada", "Lovelace", state="NY", postal_code="10001")
        alan = add(lists[0], "+13055551235", "Alan", "Turing", status="exhausted", attempts=5, last_outcome="busy")
        add(lists[0], "+13055551236", "Joan", "Clarke", status="closed", last_outcome="SALE")
        for i in range(30):
            add(lists[1], f"+1718555{3000 + i}", "Many", f"Person{i}")
        s.commit()
        return {"campaign": c.id, "april": lists[0].id, "may": lists[1].id, "ada": ada.id, "alan": alan.id}


def test_enable_disable_and_mix_are_saved_and_recorded(client, auth, floor, sessions):
    auth.login("manager")
    page = f"/campaigns/{floor['campaign']}/lists/"
    html = client.get(page).get_data(as_text=True)
    assert "april" in html and "may" in html and "No preference" in html
    r = auth.post(f"{page}{floor['april']}/enabled", {"enabled": "0"}, page=page, follow_redirects=True)
    assert "List april disabled" in r.get_data(as_text=True)
    r = auth.post(f"{page}mix", {"mode": "weights", f"value-{floor['april']}": "60",
                                 f"value-{floor['may']}": "forty"}, page=page)
    assert r.status_code == 400 and "give may&#39;s weight as a whole number" in r.get_data(as_text=True)
    r = auth.post(f"{page}mix", {"mode": "weights", f"value-{floor['april']}": "60", f"value-{floor['may']}": "40"},
                  page=page, follow_redirects=True)
    html = r.get_data(as_text=True)
    assert "List mix saved" in html and "100.0 %" in html  # april is disabled: may gets every dial
    with sessions() as s:
        lst = s.get(LeadList, floor["april"])
        assert (lst.active, lst.mix_weight) == (False, 60)
        fields = [(h.subject, h.field, h.old, h.new, h.by) for h in changes(s, floor["campaign"])]
    assert (f"list:{floor['april']}", "enabled", "yes", "no", "manager-user") in fields
    assert (f"list:{floor['may']}", "list mix", "no preference", "weight 40", "manager-user") in fields
    assert "weight 40" in client.get(page).get_data(as_text=True)  # the history at the foot of the page
    detail = client.get(f"/campaigns/{floor['campaign']}").get_data(as_text=True)
    assert '<span class="badge offline">disabled</span>' in detail and '<span class="badge">weight 40</span>' in detail


def test_a_reset_is_counted_then_confirmed_and_a_stale_count_is_refused(client, auth, floor, sessions):
    auth.login("manager")
    path = f"/campaigns/{floor['campaign']}/lists/{floor['april']}/reset"
    html = client.get(path).get_data(as_text=True)
    assert "Ran out of attempts (1)" in html and "Closed (sold)" in html
    r = auth.post(path, {"step": "review", "choice": "exhausted"})
    html = r.get_data(as_text=True)
    assert r.status_code == 200 and re.search(r"Reset <strong>1</strong> lead of april", html)
    with sessions() as s:
        assert s.get(Lead, floor["alan"]).status == "exhausted"  # nothing changes before the confirmation
    r = auth.post(path, {"step": "confirm", "choice": "exhausted", "expected": "2"}, page=path)
    assert r.status_code == 400 and "1 leads would be reset now, not 2" in r.get_data(as_text=True)
    r = auth.post(path, {"step": "confirm", "choice": "exhausted", "expected": "1"}, page=path, follow_redirects=True)
    assert "1 leads of april are back in the queue" in r.get_data(as_text=True)
    with sessions() as s:
        lead = s.get(Lead, floor["alan"])
        assert (lead.status, lead.attempts) == ("retry", 0)
    r = auth.post(path, {"step": "review", "choice": "closed"}, page=path)
    assert r.status_code == 400 and "not &#39;closed&#39;" in r.get_data(as_text=True)


def test_search_by_number_in_any_format_name_status_and_pages(client, auth, floor):
    auth.login("manager")
    for q in ("(212) 555-1234", "+1 212.555.1234", "212-555-1234"):
        html = client.get("/leads/", query_string={"q": q}).get_data(as_text=True)
        assert "1 lead with the number" in html and f'href="/leads/{floor["ada"]}"' in html
    html = client.get("/leads/", query_string={"q": "many", "campaign": floor["campaign"]}).get_data(as_text=True)
    assert "30 leads" in html and "page 1 of 2" in html and 'rel="next"' in html
    html = client.get("/leads/", query_string={"q": "many", "campaign": floor["campaign"], "page": 2}).get_data(
        as_text=True)
    assert len(re.findall(r'href="/leads/\d+"', html)) == 5 and 'rel="prev"' in html
    html = client.get("/leads/", query_string={"status": "exhausted", "campaign": floor["campaign"],
                                               "list": floor["april"]}).get_data(as_text=True)
    assert "1 lead" in html and "Turing" in html


def test_edit_validates_records_and_only_managers_edit(client, auth, floor, sessions):
    auth.login("manager")
    path = f"/leads/{floor['ada']}"
    form = {"first_name": "Augusta", "last_name": "Lovelace", "state": "XX", "postal_code": "10001",
            "custom-plan": "gold"}
    r = auth.post(f"{path}/edit", form, page=path)
    html = r.get_data(as_text=True)
    assert r.status_code == 400 and 'id="state-error">State: give a two-letter state code' in html
    r = auth.post(f"{path}/edit", {**form, "state": "california", "postal_code": "90210", "custom-plan": "silver"},
                  page=path, follow_redirects=True)
    html = r.get_data(as_text=True)
    assert "Saved first name, state, zip code, plan." in html
    assert "<td>State</td><td>NY</td><td>CA</td>" in html and "America/Los_Angeles" in html
    with sessions() as s:
        assert s.get(Lead, floor["ada"]).custom == {"plan": "silver"}
    r = client.post(f"{path}/edit", data={**form, "state": "NY"})
    assert r.status_code == 400  # no CSRF token: refused
    auth.logout()
    auth.login("compliance")
    html = client.get(path).get_data(as_text=True)
    assert "Augusta" in html and 'id="edit-form"' not in html and 'id="dnc-form"' in html
    assert auth.post(f"{path}/edit", form, page=path).status_code == 403


def test_mark_dnc_from_the_lead_page(client, auth, floor, sessions, clock):
    auth.login("compliance")
    path = f"/leads/{floor['alan']}"
    r = auth.post(f"{path}/dnc", {"channel": "mail", "scope": "company", "reason": ""}, page=path)
    assert r.status_code == 400 and "Say what the person asked" in r.get_data(as_text=True)
    r = auth.post(f"{path}/dnc", {"channel": "mail", "scope": "company", "reason": "letter of 3 Jan"}, page=path,
                  follow_redirects=True)
    html = r.get_data(as_text=True)
    assert "+13055551235: added to the internal DNC list" in html and 'id="is-dnc"' in html
    assert "Added to the internal DNC list" in html  # the ledger record in the lead's history
    with sessions() as s:
        assert s.get(Lead, floor["alan"]).status == "dnc"
        assert internal.active(s, "+13055551235", None, clock.now())[0].added_by == "compliance-user"


@pytest.mark.parametrize("role", ["agent", "sales"])
def test_other_roles_are_refused(client, auth, floor, role):
    auth.login(role)
    assert client.get("/leads/", query_string={"q": "ada"}).status_code == 403
    assert client.get(f"/leads/{floor['ada']}").status_code == 403
    assert client.get(f"/campaigns/{floor['campaign']}/lists/").status_code == 403
    assert auth.post(f"/leads/{floor['ada']}/dnc", {"channel": "phone", "reason": "x"}, page="/account/password") \
        .status_code == 403
