"""Names that reach headers, file names and spoken words are one line of printable text: the services refuse a
control character in words (the command line and the console alike), and ``one_line`` makes a stored one safe."""

from __future__ import annotations

import pytest

from campaigns.campaign.service import CampaignSettings, create_campaign, update_campaign
from campaigns.leadimport.service import import_leads
from dnc.errors import UserError

BAD = ("Spring\r\nBcc: x@evil.example", "Spring\nSale", "Spring\tSale", "Spring\x00", "Spring\x85Sale", "A\u2028B")


@pytest.mark.parametrize("name", BAD)
def test_a_campaign_name_with_a_control_character_is_refused_in_words(session, clock, name):
    with pytest.raises(UserError, match=r"campaign name contains a (line break|tab|control character) \(character"):
        create_campaign(session, name, "+12125550100", clock.now())


def test_renaming_a_campaign_and_its_seller_name_are_checked_too(session, clock):
    c = create_campaign(session, "Spring", "+12125550100", clock.now())
    with pytest.raises(UserError, match="campaign name contains a line break"):
        update_campaign(session, c, "Spring\r\nX: y", "+12125550100", CampaignSettings(), clock.now())
    with pytest.raises(UserError, match="seller name contains a line break"):
        create_campaign(session, "Autumn", "+12125550100", clock.now(), CampaignSettings(seller_name="Acme\nX"))
    assert create_campaign(session, "  Été 2030 — “North”  ", "+12125550100", clock.now()).name == \
        "Été 2030 — “North”"


def test_a_list_name_with_a_line_break_is_refused_and_a_file_names_is_made_one_line(sessions, clock, tmp_path):
    with sessions() as s:
        create_campaign(s, "Spring", "+12125550100", clock.now())
        s.commit()
    path = tmp_path / "leads.csv"
    path.write_text("phone\n+12125550111\n")
    with pytest.raises(UserError, match="list name contains a line break"):
        import_leads(sessions, "Spring", path, now=clock.now(), list_name="March\r\nX")
    result = import_leads(sessions, "Spring", path, now=clock.now(), original_filename="march\r\nleads.csv")
    assert result.list_name == "march leads"


def test_one_line_and_plain_name():
    from campaigns.names import one_line, plain_name

    assert one_line("Spring \r\n Bcc: x\x00y\u2029z") == "Spring Bcc: x y z"
    assert one_line("plain  name") == "plain  name"
    assert plain_name("list name", "  March ") == "March"
    with pytest.raises(UserError, match="list name is empty"):
        plain_name("list name", " ")
