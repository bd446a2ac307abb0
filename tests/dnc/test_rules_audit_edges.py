"""Audit of the edges the other ``test_rules_audit_*`` files leave out, rule by rule against the law
(docs/compliance.md §2-§3): the first and last minute of every state window not audited there (CT, MA, WA, MI, MN,
NM, NV, PA, OK, MD), observed holidays at a year's end, the instant an EBR runs out (month ends too), a registry
version read on the UTC date, state caps across both DST changes, and the calendar day of a record where the law
counts days (the Reassigned Numbers Database's date of consent, the 10 business days, the 5 years): a record is
dated by the earliest calendar day it has anywhere in the United States, never a later one.

Each gate row is asked exactly as the dial loop asks it and checked with its ledger record (``audit_helpers``). The
instants are given on the called party's clock, as the law states them: the gate must read the same instant the
same way whatever zone it arrives in (elapsed hours are elapsed, a UTC date is a UTC date)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import insert

from campaigns.campaign.service import create_campaign
from campaigns.dispatch.models import Call
from campaigns.leads.models import Lead, LeadList
from dnc import consent, internal
from dnc.reassigned import load_rnd
from tests.dnc.audit_helpers import AREA_CODES, ask, check, pewc
from tests.dnc.audit_helpers import load_registry as _load_registry

ET, CT, MT, PT = (ZoneInfo(z) for z in ("America/New_York", "America/Chicago", "America/Denver",
                                         "America/Los_Angeles"))
NY, MIAMI = "+12125554123", "+13055554123"
HARTFORD, BOSTON, SEATTLE, DETROIT, MINNEAPOLIS = ("+12035554123", "+16175554123", "+12065554123", "+13135554123",
                                                   "+16125554123")
ALBUQUERQUE, LAS_VEGAS, PHILADELPHIA, OKC, BALTIMORE, SLC, RI = (
    "+15055554123", "+17025554123", "+12155554123", "+14055554123", "+14105554123", "+18015554123", "+14015554123")
# the area codes dialed here besides the other audits' ones, so the registry snapshot in force covers them all
CODES = (*AREA_CODES, "203", "617", "313", "612", "505", "702", "215")
NEEDS_CONSENT = {OKC, BALTIMORE, MIAMI}  # autodialer rules: consent given, so only the rule audited decides


def load_registry(session, store, tmp_path, at: datetime, *numbers: str, **kw) -> None:
    _load_registry(session, store, tmp_path, at, *numbers, area_codes=CODES, **kw)


def t(text: str, zone: ZoneInfo) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=zone)


# (what, phone, instant, allowed, codes). 2030-01-08 is a Tuesday, 2030-01-12 a Saturday, 2030-01-13 a Sunday.
WINDOW = [
    ("CT 9-20: 08:59", HARTFORD, t("2030-01-08 08:59", ET), False, ("outside_window",)),
    ("CT 9-20: 09:00", HARTFORD, t("2030-01-08 09:00", ET), True, ()),
    ("CT 9-20: 19:58", HARTFORD, t("2030-01-08 19:58", ET), True, ()),
    ("CT 9-20: 20:00", HARTFORD, t("2030-01-08 20:00", ET), False, ("outside_window",)),
    ("MA 8-20: 07:59", BOSTON, t("2030-01-08 07:59", ET), False, ("outside_window",)),
    ("MA 8-20: 08:00", BOSTON, t("2030-01-08 08:00", ET), True, ()),
    ("MA 8-20: Sunday 19:58", BOSTON, t("2030-01-13 19:58", ET), True, ()),
    ("MA 8-20: Sunday 20:00", BOSTON, t("2030-01-13 20:00", ET), False, ("outside_window",)),
    ("WA 8-20: 07:59 PT", SEATTLE, t("2030-01-08 07:59", PT), False, ("outside_window",)),
    ("WA 8-20: 08:00 PT", SEATTLE, t("2030-01-08 08:00", PT), True, ()),
    ("WA 8-20: 20:00 PT", SEATTLE, t("2030-01-08 20:00", PT), False, ("outside_window",)),
    ("MI 9-21 in Central too (Upper Peninsula): 09:59 ET", DETROIT, t("2030-01-08 09:59", ET), False,
     ("outside_window",)),
    ("MI 9-21: 10:00 ET", DETROIT, t("2030-01-08 10:00", ET), True, ()),
    ("MI 9-21: 20:58 ET", DETROIT, t("2030-01-08 20:58", ET), True, ()),
    ("MI 9-21: 21:00 ET", DETROIT, t("2030-01-08 21:00", ET), False, ("outside_window",)),
    ("MN 9-21: 08:59 CT", MINNEAPOLIS, t("2030-01-08 08:59", CT), False, ("outside_window",)),
    ("MN 9-21: 09:00 CT", MINNEAPOLIS, t("2030-01-08 09:00", CT), True, ()),
    ("MN 9-21: 21:00 CT", MINNEAPOLIS, t("2030-01-08 21:00", CT), False, ("outside_window",)),
    ("NM 9-21: 08:59 MT", ALBUQUERQUE, t("2030-01-08 08:59", MT), False, ("outside_window",)),
    ("NM 9-21: 09:00 MT", ALBUQUERQUE, t("2030-01-08 09:00", MT), True, ()),
    ("NM 9-21: 20:58 MT", ALBUQUERQUE, t("2030-01-08 20:58", MT), True, ()),
    ("NV 9-20: 08:59 PT", LAS_VEGAS, t("2030-01-08 08:59", PT), False, ("outside_window",)),
    ("NV 9-20: 09:00 PT", LAS_VEGAS, t("2030-01-08 09:00", PT), True, ()),
    ("NV 9-20 in Mountain too (West Wendover): 18:58 PT", LAS_VEGAS, t("2030-01-08 18:58", PT), True, ()),
    ("NV 9-20 in Mountain too: 19:00 PT is 20:00 MT", LAS_VEGAS, t("2030-01-08 19:00", PT), False,
     ("outside_window",)),
    ("PA weekdays 8-21: 07:59", PHILADELPHIA, t("2030-01-08 07:59", ET), False, ("outside_window",)),
    ("PA Saturday federal: 20:58", PHILADELPHIA, t("2030-01-12 20:58", ET), True, ()),
    ("PA Sunday federal: 08:00", PHILADELPHIA, t("2030-01-13 08:00", ET), True, ()),
    ("PA Sunday federal: 21:00", PHILADELPHIA, t("2030-01-13 21:00", ET), False, ("outside_window",)),
    ("OK 8-20: 07:59 CT", OKC, t("2030-01-08 07:59", CT), False, ("outside_window",)),
    ("OK 8-20: 19:58 CT", OKC, t("2030-01-08 19:58", CT), True, ()),
    ("OK 8-20: 20:00 CT", OKC, t("2030-01-08 20:00", CT), False, ("outside_window",)),
    ("MD 8-20: 08:00", BALTIMORE, t("2030-01-08 08:00", ET), True, ()),
    ("MD 8-20: 19:58", BALTIMORE, t("2030-01-08 19:58", ET), True, ()),
    ("MD 8-20: 20:00", BALTIMORE, t("2030-01-08 20:00", ET), False, ("outside_window",)),
    # observed holidays where a year ends: New Year's Day 2028 is a Saturday, observed on Friday 2027-12-31
    ("UT New Year's Day observed the year before", SLC, t("2027-12-31 12:00", MT), False, ("holiday",)),
    ("UT Christmas observed on Friday", SLC, t("2027-12-24 12:00", MT), False, ("holiday",)),
    ("UT the Thursday before", SLC, t("2027-12-30 12:00", MT), True, ()),
    ("RI Juneteenth observed on Friday", RI, t("2027-06-18 12:00", ET), False, ("holiday",)),
    ("RI Juneteenth itself (a Saturday)", RI, t("2027-06-19 12:00", ET), False, ("holiday",)),
    ("UT Pioneer Day observed on Friday", SLC, t("2027-07-23 12:00", MT), False, ("holiday",)),
]


@pytest.mark.parametrize(("what", "phone", "at", "allowed", "codes"), WINDOW, ids=[c[0] for c in WINDOW])
def test_window_edge(session, store, tmp_path, what, phone, at, allowed, codes):
    load_registry(session, store, tmp_path, at)
    if phone in NEEDS_CONSENT:
        pewc(session, phone, at)
    check(session, ask(session, phone, at), allowed, codes)


AT = datetime(2030, 1, 8, 17, 0, tzinfo=UTC)  # Tuesday 12:00 in New York


def _ebr(session, kind: str, granted: datetime) -> None:
    consent.add(session, NY, kind=kind, granted_at=granted, evidence_ref="invoice", added_by="audit",
                recorded_at=granted)


# (what, kind, granted, call instant, allowed): a registry-listed number, lifted only while the EBR lasts (F10)
EBR = [
    ("purchase: 18 months to the minute, less the send margin", "ebr_purchase", datetime(2028, 7, 8, 17, tzinfo=UTC),
     datetime(2030, 1, 8, 16, 58, 59, tzinfo=UTC), True),
    ("purchase: the send margin reaches the 18 months", "ebr_purchase", datetime(2028, 7, 8, 17, tzinfo=UTC),
     datetime(2030, 1, 8, 16, 59, 30, tzinfo=UTC), False),
    ("purchase: 18 months to the minute", "ebr_purchase", datetime(2028, 7, 8, 17, tzinfo=UTC), AT, False),
    ("purchase on 31 August: lasts to 28 February", "ebr_purchase", datetime(2028, 8, 31, 17, tzinfo=UTC),
     datetime(2030, 2, 28, 16, tzinfo=UTC), True),
    ("purchase on 31 August: over on 1 March", "ebr_purchase", datetime(2028, 8, 31, 17, tzinfo=UTC),
     datetime(2030, 3, 1, 16, tzinfo=UTC), False),
    ("inquiry on 30 November: lasts to 28 February", "ebr_inquiry", datetime(2029, 11, 30, 17, tzinfo=UTC),
     datetime(2030, 2, 28, 16, tzinfo=UTC), True),
    ("inquiry on 30 November: over on 1 March", "ebr_inquiry", datetime(2029, 11, 30, 17, tzinfo=UTC),
     datetime(2030, 3, 1, 16, tzinfo=UTC), False),
]


@pytest.mark.parametrize(("what", "kind", "granted", "at", "allowed"), EBR, ids=[c[0] for c in EBR])
def test_ebr_edge(session, store, tmp_path, what, kind, granted, at, allowed):
    load_registry(session, store, tmp_path, at, NY)
    _ebr(session, kind, granted)
    check(session, ask(session, NY, at), allowed, () if allowed else ("national_dnc",))


def test_the_registry_age_is_read_on_the_utc_date(session, store, tmp_path):
    """19:30 in New York on 8 January is 9 January in UTC: a version of 8 December is 32 days old by then (the
    later of the dates the call has), so it is refused though New York's date makes it 31."""
    at = t("2030-01-08 19:30", ET)
    load_registry(session, store, tmp_path, datetime(2030, 1, 9, tzinfo=UTC), age_days=32)
    check(session, ask(session, NY, at), False, ("registry_stale",))


