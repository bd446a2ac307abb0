"""Numbers no person types but anyone can send (a 400-digit count, ``1e400``, a blank day) are refused in words,
never a server error: each case here was a 500 found by sending every console form back with one field changed
(``tests/web/test_console_route_matrix.py`` walks the forms as shown)."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from tests.web.consistency import parse
from tests.web.test_console_leads import floor  # noqa: F401  (the lead tests' fixture: campaign Spring, two lists)

HUGE = "9" * 400  # a whole number: float() of it overflows, and no database column holds it


def _form(client, page: str, action_ends: str) -> dict[str, str]:
    """The fields of the page's form whose action ends with ``action_ends``, as shown (defaults)."""
    for form in parse(client.get(page).get_data(as_text=True)).find("form"):
        if urlsplit(form.attrs.get("action") or page).path.endswith(action_ends):
            data = {}
            for n in form.walk():
                name, kind = n.attrs.get("name"), n.attrs.get("type", "")
                if not name or kind in ("submit", "file") or n.tag == "button":
                    continue
                if n.tag == "select":
                    options = n.find("option")
                    chosen = [o for o in options if "selected" in o.attrs] or options[:1]
                    data[name] = chosen[0].attrs.get("value", "") if chosen else ""
                elif kind not in ("checkbox", "radio") or "checked" in n.attrs:
                    data.setdefault(name, n.attrs.get("value", n.text() if n.tag == "textarea" else ""))
            return data
    raise AssertionError(f"no form for {action_ends} on {page}")


@pytest.mark.parametrize(("page", "action", "field"), [
    ("/campaigns/new", "/campaigns/new", "max_attempts"),
    ("/campaigns/{c}/edit", "/campaigns/{c}/edit", "max_attempts"),
    ("/campaigns/{c}/settings/", "/campaigns/{c}/settings/", "max_attempts"),
    ("/campaigns/{c}/settings/", "/campaigns/{c}/settings/", "line_cap"),
    ("/campaigns/{c}/settings/", "/campaigns/{c}/settings/", "wrap_limit"),
    ("/campaigns/{c}/callerid/", "/campaigns/{c}/callerid/add", "daily_cap"),
    ("/campaigns/{c}", "/campaigns/{c}/hot", "lead_id"),
])
def test_a_huge_number_in_a_form_is_refused_in_words(client, auth, floor, page, action, field):  # noqa: F811
    auth.login("manager")
    page, action = page.format(c=floor["campaign"]), action.format(c=floor["campaign"])
    data = _form(client, page, action)
    assert field in data, data
    r = auth.post(action, {**data, field: HUGE}, page=page)
    assert r.status_code == 400, r.status_code
    said = [n.text() for n in parse(r.get_data(as_text=True)).walk() if {"error", "flash"} & n.classes()]
    assert said and not any(HUGE in t for t in said), said  # refused in words, without quoting 400 digits


@pytest.mark.parametrize("value", [HUGE, "1e400", "inf", "nan"])
def test_a_planner_figure_that_is_no_finite_number_is_refused_in_words(client, auth, floor, value):  # noqa: F811
    auth.login("manager")
    page = f"/campaigns/{floor['campaign']}/planner"
    args = {**_form(client, page, "/planner"), "run": "1", "callable_leads": value}
    r = client.get(page, query_string=args)
    assert r.status_code in (200, 400) and "Leads left to dial" in r.get_data(as_text=True), r.status_code


@pytest.mark.parametrize("field", ["since", "until"])
@pytest.mark.parametrize("value", [" ", "\u2028"])
def test_a_blank_day_in_a_compliance_report_is_refused_or_ignored(client, auth, floor, field, value):  # noqa: F811
    auth.login("compliance")
    r = client.get("/compliance/reports/scrubs", query_string={field: value})
    assert r.status_code in (200, 400), r.status_code


PAST_INT4 = 3_000_000_000  # past PostgreSQL's integer, which every id column is (SQLite's holds it)


@pytest.mark.parametrize("path", ["/leads/{n}", "/campaigns/{n}", "/lists/{n}", "/admin/users/{n}",
                                  "/leads/?campaign={n}", "/leads/?list={n}&q=x", "/floor/?campaign_id={n}"])
def test_an_id_past_the_databases_integer_is_not_found_not_a_server_error(client, auth, floor, path):  # noqa: F811
    auth.login("admin")
    assert client.get(path.format(n=PAST_INT4)).status_code in (200, 400, 404)


def test_a_phone_number_typed_as_the_hot_lead_id_is_refused_in_words(client, auth, floor):  # noqa: F811
    auth.login("manager")
    page = f"/campaigns/{floor['campaign']}"
    r = auth.post(f"{page}/hot", {**_form(client, page, "/hot"), "lead_id": "12125550100"}, page=page)
    assert r.status_code == 400 and "No lead has this id." in r.get_data(as_text=True)
