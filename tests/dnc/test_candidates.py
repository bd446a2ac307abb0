"""Where the called party may be: every zone of every candidate state counts, the area codes' zones agree with the
ZIP codes they serve (907-581 is Alaska, not Honolulu), and the gate never allows an instant a candidate forbids."""

from __future__ import annotations

import csv
import tomllib
from datetime import UTC, datetime
from importlib import resources
from zoneinfo import ZoneInfo

import holidays
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from dnc import zones as zones_mod
from dnc.errors import UserError
from dnc.gate import evaluate
from dnc.reassigned import RndData
from dnc.tables import Consent
from dnc.window import is_open
from dnc.zone_audit import audit, unsettled
from dnc.zones import candidate_states, candidate_zones, state_zones

PEWC = Consent(id=0, kind="pewc", evidence_ref="signed form", e164="", granted_at=datetime(2029, 1, 1, tzinfo=UTC))


def local(zone: str, *args) -> datetime:
    return datetime(*args, tzinfo=ZoneInfo(zone)).astimezone(UTC)


@pytest.fixture
def decide(session, any_day_registry):
    """The gate's decision with a registry of that day and prior express written consent (unless told not), checked
    against Reassigned Numbers Database data of that day that record no disconnection."""
    def run(number, at, state=None, postal=None, consent=True):
        return evaluate(session, number, campaign=None, at=at, state=state, postal_code=postal,
                        registry=any_day_registry.on(at.date()), consent_context=[PEWC] if consent else [],
                        rnd=RndData(0, 0, at.date()))
    return run


def test_the_leads_own_state_brings_its_zones(decide):
    # a New York cell phone whose owner lives in California: 09:30 in New York is 06:30 in Los Angeles
    d = decide("+16462345678", local("America/Los_Angeles", 2030, 1, 8, 6, 30), state="CA")
    assert not d.allowed and "outside_window" in d.codes and "America/Los_Angeles" in d.zones
    assert decide("+16462345678", local("America/Los_Angeles", 2030, 1, 8, 8, 0), state="CA").allowed
    # a Texas lead on a New York number, Sunday 11:30 Central: Texas allows Sundays from noon, in its own zones
    sunday = local("America/Chicago", 2030, 1, 13, 11, 30)
    d = decide("+16462345678", sunday, state="TX")
    assert not d.allowed and "outside_window" in d.codes
    assert {"America/Chicago", "America/Denver"} <= set(d.zones)
    assert d.opens_at == local("America/Denver", 2030, 1, 13, 12, 0)  # El Paso's noon: the last zone to open


def test_a_state_without_a_known_zone_is_not_callable(decide):
    at = local("America/New_York", 2030, 1, 8, 12, 0)
    assert state_zones("AE") == frozenset()  # Armed Forces Europe: ZIP codes without a zone
    for state, postal in (("AE", None), (None, "09001"), ("ZZ", None)):
        d = decide("+12122345678", at, state=state, postal=postal)
        assert not d.allowed and "unknown_zone" in d.codes and not d.temporary, (state, postal)
    assert decide("+12122345678", at, state="NY").allowed


def test_alaska_is_not_called_on_honolulu_time(decide):
    assert "Pacific/Honolulu" not in candidate_zones("+19075812345")  # phonenumbers says Honolulu for 907-581
    assert candidate_zones("+19075812345") == candidate_zones("+19072345678")
    # summer: 09:00 in Anchorage is 08:00 in Adak (Aleutians): the first legal minute for an Alaska number
    for number in ("+19075812345", "+19072345678"):
        assert decide(number, local("America/Anchorage", 2030, 7, 9, 9, 0)).allowed, number
        assert not decide(number, local("America/Anchorage", 2030, 7, 9, 8, 59)).allowed, number


def test_area_code_zones_agree_with_their_zip_codes():
    assert unsettled(audit()) == []
    assert "Pacific/Honolulu" not in zones_mod.area_code_zones("907")
    assert "America/Chicago" in candidate_zones("+14482345678")  # Panama City overlay: Central as well
    assert candidate_zones("+16892345678") == ("America/New_York",)  # Orlando overlay: not Central


def test_a_bad_zone_fix_is_refused(monkeypatch):
    monkeypatch.setattr(zones_mod, "_data", lambda name: [{"prefix": "90", "action": "set", "zones": "X"}])
    zones_mod.zone_fixes.cache_clear()
    try:
        with pytest.raises(UserError, match="npa_zone_fixes.csv line 2"):
            zones_mod.zone_fixes()
    finally:
        zones_mod.zone_fixes.cache_clear()


# --- the property: never an instant outside the window of any candidate zone of any candidate state ---------------

def _rows(name: str) -> list[dict]:
    text = resources.files("dnc").joinpath(f"data/{name}").read_text(encoding="utf-8")
    return list(csv.DictReader(text.splitlines()))


