"""The staffing planner page: inputs from history, a plan with its spread, exports, Erlang C, and who may see it."""

from __future__ import annotations

import csv
import io

import pytest
from openpyxl import load_workbook
from playwright.sync_api import expect

from campaigns.campaign.models import Campaign
from dialer.planner.backtest import CAMPAIGN, run_truth, truth_scenario, write_history
from tests.web.conftest import screenshot, sign_in


@pytest.fixture(scope="module")
def truth():
    sc = truth_scenario(agents=4, hours=2, days=3, list_size=1200)
    return sc, *run_truth(sc, seed=5)


@pytest.fixture
def planned(truth, sessions, clock):
    sc, result, sim = truth
    now = write_history(sessions, sc, result, sim, fit_days=2)
    clock.set(now)
    with sessions() as s:
        return s.query(Campaign.id).filter_by(name=CAMPAIGN).scalar()


PLAN = {"run": "1", "h9": "4", "h10": "4", "days": "1", "seeds": "2", "history_days": "3", "pacer": "predictive"}


def test_the_manager_plans_and_exports_what_the_page_shows(client, auth, planned):
    auth.login("manager")
    page = client.get(f"/campaigns/{planned}/planner").get_data(as_text=True)
    assert "finished dials" in page and "leads left to dial" in page
    html = client.get(f"/campaigns/{planned}/planner", query_string=PLAN).get_data(as_text=True)
    assert "Predictive pacing" in html and "The list runs dry" in html or "does not run dry" in html
    rows = list(csv.DictReader(io.StringIO(client.get(f"/campaigns/{planned}/planner/export.csv",
                                                      query_string=PLAN).get_data(as_text=True))))
    assert [r["Hour"] for r in rows] == ["09:00", "10:00"]
    assert {"Contacts", "Occupancy %", "Abandon %", "Contacts (lowest seed)"} <= set(rows[0])
    for r in rows:
        assert float(r["Contacts (lowest seed)"]) <= float(r["Contacts"]) <= float(r["Contacts (highest seed)"])
    xlsx = client.get(f"/campaigns/{planned}/planner/export.xlsx", query_string=PLAN)
    wb = load_workbook(io.BytesIO(xlsx.get_data()))
    assert wb["Plan"]["C2"].value == "09:00" and wb["About"]["B1"].value == CAMPAIGN


def test_bad_inputs_are_named_and_nothing_breaks(client, auth, planned):
    auth.login("manager")
    r = client.get(f"/campaigns/{planned}/planner", query_string={**PLAN, "seeds": "many"})
    assert r.status_code == 200 and "Seeds: &#39;many&#39; is not a whole number" in r.get_data(as_text=True)
    r = client.get(f"/campaigns/{planned}/planner", query_string={**PLAN, "live": "90"})
    assert "more than 100 %" in r.get_data(as_text=True)
    r = client.get(f"/campaigns/{planned}/planner", query_string={"erlang": "1", "e_calls": "x", "e_aht": "200"})
    assert "Erlang C: give calls per half hour" in r.get_data(as_text=True)


@pytest.mark.parametrize("role", ["agent", "sales", "compliance"])
def test_roles_that_do_not_plan_staff_are_refused(client, auth, planned, role):
    auth.login(role)
    assert client.get(f"/campaigns/{planned}/planner").status_code == 403
    assert client.get(f"/campaigns/{planned}/planner/export.csv", query_string=PLAN).status_code == 403


@pytest.mark.browser
def test_browser_the_manager_plans_a_day_and_works_out_inbound_agents(browser_page, planned):
    page = browser_page
    sign_in(page, "manager")
    page.goto(f"/campaigns/{planned}")
    page.get_by_role("link", name="Planner").click()
    expect(page.get_by_role("heading", name=f"Staffing planner: {CAMPAIGN}")).to_be_visible()
    expect(page.locator("#inputs-by-hour")).to_contain_text("09:00")
    page.get_by_label("Days of history").fill("3")
    for h in range(8, 21):
        page.get_by_label(f"Agents at {h}:00").fill("4" if h in (9, 10) else "0")
    page.get_by_label("Runs (different luck)").fill("2")
    page.get_by_role("checkbox", name="Progressive").check()
    with page.expect_navigation(timeout=300_000):  # the simulations run inside the request (a loaded CI machine)
        page.get_by_role("button", name="Plan").click(no_wait_after=True)
    expect(page.locator("#plan-predictive .plan-days tbody tr")).to_have_count(1)
    expect(page.locator("#plan-progressive .plan-days tbody tr")).to_have_count(1)
    expect(page.locator("#plan-chart")).to_be_visible()
    screenshot(page, "manager-planner")
    with page.expect_download(timeout=300_000) as info:  # the export runs the same plan again
        page.locator("#export-csv").click(no_wait_after=True)
    assert info.value.suggested_filename == "plan-Back-test.csv"
    page.get_by_label("Calls per half hour").fill("360")
    page.get_by_label("Handle time, seconds").fill("240")
    page.get_by_label("Target, seconds").fill("15")
    page.get_by_role("button", name="Work out agents").click()
    expect(page.locator("#erlang-result")).to_contain_text("57 agents")
    expect(page.locator("#erlang-table tr.chosen")).to_contain_text("57")