def _rnd(session, tmp_path, at: datetime, *rows: tuple[str, date]) -> None:
    path = tmp_path / "rnd.csv"
    path.write_text("number,disconnected_on\n" + "".join(f"{n[2:]},{d}\n" for n, d in rows), encoding="utf-8")
    load_rnd(session, path, version_date=at.date(), loaded_by="audit", now=at)


# (what, consent granted, disconnection recorded, allowed, codes): the RND answers by the DATE of consent
RND = [
    ("consent the evening of the disconnection day (the next day in UTC)", t("2029-06-01 21:00", ET),
     date(2029, 6, 1), False, ("reassigned_number",)),
    ("consent the morning after the disconnection", t("2029-06-02 09:00", ET), date(2029, 6, 1), True, ()),
    ("consent the evening before the RND's data begin (27 January 2021 in UTC)", t("2021-01-26 20:00", ET), None,
     False, ("rnd_no_data",)),
    ("consent the day the RND's data begin", t("2021-01-27 09:00", ET), None, True, ()),
]


@pytest.mark.parametrize(("what", "granted", "disconnected", "allowed", "codes"), RND, ids=[c[0] for c in RND])
def test_rnd_date_of_consent(session, store, tmp_path, what, granted, disconnected, allowed, codes):
    load_registry(session, store, tmp_path, AT, NY, rnd=False)
    _rnd(session, tmp_path, AT, *([(NY, disconnected)] if disconnected else [("+12125554199", date(2029, 1, 1))]))
    consent.add(session, NY, kind="pewc", granted_at=granted, evidence_ref="signed form", added_by="audit",
                recorded_at=granted)
    check(session, ask(session, NY, AT), allowed, (*codes, "national_dnc") if codes else ())


