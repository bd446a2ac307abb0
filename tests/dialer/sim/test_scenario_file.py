"""Scenario files: the shipped ones load, and every mistake names the file, section and field."""

from __future__ import annotations

from pathlib import Path

import pytest

from dialer.sim import load_scenario
from dnc.errors import UserError

SCENARIOS = Path(__file__).resolve().parents[3] / "dialer" / "sim" / "scenarios"


@pytest.mark.parametrize("path", sorted(SCENARIOS.glob("*.toml")), ids=lambda p: p.stem)
def test_shipped_scenarios_load(path):
    sc = load_scenario(path)
    assert sc.name and sc.agents.max_count > 0 and sc.source == str(path)


def write(tmp_path, text: str) -> Path:
    p = tmp_path / "s.toml"
    p.write_text(text)
    return p


@pytest.mark.parametrize("text, message", [
    ("[outcomes]\nlve = 0.3\n", "[outcomes] unknown field lve"),
    ("[outcomes]\nlive = 'lots'\n", "[outcomes] live: must be a number"),
    ("[outcomes]\nlive = 0.5\n", "must add up to 1, got 1.25"),
    ("[agents]\ncount = -1\n", "[agents] count: must be at least 0"),
    ("[agents]\ncount = 0\n", "[agents] count: a floor with no agent never dials"),
    ("[answer]\nring_timeout_s = 12\n", "[answer] ring_timeout_s: must be at least 20"),
    ("[run]\ntimezone = 'Mars/Olympus'\n", "[run] timezone: 'Mars/Olympus' is not an IANA zone"),
    ("[run]\nstart = 'tuesday'\n", "[run] start: must be a local date and time"),
    ("[talk]\ncomponents = [{ weight = 1 }]\n", "[talk.components[0]] median_s: is required"),
    ("[campaign]\npacing_mode = 'turbo'\n", "[campaign] pacing_mode: must be one of preview, progressive"),
    ("[campaign]\nabandon_target = 0.05\n", "[campaign] abandon_target: must be at most 0.03"),
    ("[dispositions]\nYES = 1.0\n", "[dispositions] YES: is not a disposition code"),
    ("[[steps]]\nday = 3\nhour = 13\nlive = 0.1\n", "[[steps]] day: 3 is after the last day"),
    ("[curve]\n25 = 1.0\n", "[curve] 25: hour must be 0-23"),
    ("colour = 'blue'\n", "unknown field colour"),
    ("[run\n", "not valid TOML"),
])
def test_mistakes_name_file_section_and_field(tmp_path, text, message):
    path = write(tmp_path, text)
    with pytest.raises(UserError) as e:
        load_scenario(path)
    assert str(e.value).startswith(f"{path}: ")
    assert message in str(e.value)


def test_missing_file(tmp_path):
    with pytest.raises(UserError, match="no such scenario file"):
        load_scenario(tmp_path / "nope.toml")


def test_fields_read_through(tmp_path):
    sc = load_scenario(write(tmp_path, """
name = "churn"
seed = 9
[run]
days = 2
hours_per_day = 4
start = 2030-03-07T08:30:00
[outcomes]
live = 0.3
machine = 0.2
no_answer = 0.3
busy = 0.1
sit = 0.1
[amd]
delay_s = 2.5
human_as_machine = 0.1
machine_as_human = 0.15
[curve]
9 = 0.7
17 = 1.3
[[steps]]
day = 2
hour = 13
live = 0.12
[drift]
daily = 0.2
[list]
size = 4000
retry_decay = 0.7
[agents]
count = 10
schedule = [{ hour = 2, count = 25 }, { hour = 3, count = 8 }]
break_every_h = 2
logouts_per_hour = 0.1
breaks_said_ahead = true
[campaign]
lines_per_agent = 3
cps = 10
machine_action = "voicemail"
[pacer]
name = "power"
settings = { k = 1.5 }
"""))
    assert (sc.name, sc.seed, sc.run.days, sc.run.start.hour, sc.run.start.minute) == ("churn", 9, 2, 8, 30)
    assert sc.outcomes.live == 0.3 and sc.amd.delay_s == 2.5 and sc.amd.machine_as_human == 0.15
    assert sc.answering.curve == ((9.0, 0.7), (17.0, 1.3)) and sc.answering.steps[0].live == 0.12
    assert sc.answering.retry_decay == 0.7 and sc.answering.daily_drift == 0.2 and sc.list_size == 4000
    assert sc.agents.max_count == 25 and sc.max_lines == 75 and sc.campaign.cps == 10
    assert (sc.pacer, sc.pacer_settings) == ("power", {"k": 1.5})
    assert sc.agents.breaks_said_ahead
