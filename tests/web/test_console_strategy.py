"""The strategy & alerts form of a campaign (every setting of ``dialer campaigns strategy``, refusals under the
setting they name, all or nothing) and the hot-lead form on the campaign page."""

from __future__ import annotations

from datetime import timedelta

import pytest

from campaigns.campaign.dial_settings import settings_of
from campaigns.campaign.models import Campaign
from campaigns.campaign.service import create_campaign, set_status
from campaigns.leads.hot import HOT_LIST, HOT_PRIORITY
from campaigns.leads.models import Lead, LeadList

DEFAULTS = {"lead_order": "due", "new_lead_every": "0", "retry_shift_s": "0:00", "min_recall_gap_s": "0:00",
            "lead_daily_cap": "", "phone_daily_cap": "", "phone_switch_after": "0", "callbacks_personal": "y",
            "callback_grace_s": "0:15", "callback_miss_s": "1:00", "abandon_warn_1": "2.5", "abandon_warn_2": "2.8",
            "abandon_fallback": "y", "alert_min_live_answers": "100", "alert_webhook_url": "",
            "local_presence": "", "caller_id_daily_cap": "150", "spam_flag_threshold": "3",
            "callerid_min_answer_rate": "", "callerid_min_dials": "200"}


@pytest.fixture
def campaign(sessions, clock, seed_users) -> dict:
    t = clock.now()
    with sessions() as s:
        c = create_campaign(s, "Spring", "+12125554100", t - timedelta(days=1))
        set_status(s, c, "active", t)
        lst = LeadList(campaign_id=c.id, name="March", sha256="a" * 64, uploaded_at=t)
        s.add(lst)
        s.flush()
        lead = Lead(campaign_id=c.id, list_id=lst.id, phone="+13125554123", first_name="Ann", last_name="Lee",
                    state="IL", postal_code="60601", timezones="America/Chicago", attempts=1, status="retry",
                    next_attempt_at=t + timedelta(hours=5), created_at=t, updated_at=t)
        closed = Lead(campaign_id=c.id, list_id=lst.id, phone="+13125554124", first_name="Bo", last_name="",
                      timezones="America/Chicago", attempts=1, status="closed", created_at=t, updated_at=t)
        s.add_all([lead, closed])
        s.commit()
        return {"id": c.id, "lead": lead.id, "closed": closed.id}


def page(c) -> str:
    return f"/campaigns/{c['id']}/strategy/"


def test_the_form_shows_every_setting_grouped_with_help(client, auth, campaign):
    auth.login("manager")
    html = client.get(page(campaign)).get_data(as_text=True)
    for legend in ("Lead order and new leads", "Recall gaps and caps", "Callbacks", "Abandon alerts", "Caller ID"):
        assert f"<legend>{legend}</legend>" in html
    for name in DEFAULTS:
        assert f'name="{name}"' in html, name
    assert 'id="callback_grace_s-help"' in html and 'value="2.5"' in html  # rates in %
    assert 'value="0:15"' in html  # delays as h:mm
    assert "No calls yet: checked every 30 s while the campaign dials." in html
    assert f'href="{page(campaign)}">Strategy &amp; alerts</a>' in \
        client.get(f"/campaigns/{campaign['id']}").get_data(as_text=True)


def test_saving_changes_every_setting(client, auth, campaign, sessions):
    auth.login("manager")
    data = {**DEFAULTS, "lead_order": "follow_sun", "new_lead_every": "4", "lead_daily_cap": "2",
            "callbacks_personal": "", "callback_grace_s": "0:10", "abandon_warn_1": "2",
            "alert_webhook_url": "https://hooks.example.com/dialer", "local_presence": "y",
            "caller_id_daily_cap": "90", "spam_flag_threshold": "5", "callerid_min_answer_rate": "8"}
    r = auth.post(page(campaign), data, follow_redirects=True)
    assert "Strategy and alert settings of Spring saved" in r.get_data(as_text=True)
    with sessions() as s:
        got = settings_of(s, campaign["id"])
        c = s.get(Campaign, campaign["id"])
        assert (got.lead_order, got.new_lead_every, got.lead_daily_cap, got.phone_daily_cap) == ("follow_sun", 4, 2,
                                                                                                  None)
        assert (got.callbacks_personal, got.callback_grace_s, got.abandon_warn_1) == (False, 600, 0.02)
        assert (got.alert_webhook_url, got.callerid_min_answer_rate) == ("https://hooks.example.com/dialer", 0.08)
        assert (c.local_presence, c.caller_id_daily_cap, c.spam_flag_threshold) == (True, 90, 5)
    html = client.get(page(campaign)).get_data(as_text=True)
    assert 'value="follow_sun" selected' in html or 'selected value="follow_sun"' in html


