"""Audit of the calling window as the dial loop meets it: hours per state (federal 8-21 and every state row of the
rules file), the strictest combination of the number's zones and the lead's state and ZIP code, split and
multi-zone states, Arizona, Alaska, Hawaii and Puerto Rico, the days around both DST changes, Saturday and Sunday
rules, state holidays (observed ones too), Utah's consent exception and declared no-call days. Each row is one
edge: the instant just inside and just outside each bound."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from tests.dnc.audit_helpers import ask, check, load_registry, pewc

ET, CT, MT, AZ, PT = (ZoneInfo(z) for z in ("America/New_York", "America/Chicago", "America/Denver",
                                             "America/Phoenix", "America/Los_Angeles"))
HT, AKT, AT = ZoneInfo("Pacific/Honolulu"), ZoneInfo("America/Anchorage"), ZoneInfo("America/Puerto_Rico")
NY, MIAMI, PENSACOLA, RI, SAN_ANTONIO, EL_PASO = ("+12125554123", "+13055554123", "+18504344123", "+14015554123",
                                                  "+12105554123", "+19155554123")
SLC, JACKSON, NOLA, SIOUX_FALLS, LOUISVILLE, PHOENIX = ("+18015554123", "+16015554123", "+15045554123",
                                                        "+16055554123", "+15025554123", "+16025554123")
HONOLULU, ANCHORAGE, SAN_JUAN, BIRMINGHAM = "+18085554123", "+19075554123", "+17875554123", "+12055554123"
CONSENT_STATES = {MIAMI, PENSACOLA}  # FL: predictive calls need written consent; given, so only the hours decide


def t(text: str, zone: ZoneInfo) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=zone)


# (what, phone, lead state, ZIP, instant, allowed, codes). 2030-01-08 is a Tuesday, 01-12/13 a weekend (winter);
# 2030-07-09 a Tuesday (summer). DST starts Sunday 2030-03-10 and ends Sunday 2030-11-03.
CASES = [
    ("federal opens at 08:00", NY, None, None, t("2030-01-08 08:00", ET), True, ()),
    ("federal closed at 07:59", NY, None, None, t("2030-01-08 07:59:59", ET), False, ("outside_window",)),
    ("federal open at 20:58:59", NY, None, None, t("2030-01-08 20:58:59", ET), True, ()),
    ("federal: the last minute is inside the send margin", NY, None, None, t("2030-01-08 20:59", ET), False,
     ("outside_window",)),
    ("federal closed at 21:00", NY, None, None, t("2030-01-08 21:00", ET), False, ("outside_window",)),
    ("federal: no holiday ban (Christmas)", NY, None, None, t("2030-12-25 12:00", ET), True, ()),
    ("FL 8-20 in Central too: 08:59 ET", MIAMI, None, None, t("2030-01-08 08:59", ET), False, ("outside_window",)),
    ("FL 8-20: 09:00 ET", MIAMI, None, None, t("2030-01-08 09:00", ET), True, ()),
    ("FL 8-20: 19:58 ET", MIAMI, None, None, t("2030-01-08 19:58", ET), True, ()),
    ("FL 8-20: 20:00 ET", MIAMI, None, None, t("2030-01-08 20:00", ET), False, ("outside_window",)),
    ("FL Sunday as weekdays", MIAMI, None, None, t("2030-01-13 09:00", ET), True, ()),
    ("850-434 Pensacola: 08:30 CT", PENSACOLA, None, None, t("2030-01-08 08:30", CT), True, ()),
    ("850-434 Pensacola: 19:30 CT is 20:30 ET", PENSACOLA, None, None, t("2030-01-08 19:30", CT), False,
     ("outside_window",)),
    ("RI weekdays 9-18: 08:59", RI, None, None, t("2030-01-08 08:59", ET), False, ("outside_window",)),
    ("RI weekdays 9-18: 09:00", RI, None, None, t("2030-01-08 09:00", ET), True, ()),
    ("RI weekdays 9-18: 17:58", RI, None, None, t("2030-01-08 17:58", ET), True, ()),
    ("RI weekdays 9-18: 18:00", RI, None, None, t("2030-01-08 18:00", ET), False, ("outside_window",)),
    ("RI Saturday 10-17: 09:59", RI, None, None, t("2030-01-12 09:59", ET), False, ("outside_window",)),
    ("RI Saturday 10-17: 10:00", RI, None, None, t("2030-01-12 10:00", ET), True, ()),
    ("RI Saturday 10-17: 16:58", RI, None, None, t("2030-01-12 16:58", ET), True, ()),
    ("RI Saturday 10-17: 17:00", RI, None, None, t("2030-01-12 17:00", ET), False, ("outside_window",)),
    ("RI Sunday closed", RI, None, None, t("2030-01-13 12:00", ET), False, ("sunday_ban",)),
    ("TX 9-21 in Mountain too: 09:59 CT", SAN_ANTONIO, None, None, t("2030-01-08 09:59", CT), False,
     ("outside_window",)),
    ("TX 9-21: 10:00 CT", SAN_ANTONIO, None, None, t("2030-01-08 10:00", CT), True, ()),
    ("TX 9-21: 20:58 CT", SAN_ANTONIO, None, None, t("2030-01-08 20:58", CT), True, ()),
    ("TX 9-21: 21:00 CT", SAN_ANTONIO, None, None, t("2030-01-08 21:00", CT), False, ("outside_window",)),
    ("TX Sunday noon, Mountain: 12:59 CT", SAN_ANTONIO, None, None, t("2030-01-13 12:59", CT), False,
     ("outside_window",)),
    ("TX Sunday noon, Mountain: 13:00 CT", SAN_ANTONIO, None, None, t("2030-01-13 13:00", CT), True, ()),
    ("915 El Paso Sunday 11:59 MT", EL_PASO, None, None, t("2030-01-13 11:59", MT), False, ("outside_window",)),
    ("915 El Paso Sunday 12:00 MT", EL_PASO, None, None, t("2030-01-13 12:00", MT), True, ()),
    ("UT Sunday closed", SLC, None, None, t("2030-01-13 12:00", MT), False, ("sunday_ban",)),
    ("UT Saturday 08:00", SLC, None, None, t("2030-01-12 08:00", MT), True, ()),
    ("MS winter 08:00 CST", JACKSON, None, None, t("2030-01-08 08:00", CT), True, ()),
    ("MS summer 08:30 CDT is 07:30 CST", JACKSON, None, None, t("2030-07-09 08:30", CT), False, ("outside_window",)),
    ("MS summer 09:00 CDT", JACKSON, None, None, t("2030-07-09 09:00", CT), True, ()),
    ("MS summer 19:58 CDT", JACKSON, None, None, t("2030-07-09 19:58", CT), True, ()),
    ("MS summer 20:00 CDT", JACKSON, None, None, t("2030-07-09 20:00", CT), False, ("outside_window",)),
    ("MS first DST weekday 08:30 CDT", JACKSON, None, None, t("2030-03-11 08:30", CT), False, ("outside_window",)),
    ("MS first standard weekday 08:00 CST", JACKSON, None, None, t("2030-11-04 08:00", CT), True, ()),
    ("MS Sunday closed", JACKSON, None, None, t("2030-01-13 12:00", CT), False, ("sunday_ban",)),
    ("LA 19:58", NOLA, None, None, t("2030-01-08 19:58", CT), True, ()),
    ("LA 20:00", NOLA, None, None, t("2030-01-08 20:00", CT), False, ("outside_window",)),
    ("LA Sunday closed", NOLA, None, None, t("2030-01-13 12:00", CT), False, ("sunday_ban",)),
    ("AL Sunday closed", BIRMINGHAM, None, None, t("2030-01-13 12:00", CT), False, ("sunday_ban",)),
    ("SD Saturday closed", SIOUX_FALLS, None, None, t("2030-01-12 12:00", CT), False, ("saturday_ban",)),
    ("SD Sunday closed", SIOUX_FALLS, None, None, t("2030-01-13 12:00", CT), False, ("sunday_ban",)),
    ("SD weekdays 9-21 Mountain: 09:30 CT", SIOUX_FALLS, None, None, t("2030-01-08 09:30", CT), False,
     ("outside_window",)),
    ("SD weekdays 9-21: 10:00 CT", SIOUX_FALLS, None, None, t("2030-01-08 10:00", CT), True, ()),
    ("SD weekdays 9-21: 21:00 CT", SIOUX_FALLS, None, None, t("2030-01-08 21:00", CT), False, ("outside_window",)),
    ("KY 10-21 in Central too: 10:59 ET", LOUISVILLE, None, None, t("2030-01-08 10:59", ET), False,
     ("outside_window",)),
    ("KY 10-21: 11:00 ET", LOUISVILLE, None, None, t("2030-01-08 11:00", ET), True, ()),
    ("AZ summer: Navajo Nation keeps DST, 20:30 MST", PHOENIX, None, None, t("2030-07-09 20:30", AZ), False,
     ("outside_window",)),
    ("AZ summer 08:00 MST", PHOENIX, None, None, t("2030-07-09 08:00", AZ), True, ()),
    ("AZ winter 20:30 MST", PHOENIX, None, None, t("2030-01-08 20:30", AZ), True, ()),
    ("AZ first DST weekday 07:30 MST", PHOENIX, None, None, t("2030-03-11 07:30", AZ), False, ("outside_window",)),
    ("HI 07:59", HONOLULU, None, None, t("2030-01-08 07:59", HT), False, ("outside_window",)),
    ("HI 08:00", HONOLULU, None, None, t("2030-01-08 08:00", HT), True, ()),
    ("AK: Adak is an hour behind Anchorage", ANCHORAGE, None, None, t("2030-01-08 08:30", AKT), False,
     ("outside_window",)),
    ("AK 09:00 AKST", ANCHORAGE, None, None, t("2030-01-08 09:00", AKT), True, ()),
    ("PR 07:59 AST", SAN_JUAN, None, None, t("2030-01-08 07:59", AT), False, ("outside_window",)),
    ("PR 08:00 AST", SAN_JUAN, None, None, t("2030-01-08 08:00", AT), True, ()),
    # overlays and split area codes whose exchange data are thin: every zone of the area code and of its state
    ("458 overlay (Oregon, Mountain in Malheur County): 20:00 PT", "+14585554123", None, None,
     t("2030-01-08 20:00", PT), False, ("outside_window",)),
    ("458 overlay: 19:58 PT", "+14585554123", None, None, t("2030-01-08 19:58", PT), True, ()),
    ("208 Idaho, Pacific in the north: 07:30 PT is 08:30 MT", "+12085554123", None, None, t("2030-01-08 07:30", PT),
     False, ("outside_window",)),
    ("364 Kentucky overlay: 10:30 ET", "+13645554123", None, None, t("2030-01-08 10:30", ET), False,
     ("outside_window",)),
    ("317 Indianapolis, Hammond ZIP (Central): 08:30 ET", "+13175554123", None, "46320", t("2030-01-08 08:30", ET),
     False, ("outside_window",)),
    ("317 Indianapolis, Hammond ZIP: 09:00 ET", "+13175554123", None, "46320", t("2030-01-08 09:00", ET), True, ()),
    ("NY number, Ontario OR ZIP (Boise; Oregon is Pacific too): 10:59 ET", NY, None, "97914",
     t("2030-01-08 10:59", ET), False, ("outside_window",)),
    ("NY number, Ontario OR ZIP: 11:00 ET", NY, None, "97914", t("2030-01-08 11:00", ET), True, ()),
    # the lead's state and ZIP code count as well as the number's area code: the strictest combination wins
    ("NY number, RI lead: 18:00", NY, "RI", None, t("2030-01-08 18:00", ET), False, ("outside_window",)),
    ("NY number, RI lead (lower case): 18:00", NY, "ri", None, t("2030-01-08 18:00", ET), False,
     ("outside_window",)),
    ("NY number, RI ZIP: 18:00", NY, None, "02903", t("2030-01-08 18:00", ET), False, ("outside_window",)),
    ("NY number, RI ZIP+4: 18:00", NY, None, "02903-1234", t("2030-01-08 18:00", ET), False, ("outside_window",)),
    ("NY number, RI ZIP: 17:58", NY, None, "02903", t("2030-01-08 17:58", ET), True, ()),
    ("NY number, El Paso ZIP, Sunday 13:59 ET", NY, None, "79901", t("2030-01-13 13:59", ET), False,
     ("outside_window",)),
    ("NY number, El Paso ZIP, Sunday 14:00 ET", NY, None, "79901", t("2030-01-13 14:00", ET), True, ()),
    ("NY number, CA lead: 10:59 ET is 07:59 PT", NY, "CA", None, t("2030-01-08 10:59", ET), False,
     ("outside_window",)),
    ("NY number, CA lead: 11:00 ET", NY, "CA", None, t("2030-01-08 11:00", ET), True, ()),
    ("NY number, UT lead: Sunday", NY, "UT", None, t("2030-01-13 14:00", ET), False, ("sunday_ban",)),
    ("NY number, SD ZIP: Saturday", NY, None, "57104", t("2030-01-12 14:00", ET), False, ("saturday_ban",)),
    ("NY number, MS lead, summer 09:30 ET", NY, "MS", None, t("2030-07-09 09:30", ET), False, ("outside_window",)),
    ("Miami number, NY lead: FL hours still", MIAMI, "NY", None, t("2030-01-08 20:00", ET), False,
     ("outside_window",)),
    # the days around the DST changes
    ("NY Saturday before spring: 08:00 EST", NY, None, None, t("2030-03-09 08:00", ET), True, ()),
    ("NY spring-forward Sunday 07:59 EDT", NY, None, None, t("2030-03-10 07:59", ET), False, ("outside_window",)),
    ("NY spring-forward Sunday 08:00 EDT", NY, None, None, t("2030-03-10 08:00", ET), True, ()),
    ("NY spring-forward Sunday 20:58 EDT", NY, None, None, t("2030-03-10 20:58", ET), True, ()),
    ("NY spring-forward Sunday 21:00 EDT", NY, None, None, t("2030-03-10 21:00", ET), False, ("outside_window",)),
    ("NY Saturday before fall-back 21:00 EDT", NY, None, None, t("2030-11-02 21:00", ET), False,
     ("outside_window",)),
    ("NY fall-back Sunday 07:59 EST", NY, None, None, t("2030-11-03 07:59", ET), False, ("outside_window",)),
    ("NY fall-back Sunday 08:00 EST", NY, None, None, t("2030-11-03 08:00", ET), True, ()),
    ("NY Monday after fall-back 21:00 EST", NY, None, None, t("2030-11-04 21:00", ET), False, ("outside_window",)),
    ("TX spring-forward Sunday 12:59 CDT", SAN_ANTONIO, None, None, t("2030-03-10 12:59", CT), False,
     ("outside_window",)),
    ("TX spring-forward Sunday 13:00 CDT", SAN_ANTONIO, None, None, t("2030-03-10 13:00", CT), True, ()),
    # holidays (the state's own, observed days too) and the lead's state bringing them
    ("RI Victory Day", RI, None, None, t("2030-08-12 12:00", ET), False, ("holiday",)),
    ("RI the day after Victory Day", RI, None, None, t("2030-08-13 12:00", ET), True, ()),
    ("RI Independence Day observed on Friday", RI, None, None, t("2026-07-03 12:00", ET), False, ("holiday",)),
    ("LA Mardi Gras", NOLA, None, None, t("2030-03-05 12:00", CT), False, ("holiday",)),
    ("LA Good Friday", NOLA, None, None, t("2030-04-19 12:00", CT), False, ("holiday",)),
    ("UT Pioneer Day", SLC, None, None, t("2030-07-24 12:00", MT), False, ("holiday",)),
    ("AL Confederate Memorial Day", BIRMINGHAM, None, None, t("2030-04-22 12:00", CT), False, ("holiday",)),
    ("NY number, LA lead: Mardi Gras", NY, "LA", None, t("2030-03-05 14:00", ET), False, ("holiday",)),
    ("NY number, RI ZIP: Thanksgiving", NY, None, "02903", t("2030-11-28 12:00", ET), False, ("holiday",)),
]


@pytest.mark.parametrize(("what", "phone", "state", "postal", "at", "allowed", "codes"), CASES,
                         ids=[c[0] for c in CASES])
def test_calling_window_edge(session, store, tmp_path, what, phone, state, postal, at, allowed, codes):
    load_registry(session, store, tmp_path, at)
    if phone in CONSENT_STATES or state == "FL":
        pewc(session, phone, at)
    d = ask(session, phone, at, state=state, postal=postal)
    check(session, d, allowed, codes)
    if not allowed and set(d.codes) <= {"outside_window", "sunday_ban", "saturday_ban", "holiday"}:
        assert d.temporary and d.opens_at is not None and d.opens_at > at  # rescheduled, not closed


@pytest.mark.parametrize(("what", "phone", "at"), [
    ("UT Sunday", SLC, t("2030-01-13 12:00", MT)), ("UT Pioneer Day", SLC, t("2030-07-24 12:00", MT))])
def test_utah_day_bans_yield_to_written_consent_but_not_its_hours(session, store, tmp_path, what, phone, at):
    load_registry(session, store, tmp_path, at)
    pewc(session, phone, at)
    check(session, ask(session, phone, at), True)
    check(session, ask(session, phone, at.replace(hour=7, minute=59)), False, ("outside_window",))


def test_an_ebr_is_not_the_consent_that_lifts_utahs_sunday_ban(session, store, tmp_path):
    at = t("2030-01-13 12:00", MT)
    load_registry(session, store, tmp_path, at)
    pewc(session, SLC, at, kind="ebr_purchase")
    check(session, ask(session, SLC, at), False, ("sunday_ban",))


BLACKOUT_RULES = """
[federal]
weekdays = ["08:00", "21:00"]
saturday = ["08:00", "21:00"]
sunday = ["08:00", "21:00"]

