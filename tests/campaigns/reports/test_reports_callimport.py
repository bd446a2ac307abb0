"""``dialer calls import``: every row accounted for, duplicates skipped, history counted in reports and abandon rate."""

from __future__ import annotations

import csv
import json

import pytest
from sqlalchemy import func, select

from campaigns.agents.models import Agent
from campaigns.callimport import service
from campaigns.callimport.service import import_calls
from campaigns.dispatch.models import Call
from campaigns.reports.history import abandon_history
from dnc.errors import UserError
from tests.campaigns.reports.support import local

HEADER = "Phone,List,Placed At,Answered By,Connected At,Agent,Ended At,Outcome,Disposition,Notes\n"
ROWS = [
    "(212) 555-0101,List A,2029-12-20 10:00:00,human,2029-12-20 10:00:05,carol,2029-12-20 10:03:05,completed,sale,x",
    "2125550103,,2029-12-20 11:00:00,human,,,2029-12-20 11:00:03,Dropped,,",
    "+1 212 555 0999,,2029-12-20T16:00:00Z,,,,,no answer,,",
    "12345,,2029-12-20 12:00:00,,,,,busy,,",
    "2125550104,List Z,2029-12-20 12:00:00,,,,,busy,,",
    "2125550101,,2029-12-20 12:00:00,,,,,exploded,,",
    "(212) 555-0101,List A,2029-12-20 10:00:00,human,2029-12-20 10:00:05,carol,2029-12-20 10:03:05,completed,sale,x",
    "2125550105,,2031-01-01 12:00:00,,,,,busy,,",
    "=cmd|' /C calc'!A0,,2029-12-20 12:00:00,,,,,busy,,",
    "2125550102,,2029-12-20 13:00:00,,2029-12-20 13:00:02,,,busy,,",
    "2125550102,,2029-12-20 14:00:00,human,2029-12-20 14:00:02,bob,2029-12-20 14:01:00,completed,FOO,",
]


def write(tmp_path, rows, header=HEADER):
    path = tmp_path / "history.csv"
    path.write_text(header + "\n".join(rows) + "\n", encoding="utf-8")
    return path


def test_every_row_is_accounted_for(floor, sessions, clock, tmp_path):
    rejects = tmp_path / "rejects.csv"
    r = import_calls(sessions, "Acme", write(tmp_path, ROWS), now=clock.now(), rejects_path=rejects)
    assert (r.rows, r.imported, r.duplicates, r.rejected) == (11, 3, 1, 7)
    assert r.rows == r.imported + r.duplicates + r.rejected
    assert (r.matched_leads, r.without_lead) == (2, 1)
    assert r.agents_created == ["carol"] and r.ignored_columns == ["Notes"]
    assert r.outcomes == {"abandoned": 1, "completed": 1, "no_answer": 1}
    reasons = {x["line"]: (x["column"], x["reason"]) for x in r.rejects}
    assert reasons[5][0] == "Phone"
    assert "no list named 'List Z'" in reasons[6][1]
    assert "'exploded' is not an outcome" in reasons[7][1]
    assert "in the future" in reasons[9][1]
    assert reasons[11] == ("Connected At", "is set but the outcome is busy: an agent took the call")
    assert "'FOO' is not a disposition" in reasons[12][1]
    with rejects.open(encoding="utf-8") as f:
        written = list(csv.DictReader(f))
    assert len(written) == 7
    assert all(not row["row"].startswith(("=", "+", "-", "@")) for row in written)
    with sessions() as s:
        calls = s.scalars(select(Call).where(Call.imported.is_(True)).order_by(Call.placed_at)).all()
        assert [c.attempt for c in calls] == [1, 1, 1]  # they precede every live call of their leads
        assert calls[0].phone == "+12125550101" and calls[0].disposition_code == "SALE"
        assert calls[0].agent_id == s.scalar(select(Agent.id).where(Agent.name == "carol"))
        assert calls[1].outcome == "abandoned" and calls[2].lead_id is None


def test_reimport_changes_nothing(floor, sessions, clock, tmp_path):
    path = write(tmp_path, ROWS)
    import_calls(sessions, "Acme", path, now=clock.now())
    again = import_calls(sessions, "Acme", path, now=clock.now())
    assert (again.imported, again.duplicates, again.rejected) == (0, 4, 7)


def test_imported_history_counts_in_reports_and_the_abandon_rate(floor, sessions, clock, tmp_path):
    import_calls(sessions, "Acme", write(tmp_path, ROWS), now=clock.now())
    with sessions.begin() as s:
        assert abandon_history(s, floor.campaign_id, clock.now()) == (8 + 2, 2 + 1)
        # a window that starts after the imported calls sees only the live floor
        assert abandon_history(s, floor.campaign_id, local(20, "00:00:00")) == (8, 2)


def test_all_or_nothing(floor, sessions, clock, tmp_path, monkeypatch):
    def boom(*_a, **_k):
        raise RuntimeError("disk full")

    monkeypatch.setattr(service, "_number_attempts", boom)
    rejects = tmp_path / "rejects.csv"
    with pytest.raises(RuntimeError):
        import_calls(sessions, "Acme", write(tmp_path, ROWS), now=clock.now(), rejects_path=rejects)
    with sessions() as s:
        assert s.scalar(select(func.count()).select_from(Call).where(Call.imported.is_(True))) == 0
        assert s.scalar(select(func.count()).select_from(Agent).where(Agent.name == "carol")) == 0
    assert not rejects.exists() and not (tmp_path / "rejects.csv.part").exists()


def test_header_mistakes_name_the_column(floor, sessions, clock, tmp_path):
    with pytest.raises(UserError, match="no placed at / outcome column"):
        import_calls(sessions, "Acme", write(tmp_path, ["2125550101"], "phone\n"), now=clock.now())
    with pytest.raises(UserError, match="both mean phone"):
        import_calls(sessions, "Acme", write(tmp_path, [], "phone,number,placed at,outcome\n"), now=clock.now())


def test_cli(floor, dialer, tmp_path):
    past = [row.replace("2029-12-20", "2025-12-20") for row in ROWS]  # the CLI runs on the real clock
    r = dialer("calls", "import", write(tmp_path, past), "--campaign", "Acme", "--json")
    assert r.code == 0, r.err
    obj = json.loads(r.out)
    assert (obj["rows"], obj["imported"], obj["duplicates"], obj["rejected"]) == (11, 3, 1, 7)
    text = dialer("calls", "import", write(tmp_path, past), "--campaign", "Acme")
    assert "11 rows = 0 imported + 4 duplicates + 7 rejected" in text.out
    assert "line 6, List: campaign 'Acme' has no list named 'List Z'" in text.out
    missing = dialer("calls", "import", tmp_path / "nope.csv", "--campaign", "Acme")
    assert missing.code == 2 and "no such file" in missing.err
