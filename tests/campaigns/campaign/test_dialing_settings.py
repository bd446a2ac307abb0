"""A campaign's dialing settings: typed as people type them, refused with the field's label, every change recorded;
the command line and the service agree."""

from __future__ import annotations

import json

import pytest

from campaigns.campaign import dialing
from campaigns.campaign.history import changes
from campaigns.campaign.service import create_campaign, get_campaign
from dnc.errors import UserError


def test_text_is_parsed_with_units_and_changes_are_recorded(session, clock):
    c = create_campaign(session, "Spring", "+12125550100", clock.now())
    changed = dialing.apply(session, c, {"retry_busy": "0:45", "abandon_target": "2.9 %", "line_cap": "40",
                                         "calling_hours": "9:00 - 20:00", "calling_days": "mon-fri",
                                         "machine_action": "voicemail", "voicemail_message": "Hi, call us back.",
                                         "power_ratio": "2.5", "wrap_limit": "45", "wrap_then": "paused"},
                            "manager-user", clock.now())
    assert set(changed) == {"retry_busy", "abandon_target", "line_cap", "calling_hours", "calling_days",
                            "machine_action", "voicemail_message", "power_ratio", "wrap_limit", "wrap_then"}
    assert (c.retry_busy_s, c.abandon_target, c.max_lines) == (45 * 60, 0.029, 40)
    assert (c.calling_hours, c.calling_days, c.wrap_limit_s, c.wrap_limit_then) == ("09:00-20:00", "12345", 45,
                                                                                    "paused")
    shown = dialing.shown(c)
    assert shown["retry_busy"] == "0:45" and shown["abandon_target"] == "2.9 %" and shown["calling_days"] == "mon-fri"
    rows = {ch.field: ch for ch in changes(session, c.id)}
    assert rows["Retry after busy"].old == "0:30" and rows["Retry after busy"].new == "0:45"
    assert rows["Abandon target"].old == "3 %" and rows["Abandon target"].by == "manager-user"
    assert rows["Line cap"].old == "no cap"
    assert dialing.apply(session, c, {"retry_busy": "0:45"}, "x", clock.now()) == []  # same value: no record
    assert len(changes(session, c.id)) == len(rows)


@pytest.mark.parametrize(("texts", "message"), [
    ({"retry_busy": "90 minutes"}, "Retry after busy: give hours and minutes as h:mm"),
    ({"retry_no_answer": "0:01"}, "Retry after no answer: must be between 0:05 and 168:00 (h:mm)"),
    ({"abandon_target": "4"}, "Abandon target: must be between 0.01 % and 3 %"),
    ({"calling_hours": "07:00-20:00"}, "Calling hours: must stay inside the legal window 08:00-21:00"),
    ({"calling_hours": "20:00-09:00"}, "Calling hours: the start 20:00 must be before the end 09:00"),
    ({"calling_days": "fri-mon"}, "Calling days: a range runs forward in the week"),
    ({"machine_action": "voicemail"}, "Voicemail message: write the message to leave"),
    ({"power_ratio": "9"}, "Power ratio: must be between 1 and 5"),
    ({"max_attempts": "two"}, "Attempts per lead at most: must be a whole number"),
    ({"wrap_then": "lunch"}, "After the wrap-up limit: choose ready or paused"),
    ({"abandon_target": "2.5"}, "Abandon target: must be above the second abandon warning 2.8 %"),
])
def test_bad_values_are_refused_with_the_fields_label(session, clock, texts, message):
    c = create_campaign(session, "Spring", "+12125550100", clock.now())
    with pytest.raises(UserError) as e:
        dialing.apply(session, c, texts, "m", clock.now())
    assert str(e.value).startswith(message), str(e.value)
    assert changes(session, c.id) == []


def test_cli_sets_shows_and_lists_history(dialer, sessions, clock):
    assert dialer("campaigns", "create", "Spring", "--caller-id", "+12125550100").code == 0
    r = dialer("campaigns", "set", "Spring", "retry_machine=8:00", "line-cap=25", "calling_days=weekdays",
               "--by", "ops", "--json")
    assert r.code == 0, r.err
    out = json.loads(r.out)
    assert out["changed"] == ["retry_machine", "line_cap", "calling_days"]
    assert out["settings"]["retry_machine"] == "8:00" and out["settings"]["calling_days"] == "mon-fri"
    r = dialer("campaigns", "set", "Spring", "retry_busy=soon")
    assert r.code == 2 and r.err.strip().startswith("error: Retry after busy: give hours and minutes as h:mm")
    assert "Traceback" not in r.err
    r = dialer("campaigns", "set", "Spring", "colour=red")
    assert r.code == 2 and "'colour' is not a setting" in r.err
    shown = dialer("campaigns", "settings", "Spring")
    assert "Retry after an answering machine" in shown.out and "8:00" in shown.out and "h:mm" in shown.out
    hist = json.loads(dialer("campaigns", "history", "Spring", "--json").out)["changes"]
    assert {(h["field"], h["old"], h["new"], h["by"]) for h in hist} == {
        ("Retry after an answering machine", "6:00", "8:00", "ops"), ("Line cap", "no cap", "25", "ops"),
        ("Calling days", "every day", "mon-fri", "ops")}
    with sessions() as s:
        assert get_campaign(s, "Spring").max_lines == 25