@pytest.mark.parametrize(("changes", "field", "message"), [  # the settings' labels, never their names; rates in %
    ({"abandon_warn_1": "3.5"}, "abandon_warn_1",
     "First warning: must be above 0 % and below the campaign&#39;s abandon target 3 %, got 3.5 %"),
    ({"abandon_warn_1": "2.8", "abandon_warn_2": "2.5"}, "abandon_warn_1",
     "First warning (2.8 %) must be below Second warning (2.5 %)"),
    ({"callback_miss_s": "0:10"}, "callback_miss_s", "Missed after: must be longer than Personal grace (15 min)"),
    ({"alert_webhook_url": "ftp://x"}, "alert_webhook_url", "Alert webhook URL: must be an https URL"),
    ({"new_lead_every": "500"}, "new_lead_every", "One new lead every N dials: must be between 0 and 100, got 500"),
    ({"lead_daily_cap": "0"}, "lead_daily_cap", "Attempts per lead per day: must be between 1 and 100, got 0"),
    ({"callback_grace_s": ""}, "callback_grace_s", "Personal grace: enter a time as h:mm"),
    ({"min_recall_gap_s": "soon"}, "min_recall_gap_s",
     "Minimum re-call gap: give hours and minutes as h:mm, e.g. 4:00 or 0:30, not &#39;soon&#39;"),
    ({"callback_miss_s": "0:00"}, "callback_miss_s", "Missed after: must be between 0:01 and 168:00 (h:mm), not 0:00"),
    ({"callerid_min_answer_rate": "150"}, "callerid_min_answer_rate",
     "Minimum 7-day answer rate: must be between 0 % and 100 %, got 150 %"),
    ({"spam_flag_threshold": "0"}, "spam_flag_threshold", "spam-flag threshold must be between 1 and 100, got 0"),
    ({"caller_id_daily_cap": "20000"}, "caller_id_daily_cap",
     "caller-ID daily cap must be between 1 and 10000, got 20000"),
])
def test_a_refusal_sits_under_the_setting_it_names_and_nothing_is_saved(client, auth, campaign, sessions, changes,
                                                                         field, message):
    auth.login("manager")
    r = auth.post(page(campaign), {**DEFAULTS, "new_lead_every": "7", **changes})
    assert r.status_code == 400
    html = r.get_data(as_text=True)
    assert f'id="{field}-error">{message}' in html
    with sessions() as s:
        assert settings_of(s, campaign["id"]).new_lead_every == 0  # all or nothing
        assert s.get(Campaign, campaign["id"]).spam_flag_threshold == 3


def test_an_unknown_campaign_is_not_found(client, auth, campaign):
    auth.login("manager")
    assert client.get("/campaigns/987654/strategy/").status_code == 404


def test_hot_lead_by_id_is_due_at_once_with_the_hot_priority(client, auth, campaign, sessions, clock):
    auth.login("manager")
    r = auth.post(f"/campaigns/{campaign['id']}/hot", {"lead_id": str(campaign["lead"])},
                  page=f"/campaigns/{campaign['id']}", follow_redirects=True)
    assert "+13125554123 is hot (lead" in r.get_data(as_text=True)
    with sessions() as s:
        lead = s.get(Lead, campaign["lead"])
        assert (lead.priority, lead.next_attempt_at) == (HOT_PRIORITY, clock.now())


def test_hot_lead_by_a_new_number_is_added_to_the_hot_list(client, auth, campaign, sessions):
    auth.login("manager")
    r = auth.post(f"/campaigns/{campaign['id']}/hot", {"phone": "(212) 555-4177", "first_name": "Cal",
                                                       "state": "ny", "postal_code": "10001"},
                  page=f"/campaigns/{campaign['id']}", follow_redirects=True)
    assert f"+12125554177 is hot (added to the {HOT_LIST} list as lead" in r.get_data(as_text=True)
    with sessions() as s:
        lead = s.query(Lead).filter_by(phone="+12125554177").one()
        assert (lead.first_name, lead.state, lead.status, lead.priority) == ("Cal", "NY", "new", HOT_PRIORITY)
        assert s.get(LeadList, lead.list_id).name == HOT_LIST


