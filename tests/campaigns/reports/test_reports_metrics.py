"""The pure metric definitions: hand-computed answers and the zero-denominator edges."""

from __future__ import annotations

import pytest

from campaigns.reports import metrics as m


def test_no_dials_gives_none_never_a_division_error():
    empty = m.FloorCounts()
    rates = empty.rates()
    assert set(rates) <= set(m.GLOSSARY)
    assert all(v is None for v in rates.values())
    assert m.hit_rate(0, 0) is None
    assert m.abandon_rate(0, 0) is None
    assert m.list_close_rate(0, m.prospects(0, 0, 0)) is None


def test_hand_computed_rates():
    c = m.FloorCounts(dials=40, live_answers=12, contacts=10, abandoned=2, closes=3, dnc_requests=1, completed=4,
                      first_contacts=8, first_contact_closes=2, handled=10, talk_seconds=1500, wrap_seconds=300,
                      ready_seconds=1200, agent_talk_seconds=1500, agent_wrap_seconds=300, paused_seconds=600)
    r = c.rates()
    assert r["hit_rate"] == pytest.approx(0.25)
    assert r["answer_rate"] == pytest.approx(0.3)
    assert r["abandon_rate"] == pytest.approx(2 / 12)
    assert r["first_call_close"] == pytest.approx(0.25)
    assert r["conversion"] == pytest.approx(0.3)
    assert r["talk_seconds"] == 150
    assert r["wrap_seconds"] == 30
    assert r["aht_seconds"] == 180
    assert r["occupancy"] == pytest.approx(1800 / 3000)
    assert r["agent_wait_seconds"] == 120
    assert r["agent_hours"] == pytest.approx(1.0)
    assert r["dials_per_agent_hour"] == pytest.approx(40)
    assert r["closes_per_agent_hour"] == pytest.approx(3)
    assert r["dnc_request_rate"] == pytest.approx(0.1)
    assert r["completion_rate"] == pytest.approx(0.4)


def test_list_close_counts_suppressed_and_invalid_but_not_duplicates():
    assert m.prospects(accepted=6, suppressed=2, invalid=2) == 10
    assert m.list_close_rate(1, 10) == pytest.approx(0.1)
    assert m.penetration(3, 12) == pytest.approx(0.25)
    assert m.saturation(30, 12) == pytest.approx(2.5)


def test_call_classification():
    assert m.is_live_answer("abandoned", connected=False)
    assert m.is_live_answer("completed", connected=True)
    assert not m.is_live_answer("machine", connected=False)
    assert not m.is_contact("abandoned", connected=False, disposition_is_contact=None)
    assert m.is_contact("completed", connected=True, disposition_is_contact=None)
    assert not m.is_contact("completed", connected=True, disposition_is_contact=False)


def test_counts_add_up():
    total = m.FloorCounts(dials=1, talk_seconds=2.5) + m.FloorCounts(dials=2, talk_seconds=1)
    assert (total.dials, total.talk_seconds) == (3, 3.5)


def test_every_docstring_starts_with_its_glossary_line():
    pairs = {"hit_rate": m.hit_rate, "first_call_close": m.first_call_close, "list_close_rate": m.list_close_rate,
             "abandon_rate": m.abandon_rate, "occupancy": m.occupancy, "aht_seconds": m.aht,
             "conversion": m.conversion, "penetration": m.penetration, "contact_rate": m.contact_rate,
             "agent_wait_seconds": m.agent_wait, "dnc_request_rate": m.dnc_request_rate,
             "completion_rate": m.completion_rate, "talk_seconds": m.average_talk, "wrap_seconds": m.average_wrap,
             "saturation": m.saturation, "answer_rate": m.answer_rate, "prospects": m.prospects}
    for name, fn in pairs.items():
        assert fn.__doc__.splitlines()[0] == m.GLOSSARY[name], name


def test_readme_glossary_uses_the_same_words():
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[3] / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Reports and metrics", 1)[1].split("\n## ", 1)[0]
    for name, definition in m.GLOSSARY.items():
        assert f"| `{name}` | {definition} |" in section, name
