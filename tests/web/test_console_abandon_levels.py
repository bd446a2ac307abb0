"""One colour for one 30-day abandon rate everywhere: the floor (page and live JSON), the compliance page, the
abandon guard's level and the ``dialer campaigns alerts`` command read the same rule.

The law allows abandoning up to 3 % of live answers over 30 days: exactly 3 % is lawful (amber, the last warning),
above 3 % is the violation (red). The warning colour starts at the campaign's own first alert level, not at a fixed
share of the target. Three campaigns, 100 or more live answers each (the alerts' default sample), calls two hours
before now:

  Edge   3 abandoned of 100 live answers = 3.0 %  (target 3 %)  -> level high, amber
  Over   4 abandoned of 129 live answers = 3.1 %  (target 3 %)  -> level over, red
  Early  3 abandoned of 200 live answers = 1.5 %  (warnings 1 % and 2 %) -> level warn, amber
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from campaigns.alerts import service as abandon_alerts
from campaigns.campaign.dial_settings import update
from campaigns.campaign.models import Campaign
from campaigns.campaign.service import create_campaign
from tests.campaigns.reports.support import add_call, add_lead, add_list
from tests.conftest import START

NOW = START
CASES = {"Edge": (97, 3, {}), "Over": (125, 4, {}), "Early": (197, 3, {"abandon_warn_1": 0.01, "abandon_warn_2": 0.02})}
EXPECTED = {"Edge": ("high", "warn"), "Over": ("over", "bad"), "Early": ("warn", "warn")}


@pytest.fixture
def edge_floor(sessions, clock) -> dict[str, int]:
    clock.set(NOW)
    ids = {}
    with sessions.begin() as s:
        for n, (name, (completed, abandoned, levels)) in enumerate(CASES.items()):
            c = create_campaign(s, name, f"+1212555010{n}", NOW - timedelta(days=60))
            c.status = "active"
            if levels:
                update(s, c, NOW - timedelta(days=1), **levels)
            lst = add_list(s, c.id, f"{name} list")
            placed = NOW - timedelta(hours=2)
            for i in range(completed + abandoned):
                lead = add_lead(s, c.id, lst.id, f"+1212{n}{i:06d}")
                t = placed + timedelta(seconds=i)
                if i < completed:
                    add_call(s, c.id, lead, lst.id, 1, t, outcome="completed", connected=t + timedelta(seconds=3),
                             ended=t + timedelta(seconds=60))
                else:
                    add_call(s, c.id, lead, lst.id, 1, t, outcome="abandoned", answered=t + timedelta(seconds=3),
                             ended=t + timedelta(seconds=10))
            ids[name] = c.id
    with sessions.begin() as s:
        for cid in ids.values():
            abandon_alerts.check(s, s.get(Campaign, cid), NOW)
    return ids


def _tile_class(html: str, key: str) -> str:
    m = re.search(r'<div class="tile ([a-z ]*)" data-k="' + re.escape(key) + '"', html)
    assert m, f"no tile {key}"
    return m.group(1).strip()


def test_the_guard_the_floor_the_compliance_page_and_the_cli_colour_a_rate_alike(client, auth, dialer, sessions,
                                                                                 edge_floor):
    with sessions() as s:
        guard = {name: abandon_alerts.state(s, s.get(Campaign, cid)) for name, cid in edge_floor.items()}
    assert {n: (g.level, g.fallback) for n, g in guard.items()} == {
        "Edge": ("high", False), "Over": ("over", True), "Early": ("warn", False)}, \
        "3 % is lawful: the guard must not call it over (nor fall back to progressive)"
    auth.login("manager")
    for name, cid in edge_floor.items():
        level, tone = EXPECTED[name]
        html = client.get(f"/floor/?campaign_id={cid}").get_data(as_text=True)
        assert _tile_class(html, "today.abandon_rate_30d") == tone, f"{name}: floor's 30-day tile"
        assert _tile_class(html, "guard.level") == tone, f"{name}: floor's alert tile"
        data = client.get(f"/floor/{cid}/data").get_json()
        assert (data["abandon_30d"]["level"], data["abandon_30d"]["tone"]) == (level, tone), \
            f"{name}: the floor's live update must say the level and colour the page drew"
    auth.logout()
    auth.login("compliance")
    html = client.get("/compliance/abandon").get_data(as_text=True)
    for name in edge_floor:
        row = html[html.index(f"<td>{name} "):]
        row = row[:row.index("</tr>")]
        badge = re.search(r'<span class="badge ([a-z]+)">[0-9.]+ %</span>', row)
        assert badge and badge.group(1) == EXPECTED[name][1], f"{name}: compliance page colours {badge and badge[1]}"
    for name in edge_floor:
        out = dialer("campaigns", "alerts", name, "--json")
        assert out.code == 0, out.err
        assert f'"level": "{EXPECTED[name][0]}"' in out.out
