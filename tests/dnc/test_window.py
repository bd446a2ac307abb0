"""The calling window across DST, split area codes, Arizona, Hawaii, Alaska, Puerto Rico and ZIP disagreement."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dnc.rules import parse_rules
from dnc.window import is_open, next_opening, window_applied
from dnc.zones import candidate_states, candidate_zones

US_ZONES = ["America/New_York", "America/Chicago", "America/Denver", "America/Phoenix", "America/Los_Angeles",
            "America/Anchorage", "America/Adak", "Pacific/Honolulu", "America/Puerto_Rico", "America/Boise",
            "America/Indiana/Indianapolis", "America/St_Johns"]
STATES = ["FL", "OK", "MD", "TX", "UT", "RI", "MS", "LA", "AL", "KY", "CT", "SD", "NY", "CA", "AZ", "HI", "AK", "PR"]
# the DST changes of 2030 and their neighbourhood are where naive code breaks
DST_DAYS = [date(2030, 3, 10), date(2030, 11, 3), date(2031, 3, 9), date(2031, 11, 2)]

instants = st.one_of(
    st.datetimes(min_value=datetime(2030, 1, 1), max_value=datetime(2031, 12, 31), timezones=st.just(UTC)),
    st.builds(lambda d, m: datetime.combine(d, datetime.min.time(), UTC) + timedelta(minutes=m),
              st.sampled_from(DST_DAYS), st.integers(-36 * 60, 36 * 60)),
)
zone_sets = st.sets(st.sampled_from(US_ZONES), min_size=1, max_size=3)
state_sets = st.sets(st.sampled_from(STATES), max_size=3)


def local(zone: str, *args) -> datetime:
    return datetime(*args, tzinfo=ZoneInfo(zone)).astimezone(UTC)


@settings(max_examples=150, deadline=None)
@given(zones=zone_sets, states=state_sets, at=instants)
def test_open_only_when_every_zone_and_state_allows(zones, states, at):
    ok, reasons = is_open(zones, states, at)
    assert ok == (not reasons)
    if ok:
        assert all(is_open([z], states, at)[0] for z in zones)
        assert all(is_open(zones, [s], at)[0] for s in states)
        for z in zones:  # the federal 08:00-21:00 always holds in every candidate zone
            t = at.astimezone(ZoneInfo(z))
            assert 8 <= t.hour < 21
    else:
        assert all(r.code in {"outside_window", "sunday_ban", "saturday_ban", "holiday", "emergency_ban"}
                   for r in reasons)


@settings(max_examples=60, deadline=None)
@given(zones=zone_sets, states=state_sets, at=instants)
def test_next_opening_is_the_first_open_instant(zones, states, at):
    opens = next_opening(zones, states, at)
    if opens is None:  # then nothing opens within the horizon (checked coarsely: every 15 minutes for 14 days)
        assert not any(is_open(zones, states, at + timedelta(minutes=15 * k))[0] for k in range(14 * 96))
        return
    assert opens >= at and is_open(zones, states, opens)[0]
    t = at
    while t < opens:  # windows open on whole (quarter-)hours, so a 15-minute walk finds any earlier opening
        assert not is_open(zones, states, t)[0], f"open at {t}, before next_opening {opens}"
        t = (t + timedelta(minutes=15)).replace(second=0, microsecond=0)
        t -= timedelta(minutes=t.minute % 15)


@settings(max_examples=100, deadline=None)
@given(zone=st.sampled_from(US_ZONES), day=st.one_of(st.sampled_from(DST_DAYS),
                                                      st.dates(date(2030, 1, 1), date(2031, 12, 31))))
def test_federal_window_is_8_to_21_local_even_on_dst_days(zone, day):
    tz = ZoneInfo(zone)

    def at(h, m):
        return datetime(day.year, day.month, day.day, h, m, tzinfo=tz).astimezone(UTC)

    assert not is_open([zone], [], at(7, 59))[0]
    assert is_open([zone], [], at(8, 0))[0]
    assert is_open([zone], [], at(20, 59))[0]
    assert not is_open([zone], [], at(21, 0))[0]


def test_split_area_code_850():
    central, eastern = candidate_zones("+18504341234"), candidate_zones("+18502221234")
    assert "America/Chicago" in central and "America/Chicago" in eastern and "America/New_York" in eastern
    # 08:30 Eastern is 07:30 Central: a Pensacola exchange may not be called yet
    assert not is_open(central, ["FL"], local("America/New_York", 2030, 1, 8, 8, 30))[0]
    # FL closes at 20:00: 19:30 Central = 20:30 Eastern, closed for a Tallahassee-area candidate
    assert not is_open(eastern, ["FL"], local("America/Chicago", 2030, 1, 8, 19, 30))[0]
    assert is_open(central, ["FL"], local("America/New_York", 2030, 1, 8, 12, 0))[0]


def test_arizona_has_no_dst_and_navajo_nation_does():
    phx = candidate_zones("+16025551234")
    assert phx == ("America/Phoenix",)
    summer_8am_mst = datetime(2030, 7, 1, 15, 0, tzinfo=UTC)  # 08:00 in Phoenix, 09:00 in Denver
    assert is_open(phx, ["AZ"], summer_8am_mst)[0]
    assert not is_open(phx, ["AZ"], summer_8am_mst - timedelta(minutes=1))[0]
    both = ("America/Denver", "America/Phoenix")  # 928-871 Window Rock: Denver and Phoenix
    winter = [datetime(2030, 1, 8, h, m, tzinfo=UTC) for h in range(24) for m in (0, 30)]
    assert sum(is_open(both, ["AZ"], t)[0] for t in winter) / 2 == 13  # same clock in winter: the full 13 h
    summer = [datetime(2030, 7, 8, h, m, tzinfo=UTC) for h in range(24) for m in (0, 30)]
    assert sum(is_open(both, ["AZ"], t)[0] for t in summer) / 2 == 12  # an hour apart in summer


def test_hawaii_alaska_puerto_rico():
    assert candidate_zones("+18085551234") == ("Pacific/Honolulu",)
    assert is_open(["Pacific/Honolulu"], ["HI"], local("Pacific/Honolulu", 2030, 7, 1, 8, 0))[0]
    assert not is_open(["Pacific/Honolulu"], ["HI"], local("America/Los_Angeles", 2030, 7, 1, 10, 0))[0]
    ak = candidate_zones("+19075551234")
    assert "America/Anchorage" in ak and "America/Adak" in ak
    assert not is_open(ak, ["AK"], local("America/Anchorage", 2030, 7, 1, 8, 30))[0]  # 07:30 in Adak
    pr = candidate_zones("+17875551234")
    assert pr == ("America/Puerto_Rico",)
    # Puerto Rico keeps AST all year: 08:00 AST is 07:00 EST in winter, 08:00 EDT in summer
    assert is_open(pr, ["PR"], local("America/New_York", 2030, 1, 8, 7, 0))[0]
    assert not is_open(pr, ["PR"], local("America/New_York", 2030, 7, 8, 7, 0))[0]


def test_zip_and_area_code_disagree():
    zones = candidate_zones("+12125551234", "90210")  # a New York number, a Beverly Hills address
    states = candidate_states("+12125551234", "90210", "CA")
    assert {"America/New_York", "America/Los_Angeles"} <= set(zones) and {"NY", "CA"} <= states
    assert not is_open(zones, states, local("America/New_York", 2030, 1, 8, 10, 0))[0]  # 07:00 in LA
    assert is_open(zones, states, local("America/New_York", 2030, 1, 8, 11, 0))[0]
    assert not is_open(zones, states, local("America/New_York", 2030, 1, 8, 21, 0))[0]
    assert next_opening(zones, states, local("America/New_York", 2030, 1, 8, 9, 0)) == \
        local("America/New_York", 2030, 1, 8, 11, 0)


def test_state_days_holidays_and_standard_time():
    ut = ["America/Denver"]
    sunday = local("America/Denver", 2030, 1, 13, 12, 0)
    ok, reasons = is_open(ut, ["UT"], sunday)
    assert not ok and [r.code for r in reasons] == ["sunday_ban"]
    pioneer_day = local("America/Denver", 2030, 7, 24, 12, 0)
    ok, reasons = is_open(ut, ["UT"], pioneer_day)
    assert not ok and reasons[0].code == "holiday" and "Pioneer Day" in reasons[0].text
    assert next_opening(ut, ["UT"], pioneer_day) == local("America/Denver", 2030, 7, 25, 8, 0)
    tx_sunday = local("America/Chicago", 2030, 1, 13, 11, 0)
    assert not is_open(["America/Chicago"], ["TX"], tx_sunday)[0]
    # Texas also keeps Mountain time (El Paso): its Sunday noon there is 13:00 Central
    assert next_opening(["America/Chicago"], ["TX"], tx_sunday) == local("America/Denver", 2030, 1, 13, 12, 0)
    # Mississippi's 8-20 is standard time: in summer 08:30 CDT is 07:30 CST, closed; 09:00 CDT opens
    ms = ["America/Chicago"]
    assert not is_open(ms, ["MS"], local("America/Chicago", 2030, 7, 8, 8, 30))[0]
    assert next_opening(ms, ["MS"], local("America/Chicago", 2030, 7, 8, 8, 30)) == \
        local("America/Chicago", 2030, 7, 8, 9, 0)
    assert is_open(ms, ["MS"], local("America/Chicago", 2030, 1, 8, 8, 30))[0]
    assert window_applied(ms, ["MS"], local("America/Chicago", 2030, 7, 8, 12, 0)) == {"America/Chicago":
                                                                                        "09:00-20:00"}


def test_unknown_zone_is_never_callable():
    ok, reasons = is_open([], ["NY"], datetime(2030, 1, 8, 17, 0, tzinfo=UTC))
    assert not ok and reasons[0].code == "unknown_zone"
    assert next_opening([], ["NY"], datetime(2030, 1, 8, 17, 0, tzinfo=UTC)) is None
    assert candidate_zones("+18005551234") == ()  # toll-free: every zone, i.e. none known


def test_rules_come_from_data():
    text = """
    [federal]
    weekdays = ["10:00", "12:00"]
    saturday = "closed"
    sunday = "closed"
    """
    with pytest.raises(Exception, match="federal rule needs"):
        parse_rules(text, "r.toml")
    rules = parse_rules(text.replace('"closed"', '["10:00", "12:00"]'), "r.toml")
    assert not is_open(["America/New_York"], [], local("America/New_York", 2030, 1, 8, 9, 0), rules)[0]
    assert is_open(["America/New_York"], [], local("America/New_York", 2030, 1, 8, 10, 0), rules)[0]
    with pytest.raises(Exception, match=r"r.toml: \[states.FL\].weekdays: .*not a time"):
        parse_rules(text.replace('"closed"', '["10:00", "12:00"]') + '[states.FL]\nweekdays = ["25:00", "26:00"]\n',
                    "r.toml")