[states.LA]
sunday = "closed"

[[blackouts]]
states = ["LA"]
start = "2030-09-02"
end = "2030-09-04"
code = "emergency_ban"
reason = "declared state of emergency"

[[blackouts]]
start = "2030-12-31"
end = "2030-12-31"
code = "holiday"
reason = "a day the governor declared"
"""


@pytest.mark.parametrize(("what", "phone", "state", "at", "allowed", "codes"), [
    ("LA number, first day of the emergency", NOLA, None, t("2030-09-02 12:00", CT), False, ("emergency_ban",)),
    ("LA number, last day", NOLA, None, t("2030-09-04 19:00", CT), False, ("emergency_ban",)),
    ("LA number, the day after", NOLA, None, t("2030-09-05 12:00", CT), True, ()),
    ("NY number, LA lead, during it", NY, "LA", t("2030-09-03 12:00", ET), False, ("emergency_ban",)),
    ("NY number, not in LA", NY, None, t("2030-09-03 12:00", ET), True, ()),
    ("a blackout everywhere", NY, None, t("2030-12-31 12:00", ET), False, ("holiday",)),
])
def test_declared_no_call_days(session, store, tmp_path, setenv, what, phone, state, at, allowed, codes):
    path = tmp_path / "rules.toml"
    path.write_text(BLACKOUT_RULES, encoding="utf-8")
    setenv(DIALER_DNC_RULES=str(path))
    load_registry(session, store, tmp_path, at)
    check(session, ask(session, phone, at, state=state), allowed, codes)


def test_the_send_margin_is_data(session, store, tmp_path, setenv):
    """A call allowed in a window's last minute would be made after it closes (it is sent after the decision):
    refused, and rescheduled to the next opening, not to the same minute; the margin is a number of the rules."""
    at = t("2030-01-08 20:59:30", ET)
    load_registry(session, store, tmp_path, at)
    d = ask(session, NY, at)
    check(session, d, False, ("outside_window",))
    assert "closes within 60 s" in d.reasons[0].text and d.opens_at == t("2030-01-09 08:00", ET)
    path = tmp_path / "rules.toml"
    path.write_text("send_margin_seconds = 0\n" + BLACKOUT_RULES, encoding="utf-8")
    setenv(DIALER_DNC_RULES=str(path))
    check(session, ask(session, NY, at), True)