def _calls(session, phone: str, *placed: datetime) -> int:
    c = create_campaign(session, "edges", "+12125554100", AT)
    lst = LeadList(campaign_id=c.id, name="edges", sha256="e" * 64, uploaded_at=AT)
    session.add(lst)
    session.flush()
    session.execute(insert(Lead), [{"campaign_id": c.id, "list_id": lst.id, "phone": phone, "custom": {},
                                    "created_at": AT, "updated_at": AT}])
    session.add_all([Call(campaign_id=c.id, phone=phone, placed_at=p, status="ended", outcome="no_answer",
                          ended_at=p + timedelta(seconds=30)) for p in placed])
    session.flush()
    return c.id


FALL = tuple(t(f"2030-11-02 {h}:00", ET) for h in (10, 11, 12))  # a Saturday; the clocks go back that night
SPRING = tuple(t(f"2030-03-09 {h}:00", ET) for h in (10, 11, 12))  # a Saturday; the clocks go forward that night
CAPS = [  # (what, the three earlier calls, the instant asked, allowed): Florida, 3 per 24 h on the local clock
    ("fall back: 23.5 h on the clock (24.5 elapsed)", FALL, t("2030-11-03 09:30", ET), False),
    ("fall back: 24 h on the clock (25 elapsed)", FALL, t("2030-11-03 10:00", ET), True),
    ("spring forward: 24 h on the clock, 23 elapsed", SPRING, t("2030-03-10 10:00", ET), False),
    ("spring forward: 24 h elapsed", SPRING, t("2030-03-10 11:00", ET), True),
    ("the fourth call 23:59 after the first", (AT - timedelta(hours=23, minutes=59), AT - timedelta(hours=2),
                                                AT - timedelta(hours=1)), AT, False),
]


