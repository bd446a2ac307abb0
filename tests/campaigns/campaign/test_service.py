import json

import pytest

from campaigns.campaign.models import Disposition
from campaigns.campaign.service import CampaignSettings, create_campaign, get_campaign, set_status
from dnc.errors import UserError


def test_create_campaign_normalizes_caller_id_and_seeds_dispositions(session, clock):
    c = create_campaign(session, "Spring", "(212) 555-0100", clock.now())
    session.commit()
    assert c.caller_id == "+12125550100"
    assert c.status == "draft" and c.pacing_mode == "predictive" and c.abandon_target == 0.03
    codes = {d.code: d for d in session.query(Disposition).filter_by(campaign_id=c.id)}
    assert codes["SALE"].is_close and codes["DNC"].is_dnc and codes["CALLBK"].is_callback


@pytest.mark.parametrize("kwargs, message", [
    ({"pacing_mode": "turbo"}, "pacing mode"),
    ({"abandon_target": 0.05}, "legal cap"),
    ({"region": "ZZ"}, "region"),
    ({"timezone": "Mars/Olympus"}, "time zone"),
])
def test_bad_settings_are_named(session, clock, kwargs, message):
    with pytest.raises(UserError, match=message):
        create_campaign(session, "x", "+12125550100", clock.now(), CampaignSettings(**kwargs))


def test_status_transitions(session, clock):
    c = create_campaign(session, "T", "+12125550100", clock.now())
    set_status(session, c, "active", clock.now())
    set_status(session, c, "paused", clock.now())
    set_status(session, c, "finished", clock.now())
    with pytest.raises(UserError, match="cannot become active"):
        set_status(session, c, "active", clock.now())
    with pytest.raises(UserError, match="no campaign named 'nope'"):
        get_campaign(session, "nope")


def test_cli_create_list_and_errors(dialer):
    r = dialer("campaigns", "create", "Alpha", "--caller-id", "+1 212 555 0100", "--json")
    assert r.code == 0, r.err
    assert json.loads(r.out)["caller_id"] == "+12125550100"
    r = dialer("campaigns", "create", "Alpha", "--caller-id", "+12125550100")
    assert r.code == 2 and r.err.strip() == "error: a campaign named 'Alpha' already exists"
    assert "Traceback" not in r.err
    r = dialer("campaigns", "list", "--json")
    assert json.loads(r.out)["campaigns"][0]["name"] == "Alpha"
    r = dialer("campaigns", "start", "Alpha")
    assert r.code == 0 and r.out.strip() == "campaign 'Alpha' is active"
    assert "warning: It has no lead left to call, so it will not dial: upload a list of leads." in r.err
    r = dialer("campaigns", "pause", "Nope")
    assert r.code == 2 and "no campaign named 'Nope'" in r.err


def test_help_lists_every_subcommand(dialer):
    r = dialer("--help")
    assert r.code == 0
    for group in ("campaigns", "db"):
        assert group in r.out