ZIPS = {r["zip"]: (r["timezone"], r["state"]) for r in _rows("zip_zones.csv")}
NPA_STATES = {r["npa"]: set(r["states"].split()) for r in _rows("npa_states.csv")}
STATE_ZONES: dict[str, set[str]] = {}
for _zone, _state in ZIPS.values():
    STATE_ZONES.setdefault(_state, set()).update([_zone] if _zone else [])
RULES = tomllib.loads(resources.files("dnc").joinpath("data/rules.toml").read_text(encoding="utf-8"))
AREA_CODES = ["212", "646", "305", "850", "448", "689", "907", "808", "915", "602", "928", "801", "405", "410",
              "512", "787", "208", "541", "270", "423", "605", "701", "775", "812", "906", "401", "228", "504"]
ZIP_SAMPLE = sorted(ZIPS)[::97] + ["79901", "32501", "86515", "99685", "84101", "09001"]
STATES = ["CA", "TX", "FL", "UT", "RI", "MS", "LA", "AZ", "IN", "KY", "NY", "AK", "HI", "AE", "ZZ"]


def _minutes(hhmm: str) -> int:
    return int(hhmm[:2]) * 60 + int(hhmm[3:])


def _forbidden(at: datetime, zone: str, state: str | None, consent: bool) -> str | None:
    """Why the federal rule or ``state``'s rule forbids a call at ``at`` in ``zone`` (from the rules file alone)."""
    local_t = at.astimezone(ZoneInfo(zone))
    rule = {**RULES["federal"], **(RULES["states"].get(state, {}) if state else {})}
    day = ("weekdays",) * 5 + ("saturday", "sunday")
    key = day[local_t.weekday()]
    lifted = set(rule.get("consent_lifts", ())) if consent and state else set()
    if rule.get("holidays") == "closed" and "holidays" not in lifted and local_t.date() in holidays.US(
            subdiv=state, years=local_t.year):
        return f"holiday in {state}"
    window = rule.get(key)
    if window == "closed":
        return None if key in lifted else f"{key} closed in {state}"
    minute = local_t.hour * 60 + local_t.minute
    readings = [minute]
    if rule.get("standard_time") and local_t.dst():
        readings.append(minute - int(local_t.dst().total_seconds() // 60))
    if any(not _minutes(window[0]) <= m < _minutes(window[1]) for m in readings):
        return f"{local_t:%a %H:%M} in {zone} outside {window} ({state or 'federal'})"
    return None


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(npa=st.sampled_from(AREA_CODES), nxx=st.integers(200, 999), line=st.integers(0, 9999),
       state=st.one_of(st.none(), st.sampled_from(STATES)), postal=st.one_of(st.none(), st.sampled_from(ZIP_SAMPLE)),
       consent=st.booleans(),
       at=st.datetimes(min_value=datetime(2030, 1, 1), max_value=datetime(2030, 12, 31, 23, 59),
                       timezones=st.just(UTC)))
@example(npa="646", nxx=234, line=5678, state="CA", postal=None, consent=True,
         at=datetime(2030, 1, 8, 14, 30, tzinfo=UTC))  # 06:30 in Los Angeles
@example(npa="646", nxx=234, line=5678, state="TX", postal=None, consent=True,
         at=datetime(2030, 1, 13, 17, 30, tzinfo=UTC))  # Sunday 11:30 in Chicago
def test_the_gate_never_allows_an_instant_a_candidate_forbids(decide, npa, nxx, line, state, postal, consent, at):
    number = f"+1{npa}{nxx}{line:04d}"
    d = decide(number, at, state, postal, consent)
    if not d.allowed:
        return
    states = set(NPA_STATES.get(npa, ())) | ({ZIPS[postal][1]} if postal in ZIPS else set()) | \
        ({state} if state else set())
    zones = set(candidate_zones(number, postal))  # the number's and the ZIP code's (audited separately)
    for s in states:
        assert STATE_ZONES.get(s), f"allowed although {s} has no known zone"
        zones |= STATE_ZONES[s]
    assert zones <= set(d.zones)
    for zone in zones:
        for s in [None, *states]:
            why = _forbidden(at, zone, s, consent)
            assert why is None, f"{number} state={state} zip={postal} allowed at {at}: {why}"


def test_the_oracle_itself_catches_a_forbidden_instant():
    # the property's own check must see what the gate must refuse, or the property proves nothing
    assert _forbidden(local("America/Los_Angeles", 2030, 1, 8, 6, 30), "America/Los_Angeles", "CA", True)
    assert _forbidden(local("America/Chicago", 2030, 1, 13, 11, 30), "America/Chicago", "TX", True)
    assert _forbidden(local("America/Denver", 2030, 1, 13, 12, 0), "America/Denver", "UT", False)
    assert _forbidden(local("America/Denver", 2030, 1, 13, 12, 0), "America/Denver", "UT", True) is None
    assert is_open(["America/New_York"], candidate_states("+16462345678", None, "CA"),
                   local("America/Los_Angeles", 2030, 1, 8, 6, 30))[0] is False
    assert _forbidden(local("America/Chicago", 2030, 7, 8, 8, 30), "America/Chicago", "MS", True)
