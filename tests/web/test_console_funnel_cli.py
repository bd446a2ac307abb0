"""Issue 16: the funnel ``dialer campaigns funnel`` prints agrees with the console's for the same campaign and the same
instant, on a floor with a lead blocked for every reason (the floor of ``tests/campaigns/funnel/test_funnel.py``):
the JSON of both, and the table the command prints against the rows the floor page shows."""

from __future__ import annotations

import json

import pytest

from dnc.registry import Store
from tests.campaigns.funnel.conftest import AREA_CODES, Leads
from tests.campaigns.funnel.test_funnel import build_floor


@pytest.fixture
def floor(session, clock, tmp_path, setenv):
    from campaigns.campaign.service import create_campaign
    from dnc.registry import generate, load_full

    root = tmp_path / "dnc"  # where the console (app_config DNC_DIR) and the command line look
    setenv(DIALER_DNC_DIR=str(root))
    store = Store(root)
    c = create_campaign(session, "Floor", "+12125550100", clock.now())
    c.status = "active"
    session.flush()

    def registry(*numbers: str) -> Store:
        path = generate(tmp_path / "registry.txt", 2_000, area_codes=AREA_CODES, seed=3, include=numbers).path
        load_full(session, store, [path], version_date=clock.now().date(), loaded_by="test", now=clock.now(),
                  area_codes=",".join(AREA_CODES))
        session.flush()
        return store

    expected = build_floor(session, Leads(session, c, clock.now()), c, registry, clock, tmp_path)
    session.commit()
    return c.id, expected


def test_the_command_line_and_the_console_show_the_same_funnel(floor, client, auth, dialer, clock):
    campaign_id, expected = floor
    out = dialer("campaigns", "funnel", "Floor", "--at", clock.now().isoformat(), "--json")
    assert out.code == 0, out.err
    cli = json.loads(out.out)
    auth.login("manager")
    web = client.get(f"/floor/{campaign_id}/funnel").get_json()
    same = ("total", "final", "final_total", "dialing", "blocked", "blocked_total", "dialable", "windows",
            "pace_per_min", "runs_dry_in_min", "due_next_hour", "callbacks", "notes", "adds_up", "at")
    assert {k: cli[k] for k in same} == {k: web[k] for k in same}
    counted = {r["key"]: r["leads"] for r in web["rows"]}
    assert counted == {k: v for k, v in expected.items()}  # and both are the floor's true counts
    assert cli["adds_up"] and cli["total"] == sum(expected.values())

    table = dialer("campaigns", "funnel", "Floor", "--at", clock.now().isoformat())
    printed = {}
    for line in table.out.splitlines():  # "blocked  national registry ...  national_dnc  1"
        words = line.split()
        if len(words) >= 3 and words[-1].replace(",", "").isdigit() and words[-2] in counted:
            printed[words[-2]] = int(words[-1].replace(",", ""))
    assert printed == counted
    assert f"{cli['total']:,} leads" in table.out
    page = client.get(f"/floor/?campaign_id={campaign_id}").get_data(as_text=True)
    assert f"{web['total']:,} leads = {web['final_total']:,} final" in page
