"""The fake Twilio's own contract: script files (per number, default, weighted mix) with errors named, the stats
endpoint the benchmark reads, and its figures of CPS and queueing."""

from __future__ import annotations

import json

import pytest
import requests

from dialer.carriers.twilio.fake import load_scripts
from dialer.carriers.twilio.fake.server import max_calls_in_window, max_queue_s
from dnc.errors import UserError
from tests.dialer.carriers.twilio.support import ACCOUNT_SID, AUTH_TOKEN, fake_twilio


def test_script_file_with_default_numbers_and_a_weighted_mix(tmp_path):
    path = tmp_path / "s.json"
    path.write_text(json.dumps({"default": {"answer": "busy"}, "+12125550100": {"answer": "machine", "amd_s": 1},
                                "mix": [{"weight": 3, "answer": "human", "talk_s": 2}, {"weight": 1}]}))
    default, scripts, mix = load_scripts(path)
    assert default.answer == "busy" and scripts["+12125550100"].answered_by == "machine_start"
    assert [(s.answer, s.talk_s, w) for s, w in mix] == [("human", 2, 3), ("human", 0.1, 1)]


@pytest.mark.parametrize("body, message", [
    ('{"x": {"answer": "maybe"}}', "x: script answer 'maybe'"),
    ('{"x": {"ring": 1}}', "unknown field(s) ring"),
    ('{"mix": [{"answer": "busy"}]}', 'mix[0] needs a positive number "weight"'),
    ('{"x": ', "line 1, column 7"),
    ('[1]', "expected a JSON object"),
])
def test_script_file_mistakes_are_named(tmp_path, body, message):
    path = tmp_path / "bad.json"
    path.write_text(body)
    with pytest.raises(UserError, match=message.replace("(", r"\(").replace(")", r"\)").replace("[", r"\[")):
        load_scripts(path)


def test_stats_need_the_accounts_credentials_and_count_what_was_created():
    with fake_twilio() as fake:
        url = f"{fake.api_base}/_fake/stats"
        assert requests.get(url, timeout=5).status_code == 401
        stats = requests.get(url, auth=(ACCOUNT_SID, AUTH_TOKEN), timeout=5).json()
        assert stats["calls"] == [] and stats["create_times"] == [] and stats["live"] == 0


def test_cps_figures():
    assert max_calls_in_window([0.0, 0.1, 0.95, 1.0, 1.05], 1.0) == 4  # 0.1 ... 1.05 is under a second
    assert max_queue_s([0.0, 0.0, 0.0], 10) == pytest.approx(0.2)
    assert max_queue_s([0.0, 0.1, 0.2], 10) == pytest.approx(0.0)
