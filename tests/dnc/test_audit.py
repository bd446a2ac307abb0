"""The hash-chained ledger: `dialer audit verify` names an edited, a deleted and a reordered record."""

from __future__ import annotations

import json
from datetime import timedelta

from sqlalchemy import text

from dnc import internal
from dnc.gate import gate
from dnc.ledger import verify


def _records(sessions, clock, store):
    with sessions.begin() as s:
        for i in range(5):
            gate(s, f"+1212555010{i}", campaign=1, at=clock.now() + timedelta(minutes=i), registry=store)
        internal.add_request(s, "+12125554109", channel="agent", received_at=clock.now(), added_by="agent 1")


def test_edited_record_is_named(sessions, store, clock, dialer):
    _records(sessions, clock, store)
    assert dialer("audit", "verify").code == 0
    with sessions.begin() as s:
        s.execute(text("UPDATE dnc_ledger SET allowed = :t WHERE seq = 3"), {"t": True})
    r = dialer("audit", "verify", "--json")
    out = json.loads(r.out)
    assert r.code == 1 and not out["ok"]
    assert len(out["problems"]) == 1 and out["problems"][0].startswith("record seq 3 ")
    assert "was edited: column 'allowed'" in out["problems"][0]


def test_rehashed_body_edit_is_named(sessions, store, clock, dialer):
    _records(sessions, clock, store)
    from dnc.ledger import record_hash

    with sessions.begin() as s:
        seq, prev, body = s.execute(text("SELECT seq, prev_hash, body FROM dnc_ledger WHERE seq = 2")).one()
        body = body.replace('"actor":"dialer"', '"actor":"someone"')
        s.execute(text("UPDATE dnc_ledger SET body = :b, actor = 'someone', hash = :h WHERE seq = 2"),
                  {"b": body, "h": record_hash(seq, prev, body)})
    r = dialer("audit", "verify")
    assert r.code == 1 and "record seq 2 was edited and re-hashed: record seq 3" in r.out


def test_deleted_and_reordered_records_are_named(sessions, store, clock):
    _records(sessions, clock, store)
    with sessions.begin() as s:
        s.execute(text("DELETE FROM dnc_ledger WHERE seq = 4"))
    with sessions() as s:
        problems = verify(s).problems
    assert problems == [next(p for p in problems if p.startswith("record seq 4 deleted: missing before record "
                                                                    "seq 5"))]
    with sessions.begin() as s:
        s.execute(text("DELETE FROM dnc_ledger WHERE seq = 6"))  # the last one
    with sessions() as s:
        assert any("seq 6 deleted: the chain head says the last record is seq 6" in p for p in verify(s).problems)
    with sessions.begin() as s:  # swap records 1 and 2 whole (their rows trade places)
        cols = "seq, kind, at, e164, campaign_id, allowed, reasons, actor, body, prev_hash, hash"
        s.execute(text("UPDATE dnc_ledger SET seq = -seq WHERE id IN (1, 2)"))
        a = s.execute(text(f"SELECT {cols} FROM dnc_ledger WHERE id = 1")).one()
        b = s.execute(text(f"SELECT {cols} FROM dnc_ledger WHERE id = 2")).one()
        sets = ", ".join(f"{c} = :{c}" for c in cols.split(", "))
        s.execute(text(f"UPDATE dnc_ledger SET {sets} WHERE id = 1"), {**b._asdict(), "seq": 2})
        s.execute(text(f"UPDATE dnc_ledger SET {sets} WHERE id = 2"), {**a._asdict(), "seq": 1})
    with sessions() as s:
        problems = verify(s).problems
    assert [p for p in problems if "seq 1 " in p or "seq 2 " in p] == [
        "record seq 1 (id 2, gate at 2030-01-08T15:00:00.000000+00:00) is out of order: it follows seq 2"]
