"""The dialing settings page: every setting with its unit, refusals under the field with its label, all or nothing,
the change history on the campaign page; only managers and admins may open it."""

from __future__ import annotations

import pytest

from campaigns.campaign import dialing
from campaigns.campaign.models import Campaign
from campaigns.campaign.service import create_campaign


@pytest.fixture
def campaign_id(sessions, clock, seed_users) -> int:
    with sessions() as s:
        c = create_campaign(s, "Spring", "+12125554100", clock.now())
        s.commit()
        return c.id


def _form(**changes) -> dict:
    base = {"power_ratio": "2", "max_attempts": "5", "retry_no_answer": "4:00", "retry_busy": "0:30",
            "retry_machine": "6:00", "line_cap": "", "machine_action": "hangup", "voicemail_message": "",
            "calling_hours": "", "calling_days": "mon-sun", "abandon_target": "3", "wrap_limit": "",
            "wrap_then": "ready"}
    return {**base, **changes}


def test_the_form_shows_units_and_saves_with_history(client, auth, campaign_id, sessions):
    auth.login("manager")
    path = f"/campaigns/{campaign_id}/settings/"
    html = client.get(path).get_data(as_text=True)
    assert "Retry after busy (h:mm)" in html and "Abandon target (% of live answers)" in html
    assert 'value="0:30"' in html and 'value="3"' in html
    r = auth.post(path, _form(retry_busy="1:15", calling_hours="09:00-20:00", calling_days="mon-fri"),
                  follow_redirects=True)
    html = r.get_data(as_text=True)
    assert r.status_code == 200 and "Saved retry after busy, calling hours, calling days" in html
    with sessions() as s:
        c = s.get(Campaign, campaign_id)
        assert (c.retry_busy_s, c.calling_hours, c.calling_days) == (75 * 60, "09:00-20:00", "12345")
    detail = client.get(f"/campaigns/{campaign_id}").get_data(as_text=True)
    assert "busy 1:15" in detail and "09:00-20:00, mon-fri" in detail
    assert "manager-user" in detail and "<td>Retry after busy</td><td>0:30</td><td>1:15</td>" in detail


def test_a_refusal_names_the_field_and_saves_nothing(client, auth, campaign_id, sessions):
    auth.login("manager")
    path = f"/campaigns/{campaign_id}/settings/"
    r = auth.post(path, _form(retry_busy="1:15", abandon_target="5 %"))
    html = r.get_data(as_text=True)
    assert r.status_code == 400
    assert 'id="abandon_target-error">Abandon target: must be between 0.01 % and 3 %, not 5 %.' in html
    assert "abandon_target" not in html.split('id="abandon_target-error">')[1].split("<")[0]  # no field names
    with sessions() as s:
        assert s.get(Campaign, campaign_id).retry_busy_s == 30 * 60
    assert dialing.FIELDS  # the form and the CLI share one table


@pytest.mark.parametrize("role", ["agent", "sales", "compliance"])
def test_other_roles_are_refused(client, auth, campaign_id, role):
    auth.login(role)
    assert client.get(f"/campaigns/{campaign_id}/settings/").status_code == 403


def test_admin_may_change_settings(client, auth, campaign_id):
    auth.login("admin")
    r = auth.post(f"/campaigns/{campaign_id}/settings/", _form(line_cap="12"), follow_redirects=True)
    assert "Saved line cap" in r.get_data(as_text=True)
