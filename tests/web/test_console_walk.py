"""What a first day on the console turned up, each as the person met it (refusals answer 400, which the browser
fixture counts as an error, so they are posted here through the real forms).

A campaign manager who mistypes a campaign's caller ID is told what is wrong in words: it read "(1) The string
supplied did not seem to be a phone number.", the phone library's own text. A compliance officer reads a table
whose every column has a name of its own."""

from __future__ import annotations

import html
import re

import pytest

from tests.web.test_console_compliance import registry, store  # noqa: F401  (fixtures)


@pytest.mark.parametrize(("typed", "why"), [
    ("abc", "Caller ID 'abc' is not a phone number: it has no digits to read."),
    ("+28 212 555 0100",
     "Caller ID '+28 212 555 0100' is not a phone number: no country's calling code follows the +."),
    ("2125550100123456789", "Caller ID '2125550100123456789' is not a phone number: it has too many digits."),
])
def test_a_mistyped_caller_id_is_refused_in_words(client, auth, typed, why):
    auth.login("manager")
    r = auth.post("/campaigns/new", {"name": "Summer", "caller_id": typed, "pacing_mode": "predictive",
                                     "abandon_target": "3", "max_attempts": "5", "dedupe_scope": "campaign",
                                     "region": "US", "timezone": "America/New_York"})
    page = html.unescape(r.get_data(as_text=True))
    assert r.status_code == 400 and why in page and "The string supplied" not in page


def test_the_registry_table_names_each_column_once(client, auth, registry):  # noqa: F811
    """The compliance overview's registry table had two columns headed "Area codes" (how many, and which)."""
    auth.login("compliance")
    page = client.get("/compliance/").get_data(as_text=True)
    head = re.search(r"<thead><tr>(.*?)</tr></thead>", page[page.index("National DNC registry"):]).group(1)
    names = [html.unescape(re.sub(r"<[^>]+>", "", h)) for h in re.findall(r"<th[^>]*>.*?</th>", head)]
    assert len(names) == len(set(names)), names
    assert names == ["Version", "Age", "Status", "Area codes covered", "Which"]


def test_every_mistake_of_the_campaign_form_is_named_at_once(client, auth):
    """The caller ID and the callback number were checked only once every other field was right: a manager who fixed
    the abandon target and the attempts was sent back a second time for the numbers."""
    auth.login("manager")
    r = auth.post("/campaigns/new", {"name": "Summer", "caller_id": "abc", "callback_number": "12",
                                     "pacing_mode": "predictive", "abandon_target": "5", "max_attempts": "0",
                                     "dedupe_scope": "campaign", "region": "US", "timezone": "America/New_York"})
    page = html.unescape(r.get_data(as_text=True))
    assert r.status_code == 400
    for why in ("Between 0.01 % and the legal cap of 3 %.", "Between 1 and 100.",
                "Caller ID 'abc' is not a phone number: it has no digits to read.",
                "Callback number '12' is not a valid number."):
        assert why in page, why


def test_an_unknown_region_is_not_called_the_wrong_length(client, auth):
    """Region "ZZ" was refused as "not a two-letter region code such as US": it is two letters, just no country's."""
    auth.login("manager")
    r = auth.post("/campaigns/new", {"name": "Summer", "caller_id": "212 555 0100", "pacing_mode": "predictive",
                                     "abandon_target": "3", "max_attempts": "5", "dedupe_scope": "campaign",
                                     "region": "ZZ", "timezone": "America/New_York"})
    page = html.unescape(r.get_data(as_text=True))
    assert r.status_code == 400 and "Region 'ZZ' is no country's region code (such as US or CA)." in page
