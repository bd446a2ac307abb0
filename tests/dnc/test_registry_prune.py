"""Pruning keeps what the reconciliation report needs: the generation in force and every one a call was placed under
(within the retention), in the database and on disk; a host that never had an old generation fetches it when a
report asks; ``dialer dnc sync`` does all of it by hand and says what it did."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from dnc.gate import gate
from dnc.registry import Store, load_full
from dnc.registry.upkeep import prune_generations, retained
from dnc.reports import CallRecord, reconcile
from dnc.tables import RegistryChunk, RegistryFile, RegistryFileChunk

T0 = datetime(2030, 1, 8, 15, 0, tzinfo=UTC)  # Tuesday, 10:00 in New York
LISTED = "+12125552123"
CLEAN = "+12125552124"


def _load(session, store, tmp_path, name, lines, areas, at):
    f = tmp_path / name
    f.write_text("\n".join(lines) + "\n")
    load = load_full(session, store, [f], version_date=at.date(), loaded_by="ops", now=at, area_codes=areas)
    session.commit()
    return load.generation


def _chunks_of(session, generation) -> set[str]:
    return set(session.scalars(select(RegistryFileChunk.chunk).join(RegistryFile)
                               .where(RegistryFile.generation == generation)))


@pytest.fixture
def timeline(session, tmp_path):
    """g1 in force 10:00-12:00 with a call at 11:00; g2 12:00-13:00 with none; g3 in force from 13:00."""
    a = Store(tmp_path / "host-a", auto_fetch=False)
    g1 = _load(session, a, tmp_path, "full.txt", ["2125552123", "3055552100"], "212,305", T0)
    assert gate(session, CLEAN, campaign=1, at=T0 + timedelta(hours=1), registry=a).allowed
    session.commit()
    g2 = _load(session, a, tmp_path, "212.txt", ["2125552123", "2125552999"], "212", T0 + timedelta(hours=2))
    g3 = _load(session, a, tmp_path, "305.txt", ["3055552111"], "305", T0 + timedelta(hours=3))
    return a, (g1, g2, g3)


def test_pruning_keeps_the_generation_in_force_and_those_calls_were_placed_under(session, engine, timeline):
    a, (g1, g2, g3) = timeline
    now = T0 + timedelta(hours=4)
    assert retained(session, now) == ([g1, g3], [g2])
    keep = _chunks_of(session, g1) | _chunks_of(session, g3)
    assert _chunks_of(session, g2) - keep  # g2 has a chunk of its own (its manifest) ...
    assert _chunks_of(session, g2) & _chunks_of(session, g3)  # ... and shares 212's bits with g3
    session.commit()  # end each read (its transaction holds SQLite's write lock, as in the product) before a prune
    assert prune_generations(engine, a, now) == ([g2], [g2])
    assert set(session.scalars(select(RegistryChunk.sha256))) == keep  # shared chunks stay, orphans go
    session.commit()
    assert a.local_generations() == [g1, g3]
    assert prune_generations(engine, a, now) == ([], [])  # nothing twice
    # after the retention, the generation the old call was placed under may go too; the one in force never does
    assert retained(session, now, keep_days=0) == ([g3], [g1, g2])
    session.commit()
    assert prune_generations(engine, a, now, keep_days=0) == ([g1], [g1])
    assert a.local_generations() == [g3] and a.current().generation == g3


def test_a_host_without_an_old_generation_fetches_it_for_the_reconciliation(session, engine, timeline, tmp_path):
    _, (g1, _, _) = timeline
    b = Store(tmp_path / "host-b", auto_fetch=False)
    calls = [CallRecord(LISTED, T0 + timedelta(hours=1), 1, ref="call:1")]
    rows = reconcile(session, calls, b)
    assert [r["codes"] for r in rows] == ["national_dnc"]  # judged against g1, fetched from the database
    assert b.local_generations() == [g1]
    session.commit()  # end the read's transaction before the prunes write
    prune_generations(engine, b, T0 + timedelta(hours=4), keep_days=0)
    prune_generations(engine, Store(tmp_path / "host-a"), T0 + timedelta(hours=4), keep_days=0)
    c = Store(tmp_path / "host-c", auto_fetch=False)
    assert "evidence_missing" in reconcile(session, calls, c)[0]["codes"]  # pruned everywhere: said so


def test_dialer_dnc_sync_fetches_prunes_and_says_what_it_did(dialer, session, setenv, tmp_path, timeline):
    _, (g1, g2, g3) = timeline
    setenv(DIALER_DNC_DIR=str(tmp_path / "host-b"))
    r = dialer("dnc", "sync", "--json")
    assert r.code == 0, r.err
    out = json.loads(r.out)
    assert out["action"] == "fetched" and out["in_force"] == g3 == out["serving"] and out["bytes"] > 0
    assert out["pruned_database"] == [g2]  # nobody dialed under it
    r = dialer("dnc", "sync")
    assert r.code == 0 and "already serves" in r.out and g3 in r.out
    r = dialer("dnc", "snapshots")
    assert f"in force and served here: {g3}" in r.out and "host-b" in r.out


def test_a_report_fetches_an_old_generation_while_its_request_holds_sqlite_s_write_lock(db_url, session, setenv,
                                                                                      timeline, tmp_path):
    """The product's SQLite engine takes the write lock when a transaction begins (a console request holds it for
    the request): the fetch reads around it instead of waiting for it, or the report would wait on itself."""
    from sqlalchemy import text

    from campaigns.db import make_engine, session_factory

    _, (g1, _, _) = timeline
    setenv(DIALER_SQLITE_LOCKING="immediate")
    engine = make_engine(db_url)
    try:
        with session_factory(engine)() as request:
            request.execute(text("SELECT 1"))  # BEGIN IMMEDIATE on SQLite: the lock is held from here on
            b = Store(tmp_path / "host-b", auto_fetch=False)
            rows = reconcile(request, [CallRecord(LISTED, T0 + timedelta(hours=1), 1, ref="call:1")], b)
            assert [r["codes"] for r in rows] == ["national_dnc"] and b.local_generations() == [g1]
    finally:
        engine.dispose()
