"""The staffing planner's first day typed at the ends of the calendar: refused in words on the page and in its
exports, never a server error (the simulated days overflowed Python's calendar)."""

from __future__ import annotations

from tests.web.test_console_planner import PLAN, planned, truth  # noqa: F401  (fixtures: a campaign with history)


def test_a_plan_starting_at_the_ends_of_the_calendar_is_refused_in_words(client, auth, planned):  # noqa: F811
    auth.login("manager")
    for start in ("9999-12-31", "0001-01-01"):
        query = {**PLAN, "start": start}
        r = client.get(f"/campaigns/{planned}/planner", query_string=query)
        assert r.status_code in (200, 400) and f"First day: {start}" in r.get_data(as_text=True), (start, r.status_code)
        r = client.get(f"/campaigns/{planned}/planner/export.csv", query_string=query)
        assert r.status_code == 400, (start, r.status_code)
