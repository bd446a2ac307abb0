"""Audit of what the gate does with location data it cannot read, and of the state call caps.

Where the called party may be comes from the number (area code and exchange), the lead's ZIP code and the lead's
state. Data that is missing from a source leaves the other sources to decide; data that is there but cannot be
read (a ZIP code nobody knows, a state that is not one, a number with no place of its own) fails closed with a
reason saying so; so does an unreadable rules file (the gate raises, nothing is dialed).
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from dnc.errors import UserError
from tests.dnc.audit_helpers import ask, check, load_registry

AT = datetime(2030, 1, 8, 17, 0, tzinfo=UTC)  # Tuesday 12:00 in New York
NY = "+12125554123"

LOCATION_CASES = [  # (what, phone, state, ZIP, allowed, codes)
    ("a number with no ZIP and no state", NY, None, None, True, ()),
    ("an empty ZIP and state", NY, "", "", True, ()),
    ("a ZIP code nobody knows", NY, None, "00000", False, ("unknown_zone",)),
    ("a ZIP code that is not one", NY, None, "ABCDE", False, ("unknown_zone",)),
    ("a ZIP code too short to read", NY, None, "212", False, ("unknown_zone",)),
    ("a state that is not one", NY, "XX", None, False, ("unknown_zone",)),
    ("a state written out", NY, "Florida", None, False, ("unknown_zone",)),
    ("a military state", NY, "AE", None, False, ("unknown_zone",)),
    ("a toll-free number", "+18005554123", None, None, False, ("unknown_zone",)),
    ("a toll-free number with a ZIP code", "+18005554123", None, "10001", False, ("unknown_zone",)),
    ("a toll-free number with a state", "+18005554123", "NY", None, False, ("unknown_zone",)),
    ("a Canadian number (no US state)", "+14165554123", None, None, False, ("unknown_zone",)),
    ("a Canadian number with a NY ZIP code", "+14165554123", None, "10001", False, ("unknown_zone",)),
    ("a fictional 555-01xx number", "+12125550150", None, None, False, ("invalid_number",)),
    ("a number too short", "+1212555412", None, None, False, ("invalid_number",)),
    ("a number outside the plan", "+442079460000", None, None, False, ("invalid_number",)),
]


@pytest.mark.parametrize(("what", "phone", "state", "postal", "allowed", "codes"), LOCATION_CASES,
                         ids=[c[0] for c in LOCATION_CASES])
def test_unreadable_location_fails_closed(session, store, tmp_path, what, phone, state, postal, allowed, codes):
    load_registry(session, store, tmp_path, AT)
    d = ask(session, phone, AT, state=state, postal=postal)
    check(session, d, allowed, codes)
    if not allowed:
        assert not d.temporary and d.opens_at is None  # waiting does not help: the lead is closed, not retried


def test_an_unreadable_rules_file_stops_the_gate(session, store, tmp_path, setenv):
    load_registry(session, store, tmp_path, AT)
    bad = tmp_path / "rules.toml"
    bad.write_text('[federal]\nweekdays = ["08:00", "25:00"]\n', encoding="utf-8")
    setenv(DIALER_DNC_RULES=str(bad))
    with pytest.raises(UserError):
        ask(session, NY, AT)
    setenv(DIALER_DNC_RULES=str(tmp_path / "missing.toml"))
    with pytest.raises(UserError):
        ask(session, NY, AT)
