"""What people really type into the console, over real HTTP forms with CSRF: numbers in odd scripts, stray NUL
bytes, dates at the ends of the calendar. Each is either understood or refused in words; never recorded under the
wrong identity, never a server error."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta

from dnc import internal
from dnc.gate import evaluate
from tests.web.conftest import PASSWORD
from tests.web.test_console_compliance import CLEAN, LISTED, campaign, registry, store  # noqa: F401  (fixtures)
from tests.web.test_console_suppressed import suppressed  # noqa: F401  (the fixture: two suppressed leads)

FULL_WIDTH = str.maketrans("0123456789", "０１２３４５６７８９")  # what a phone keyboard's full-width mode types


def wide(e164: str) -> str:
    return e164[2:].translate(FULL_WIDTH)


def test_a_dnc_request_typed_in_full_width_digits_stops_calls_to_that_number(client, auth, registry, campaign,  # noqa: F811
                                                                            sessions, clock):
    auth.login("compliance")
    r = auth.post("/compliance/dnc/add", {"number": wide(CLEAN), "scope": "company", "channel": "phone",
                                          "reason": "asked on the call"}, page="/compliance/lookup")
    assert r.status_code == 302
    with sessions() as s:
        store = client.application.extensions["console"].dnc_store
        d = evaluate(s, CLEAN, campaign=campaign, at=clock.now(), registry=store)
        assert not d.allowed and "internal_dnc" in d.codes  # the number the person asked about, not a look-alike
        assert [e.e164 for e in internal.active(s, CLEAN, None, clock.now())] == [CLEAN]


def test_a_look_up_in_full_width_digits_finds_the_number_itself(client, auth, registry):  # noqa: F811
    auth.login("compliance")
    html = client.get("/compliance/lookup", query_string={"number": wide(LISTED)}).get_data(as_text=True)
    assert f"<h2>{LISTED}\n" in html and "may not be called now" in html and "On the National DNC Registry" in html


def test_a_nul_byte_in_a_form_or_a_query_is_refused_in_words(client, auth, campaign):  # noqa: F811
    """PostgreSQL refuses NUL in text, so a stray one (a paste from a binary file, a crafted link) reached the
    database and came back as a server error: on the sign-in page itself, in lead search, in the reports."""
    r = client.post("/login", data={"username": "admin\x00", "password": "x", "csrf_token": auth.token()})
    assert r.status_code == 400 and "NUL character" in r.get_data(as_text=True)
    auth.login("manager")
    for path in ("/leads/?q=ada%00", "/reports/?campaign=Spring%00", "/reports/hit-rate.csv?campaign=%00"):
        r = client.get(path)
        assert r.status_code == 400 and "NUL character" in r.get_data(as_text=True), path
    assert client.get("/leads/?q=ada").status_code == 200  # the same search without it works


def test_a_report_for_dates_at_the_ends_of_the_calendar_is_refused_in_words(client, auth, campaign):  # noqa: F811
    """A year typed as 9999 or 0001 passed the date check and overflowed Python's calendar in the report's
    arithmetic (local midnights, the 30-day window): a server error on every report, its exports and the
    comparison."""
    auth.login("sales")
    for path in ("/reports/", "/reports/agents", "/reports/abandon-periods", "/reports/compare",
                 "/reports/hit-rate.csv", "/reports/list-close.xlsx"):
        for day in ("9999-12-31", "9999-12-30", "0001-01-01"):
            r = client.get(path, query_string={"first": day, "last": day})
            assert r.status_code == 400, (path, day, r.status_code)
            assert f"{day} is outside" in r.get_data(as_text=True), (path, day)


def test_a_report_from_a_day_after_today_says_why_in_the_pages_words(client, auth, campaign, clock):  # noqa: F811
    """Only "From" given, later than today: the range ends today, so it is empty. The refusal named the command
    line's flags ("--from ... is after --to ..."), which no console user typed."""
    auth.login("sales")
    later = (clock.now().date().replace(day=1) + timedelta(days=62)).isoformat()
    r = client.get("/reports/hit-rate", query_string={"first": later})
    html = r.get_data(as_text=True)
    assert r.status_code == 400 and "--from" not in html and "--to" not in html
    assert f"The first day {later} is after the last day" in html


