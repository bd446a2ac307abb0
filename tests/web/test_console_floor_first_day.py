"""A campaign's floor before its first call, as a manager sees it on the first day (found walking the demo): a new
campaign said "Abandon alert level: not checked", "the campaign is draft", asked to "start it to dial the 0 leads"
and said the dialer had not published a decision, when what the manager needs is: no calls yet, start it, and
upload a list first."""

from __future__ import annotations

from datetime import timedelta

import pytest

from campaigns.campaign.service import create_campaign


@pytest.fixture
def draft(sessions, clock) -> int:
    with sessions() as s:
        c = create_campaign(s, "Spring", "+12125550100", clock.now() - timedelta(minutes=5))
        s.commit()
        return c.id


def _tile(html: str, key: str) -> str:
    return html.split(f'data-k="{key}"')[1].split("</div></div>")[0]


def test_a_new_campaign_has_no_calls_yet_rather_than_an_unchecked_alert_level(client, auth, draft):
    auth.login("manager")
    html = client.get(f"/floor/?campaign_id={draft}").get_data(as_text=True)
    tile = _tile(html, "guard.level")
    assert "not checked" not in tile
    assert "data-value>no calls yet<" in tile and "checked every 30 s once the campaign dials" in tile
    g = client.get(f"/floor/{draft}/data").get_json()["guard"]
    assert g["level"] is None and g["level_text"] == "no calls yet"
    assert g["checked_text"] == "checked every 30 s once the campaign dials"


def test_a_draft_campaign_says_start_it_and_upload_a_list_in_plain_words(client, auth, draft):
    auth.login("manager")
    html = client.get(f"/floor/?campaign_id={draft}").get_data(as_text=True)
    assert "the campaign is draft" not in html.lower()
    assert "The campaign is a draft: nothing is dialed until it is started" in html
    assert "Not dialing: the campaign has not been started." in html
    assert "has not published a decision" not in html
    assert "the 0 leads" not in html
    assert "no lead to call yet: upload a list of leads" in html


def test_a_checked_campaign_with_no_live_answer_still_has_no_calls_yet(client, auth, draft, sessions, clock):
    """The guard's first check of a campaign that has not reached anyone yet finds nothing to judge: "ok" there
    read as an all-clear on a floor with no call."""
    from campaigns.alerts.models import AbandonGuard
    from campaigns.campaign.models import Campaign

    with sessions() as s:
        s.get(Campaign, draft).status = "active"
        s.add(AbandonGuard(campaign_id=draft, level="ok", fallback=False, rate=None, live_answers=0, abandoned=0,
                           machines=0, checked_at=clock.now(), changed_at=clock.now()))
        s.commit()
    auth.login("manager")
    g = client.get(f"/floor/{draft}/data").get_json()["guard"]
    assert (g["level"], g["level_text"], g["checked_text"]) == (
        "ok", "no calls yet", "checked every 30 s while the campaign dials")


def test_a_new_campaigns_strategy_page_says_no_calls_yet_and_when_the_level_is_checked(client, auth, draft):
    """Its "Abandon alert now" said "Not checked yet: the dialer worker checks every campaign every few seconds": it
    checks active campaigns, every 30 s."""
    auth.login("manager")
    html = client.get(f"/campaigns/{draft}/strategy/").get_data(as_text=True)
    panel = html.split("<h2>Abandon alert now</h2>")[1].split("</div>")[0]
    assert "every few seconds" not in panel
    assert "No calls yet: checked every 30 s once the campaign dials." in panel
