"""A download's file name comes from names people type (a campaign, a list), and travels in a header that servers
write in Latin-1 (gunicorn refuses anything else, so the download was a server error): the name given is plain
ASCII, with no quote to end the filename early, whatever the campaign is called."""

from __future__ import annotations

import re

from campaigns.campaign.models import Campaign
from tests.web.test_console_planner import PLAN, planned, truth  # noqa: F401  (fixtures)

NAME = 'Весна "2027"; spring'


def _filename(response) -> str:
    value = response.headers["Content-Disposition"]
    value.encode("latin-1")  # what the server does; a UnicodeEncodeError here is a 500 there
    m = re.fullmatch(r'attachment; filename="([^"]*)"', value)
    assert m, value
    return m.group(1)


def test_the_planners_downloads_have_a_plain_name_for_any_campaign_name(client, auth, planned, sessions):  # noqa: F811
    with sessions() as s:
        s.get(Campaign, planned).name = NAME
        s.commit()
    auth.login("manager")
    for fmt in ("csv", "xlsx"):
        r = client.get(f"/campaigns/{planned}/planner/export.{fmt}", query_string=PLAN)
        assert r.status_code == 200
        name = _filename(r)
        assert name.isascii() and name.endswith(f".{fmt}") and "2027" in name and "spring" in name, name
