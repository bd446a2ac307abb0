"""Starting a campaign that cannot dial says why at once: a manager who starts one with no lead left to call
(no list yet, every list disabled, every lead finished) saw only "is active" and a floor that never dialed."""

from __future__ import annotations

import pytest
from sqlalchemy import update

from campaigns.campaign.service import create_campaign
from campaigns.leadimport.service import import_leads
from campaigns.leads.models import LeadList


@pytest.fixture
def spring(sessions, clock):
    with sessions() as s:
        cid = create_campaign(s, "Spring", "+12125554100", clock.now()).id
        s.commit()
    return cid


def _start(client, auth, cid: int) -> str:
    auth.login("manager")
    r = auth.post(f"/campaigns/{cid}/status", {"status": "active"}, page=f"/campaigns/{cid}")
    assert r.status_code == 302
    return client.get(r.headers["Location"]).get_data(as_text=True)


def test_starting_a_campaign_without_leads_says_it_has_nothing_to_call(client, auth, spring):
    page = _start(client, auth, spring)
    assert "Campaign Spring is active." in page
    assert "It has no lead left to call" in page


def test_starting_a_campaign_whose_lists_are_disabled_says_so(client, auth, spring, sessions, clock, tmp_path):
    leads = tmp_path / "leads.csv"
    leads.write_text("Name,Phone\nAnn,(212) 736-4421\n")
    import_leads(sessions, "Spring", leads, now=clock.now())
    with sessions() as s:
        s.execute(update(LeadList).where(LeadList.campaign_id == spring).values(active=False))
        s.commit()
    assert "It has no lead left to call" in _start(client, auth, spring)


def test_starting_a_campaign_with_leads_to_call_warns_of_nothing(client, auth, spring, sessions, clock, tmp_path):
    leads = tmp_path / "leads.csv"
    leads.write_text("Name,Phone\nAnn,(212) 736-4421\n")
    import_leads(sessions, "Spring", leads, now=clock.now())
    page = _start(client, auth, spring)
    assert "Campaign Spring is active." in page and "no lead left to call" not in page