def test_a_hot_number_the_scrub_suppresses_is_stored_and_shown_in_words(client, auth, campaign, sessions, clock):
    """The scrub finds codes; the lead keeps them in the one stored format (each code with its words, as the gate
    writes them) and the page reads the codes back through ``dnc.reasons.stored_codes``, never a fragment."""
    from dnc import internal

    with sessions() as s:
        internal.add_request(s, "+12125554178", channel="web", received_at=clock.now(), added_by="web")
        s.commit()
    auth.login("manager")
    r = auth.post(f"/campaigns/{campaign['id']}/hot", {"phone": "(212) 555-4178"},
                  page=f"/campaigns/{campaign['id']}", follow_redirects=True)
    assert "is suppressed (on the internal do-not-call list): it is never dialed." in r.get_data(as_text=True)
    with sessions() as s:
        lead = s.query(Lead).filter_by(phone="+12125554178").one()
        assert (lead.status, lead.suppression) == ("suppressed", "internal_dnc: On the internal do-not-call list")


@pytest.mark.parametrize(("data", "field", "message"), [
    ({}, None, "Give either a lead id or a phone number."),
    ({"lead_id": "1", "phone": "+12125554177"}, None, "Give either a lead id or a phone number."),
    ({"phone": "12"}, "phone", "&#39;12&#39; is not a valid phone number."),
    ({"lead_id": "987654"}, "lead_id", "Campaign &#39;Spring&#39; has no lead 987654."),
    ({"phone": "+12125554177", "state": "N1"}, "state",
     "State must be a two-letter code such as NY, got &#39;N1&#39;."),
    ({"lead_id": "x"}, "lead_id", "Not a valid integer value."),
])
def test_a_bad_hot_lead_is_refused_next_to_the_field(client, auth, campaign, sessions, data, field, message):
    auth.login("manager")
    r = auth.post(f"/campaigns/{campaign['id']}/hot", data, page=f"/campaigns/{campaign['id']}")
    assert r.status_code == 400
    html = r.get_data(as_text=True)
    assert (f'id="{field}-error">{message}' if field else f'role="alert">{message}') in html
    with sessions() as s:
        assert s.query(Lead).filter_by(phone="+12125554177").count() == 0


def test_a_final_lead_cannot_be_made_hot(client, auth, campaign):
    auth.login("manager")
    r = auth.post(f"/campaigns/{campaign['id']}/hot", {"lead_id": str(campaign["closed"])},
                  page=f"/campaigns/{campaign['id']}")
    assert r.status_code == 400 and "is closed: a final lead is not dialed again." in r.get_data(as_text=True)


def test_the_floor_and_the_form_show_the_abandon_level_and_the_fallback(client, auth, campaign, sessions, clock):
    from campaigns.alerts.models import AbandonGuard

    auth.login("manager")
    html = client.get(f"/floor/?campaign_id={campaign['id']}").get_data(as_text=True)
    assert 'data-k="guard.level">\n    <div class="label">Abandon alert level</div><div class="value" data-value>' \
           'no calls yet<' in html
    with sessions() as s:
        s.add(AbandonGuard(campaign_id=campaign["id"], level="over", fallback=True, rate=0.031, live_answers=1000,
                           abandoned=31, machines=4, checked_at=clock.now(), changed_at=clock.now()))
        s.commit()
    html = client.get(f"/floor/?campaign_id={campaign['id']}").get_data(as_text=True)
    level = html.split('data-k="guard.level"')[0].rsplit("<div", 1)[1] + html.split('data-k="guard.level"')[1][:600]
    assert 'class="tile bad"' in level and "data-value>over<" in level
    assert "progressive pacing until it is under 2.5 %" in level
    g = client.get(f"/floor/{campaign['id']}/data").get_json()["guard"]
    assert (g["level"], g["rate_30d"], g["warn"], g["high"]) == ("over", 0.031, 0.025, 0.028)
    assert g["fallback"].startswith("30-day abandon rate 3.1 % is above the 3 % target")
    html = client.get(page(campaign)).get_data(as_text=True)
    assert '<span class="badge bad">over</span>' in html and "pacing fell back to progressive" in html
