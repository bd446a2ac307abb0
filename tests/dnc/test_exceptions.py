"""Smaller holes of the audit: Utah's consent exception, fictional and unassigned numbers, ``dnc check --json`` on a
number nobody can be called at, and Florida's unsettled click-to-dial question as a named rule."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from importlib import resources
from zoneinfo import ZoneInfo

from campaigns.dispatch.rules import Candidate
from campaigns.dispatch.service import dnc_gate
from dnc import consent
from dnc.gate import evaluate
from dnc.reassigned import RndData
from dnc.rules import current_rules
from dnc.scrub import DncScrubber

UTAH = "+18012345678"


def local(zone: str, *args) -> datetime:
    return datetime(*args, tzinfo=ZoneInfo(zone)).astimezone(UTC)


def _grant(session, number, kind, at):
    consent.add(session, number, kind=kind, granted_at=at - timedelta(days=30), evidence_ref=f"{kind} form 7",
                added_by="sales", recorded_at=at - timedelta(days=30))


def test_utah_sunday_and_holiday_ban_yields_to_prior_express_consent(session, any_day_registry):
    sunday = local("America/Denver", 2030, 1, 13, 12, 0)
    pioneer_day = local("America/Denver", 2030, 7, 24, 12, 0)

    def codes(at):
        return evaluate(session, UTAH, campaign=1, at=at, registry=any_day_registry.on(at.date()),
                        rnd=RndData(0, 0, at.date())).codes  # RND data of the day, no disconnection recorded

    assert codes(sunday) == ("sunday_ban",) and codes(pioneer_day) == ("holiday",)
    _grant(session, UTAH, "ebr_purchase", sunday)  # a business relationship is not consent
    assert codes(sunday) == ("sunday_ban",)
    _grant(session, UTAH, "pewc", sunday)
    assert codes(sunday) == () and codes(pioneer_day) == ()
    assert codes(sunday - timedelta(hours=4, minutes=30)) == ("outside_window",)  # 07:30: the hours still hold
    assert current_rules().states["UT"].consent_lifts == {"sunday", "holidays"}


def test_fictional_and_unassigned_numbers_are_invalid(session, registry, sessions):
    store = registry()
    noon = datetime(2030, 1, 8, 17, 0, tzinfo=UTC)
    for number in ("+12125550100", "+12125550155", "+12125550199", "+15555552345", "+19112345678"):
        d = evaluate(session, number, campaign=1, at=noon, registry=store)
        assert d.codes == ("invalid_number",) and not d.temporary, number
    assert "reserved for fiction" in evaluate(session, "+12125550123", campaign=1, at=noon, registry=store) \
        .reasons[0].text
    for number in ("+12125550099", "+12125550200", "+12125551234"):  # the neighbours are ordinary numbers
        assert evaluate(session, number, campaign=1, at=noon, registry=store).allowed, number
    session.commit()  # the read transaction holds SQLite's write lock (as in the product): end it before the scrubber

    class Cand:
        def __init__(self, e164):
            self.e164, self.state, self.postal_code, self.zones = e164, None, None, ("America/New_York",)

    scrub = DncScrubber(sessions, campaign=1, at=noon, operator="t", store=store)
    assert scrub([Cand("+12125550142"), Cand("+12125550242")]) == [("invalid_number",), ()]


def test_dnc_check_json_answers_for_a_number_nobody_can_be_called_at(dialer):
    for number in ("911", "+15555552345", "(212) 555-0123"):
        r = dialer("dnc", "check", number, "--at", "2030-01-08T17:00:00Z", "--json")
        assert r.code == 0, r.err
        out = json.loads(r.out)
        assert out["allowed"] is False and out["codes"] == ["invalid_number"], out
        assert out["reasons"][0]["code"] == "invalid_number" and out["reasons"][0]["text"]
    text = dialer("dnc", "check", "911", "--at", "2030-01-08T17:00:00Z")
    assert text.code == 0 and "NOT ALLOWED" in text.out and "invalid_number" in text.out


def test_click_to_dial_into_florida_is_refused_by_a_named_rule(session, registry, tmp_path, setenv):
    registry()  # the gate's default store: DIALER_DNC_DIR of the test
    miami_noon = local("America/New_York", 2030, 1, 8, 12, 0)
    d = dnc_gate(session, Candidate(1, 1, "+13052345678", "FL", None, (), "click_to_dial"), miami_noon)
    assert d.codes == ("autodialer_no_consent",)
    assert "click_to_dial_is_automated" in d.reasons[0].text and "unsettled" in d.reasons[0].text
    predictive = dnc_gate(session, Candidate(2, 1, "+13052345679", "FL", None, ()), miami_noon)
    assert predictive.codes == ("autodialer_no_consent",) and "click_to_dial" not in predictive.reasons[0].text
    # counsel settles the question the other way: the rules file, not the code, changes
    rules = tmp_path / "rules.toml"
    text = resources.files("dnc").joinpath("data/rules.toml").read_text(encoding="utf-8")
    rules.write_text(text.replace("[readings.click_to_dial_is_automated]\nholds = true",
                                  "[readings.click_to_dial_is_automated]\nholds = false"))
    setenv(DIALER_DNC_RULES=str(rules))
    assert current_rules().reading("click_to_dial_is_automated").holds is False
    assert dnc_gate(session, Candidate(1, 1, "+13052345678", "FL", None, (), "click_to_dial"), miami_noon).allowed
    assert not dnc_gate(session, Candidate(2, 1, "+13052345679", "FL", None, ()), miami_noon).allowed