@pytest.mark.parametrize(("what", "before", "at", "allowed"), CAPS, ids=[c[0] for c in CAPS])
def test_cap_edge(session, store, tmp_path, what, before, at, allowed):
    load_registry(session, store, tmp_path, at)
    campaign = _calls(session, MIAMI, *before)
    pewc(session, MIAMI, at)
    check(session, ask(session, MIAMI, at, campaign=campaign), allowed, () if allowed else ("state_cap",))


# (what, received, honor deadline, keep until): 10 business days (weekends and US federal holidays skipped) and 5
# years, counted from the day the request was received wherever in the United States it was sent from
DAYS = [
    ("Friday before Christmas and New Year", datetime(2030, 12, 20, 15, tzinfo=UTC),
     datetime(2031, 1, 7, 15, tzinfo=UTC), datetime(2035, 12, 20, 15, tzinfo=UTC)),
    ("Thursday evening in New York (Friday in UTC), MLK Day on the way", t("2030-01-17 20:00", ET),
     t("2030-02-01 20:00", ET), t("2035-01-17 20:00", ET)),
    ("29 February: kept to 1 March five years on, never a day short", datetime(2028, 2, 29, 15, tzinfo=UTC),
     datetime(2028, 3, 14, 15, tzinfo=UTC), datetime(2033, 3, 1, 15, tzinfo=UTC)),
]


@pytest.mark.parametrize(("what", "received", "deadline", "keep"), DAYS, ids=[c[0] for c in DAYS])
def test_request_days(session, what, received, deadline, keep):
    entry = internal.add_request(session, NY, channel="mail", received_at=received.astimezone(UTC), added_by="desk")
    session.flush()
    session.expire(entry)
    assert (entry.honor_deadline, entry.retain_until) == (deadline, keep)
