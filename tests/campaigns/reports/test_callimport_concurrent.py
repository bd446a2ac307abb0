"""Two call imports into one campaign at once (PostgreSQL): each applies its own calls only.

An import knows its calls as the campaign's imported calls above the highest call id when it began; an import that
commits while another runs must not have its calls taken for the other's (their attempts counted twice)."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from campaigns.callimport import service
from campaigns.campaign.service import create_campaign
from campaigns.leads.models import Lead, LeadList

T0 = datetime(2030, 1, 1, tzinfo=UTC)
NOW = datetime(2030, 1, 8, 15, 0, tzinfo=UTC)
FIRST, SECOND = "+12122342301", "+12122342302"


def _file(tmp_path, name: str, phone: str) -> str:
    path = tmp_path / name
    path.write_text("Phone,List,Placed At,Ended At,Outcome\n"
                    f"{phone},Spring,2030-01-05 10:00:00,2030-01-05 10:00:25,no_answer\n", encoding="utf-8")
    return str(path)


def test_two_imports_at_once_each_count_their_own_calls(sessions, engine, tmp_path, monkeypatch):
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite has one writer: one import at a time already")
    with sessions.begin() as s:
        c = create_campaign(s, "Spring", "+12125554100", T0)
        lst = LeadList(campaign_id=c.id, name="Spring", sha256="0" * 64, uploaded_at=T0)
        s.add(lst)
        s.flush()
        for phone in (FIRST, SECOND):
            s.add(Lead(campaign_id=c.id, list_id=lst.id, phone=phone, state="NY", custom={}, created_at=T0,
                       updated_at=T0))
    real = service.apply_history
    a_stored, a_go, results, errors = threading.Event(), threading.Event(), {}, []
    a_thread: list[threading.Thread] = []

    def apply_history(session, campaign, after_id, source, lines, now):
        if source == "a.csv":  # A has stored its call: it waits (uncommitted) while B runs
            a_stored.set()
            assert a_go.wait(30)
        else:  # B is about to apply its calls: A commits first (as it may, any time)
            a_go.set()
            a_thread[0].join(30)
        return real(session, campaign, after_id, source, lines, now)

    monkeypatch.setattr(service, "apply_history", apply_history)

    def run(name: str, phone: str) -> None:
        try:
            results[name] = service.import_calls(sessions, "Spring", _file(tmp_path, name, phone), now=NOW)
        except Exception as e:  # noqa: BLE001 - reported by the main thread
            errors.append(e)
            a_go.set()

    a_thread.append(threading.Thread(target=run, args=("a.csv", FIRST)))
    a_thread[0].start()
    assert a_stored.wait(30)
    b = threading.Thread(target=run, args=("b.csv", SECOND))
    b.start()
    b.join(2)  # with one import per campaign at a time, B waits here for A
    a_go.set()
    b.join(30)
    a_thread[0].join(30)
    assert not errors, errors
    assert results["a.csv"].attempts_counted == 1
    assert results["b.csv"].attempts_counted == 1, "B took A's call, committed meanwhile, for its own"
    with sessions() as s:
        assert {p: n for p, n in s.execute(select(Lead.phone, Lead.attempts))} == {FIRST: 1, SECOND: 1}