def test_compliance_csv_keeps_phone_numbers_plain_and_neutralises_formulas(client, auth, suppressed):  # noqa: F811
    """The README's rule for every CSV: a cell a spreadsheet would run gets a leading ', a phone number (+ and
    digits) stays as it is. The compliance sheets quoted numbers too ('+12127364425), so the suppressed leads an
    officer hands on did not match the numbers dialed, nor load again as a list."""
    auth.login("compliance")
    body = client.get("/compliance/suppressed.csv?campaign=Spring").get_data(as_text=True).lstrip("\ufeff")
    rows = list(csv.reader(io.StringIO(body)))
    numbers = {r[1] for r in rows[1:3]}
    assert LISTED in numbers, numbers  # the same number the suppressed leads' fixture lists


def test_the_planner_of_a_campaign_with_no_calls_yet_says_so(client, auth, campaign):  # noqa: F811
    """A manager opens the staffing planner of the campaign just created: no finished dial yet, so no outcome
    shares. The page read the missing shares and failed (a server error) instead of saying there is nothing yet."""
    auth.login("manager")
    r = client.get(f"/campaigns/{campaign}/planner")
    assert r.status_code == 200, r.status_code
    assert "No finished dials" in r.get_data(as_text=True)


def test_a_form_sent_after_the_session_expired_leads_back_to_its_page_after_sign_in(client, auth, campaign,  # noqa: F811
                                                                                   clock):
    """An hour idle, then "Start": the console asks to sign in again. It then sent the user to the form's POST
    address, which answers only POST: a "Not allowed" (405) page instead of the page they were working on."""
    auth.login("manager")
    page = f"/campaigns/{campaign}"  # its Start button posts to /campaigns/<id>/status
    token = auth.token(page)
    clock.advance(61 * 60)
    r = client.post(f"{page}/status", data={"csrf_token": token, "status": "active"},
                    headers={"Referer": f"http://localhost{page}"})
    assert r.status_code == 302 and "/login" in r.headers["Location"]
    login_page = client.get(r.headers["Location"]).get_data(as_text=True)
    nxt = re.search(r'name="next" type="hidden" value="([^"]*)"|type="hidden" name="next" value="([^"]*)"|'
                    r'id="next" name="next" type="hidden" value="([^"]*)"', login_page)
    target = next(g for g in nxt.groups() if g is not None) if nxt else ""
    r = client.post("/login", data={"username": "manager-user", "password": PASSWORD, "next": target,
                                    "csrf_token": auth.token()})
    assert r.status_code == 302
    landed = client.get(r.headers["Location"])
    assert landed.status_code == 200, (r.headers["Location"], landed.status_code)
    assert r.headers["Location"].endswith(page)


def test_numbers_in_links_that_are_no_ids_are_refused_not_a_server_error(client, auth, campaign):  # noqa: F811
    """An id, a page or a list in a link edited by hand: "²" is a digit to str.isdigit() but not to int(), and an id
    of 20 digits does not fit SQLite's integer; both were server errors."""
    auth.login("manager")
    huge = "9" * 20
    for path in ("/leads/?q=ann&page=²", "/leads/?list=²", "/leads/?campaign=²", f"/leads/?q=ann&page={huge}",
                 f"/leads/?list={huge}", f"/leads/?campaign={huge}", f"/campaigns/{huge}", f"/lists/{huge}",
                 f"/campaigns/{campaign}/lists/{huge}/reset"):
        r = client.get(path)
        assert r.status_code in (200, 400, 404), (path, r.status_code)
