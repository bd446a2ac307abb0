"""The snapshot in force on several hosts: a load on host A (one snapshot directory) is fetched by host B (another)
through the database, B's gate then decides exactly as A's; until B has it, B refuses what it covers with
``registry_unavailable``, recorded in the ledger; a corrupted or partial fetch is refused and retried, never used."""

from __future__ import annotations

import fcntl
import hashlib
import os
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from sqlalchemy import func, select, update

from dnc.gate import evaluate, gate
from dnc.registry import Store, generate, load_changes, load_full, local
from dnc.registry.local import LOCK
from dnc.registry.sync import serving, wait_for_background
from dnc.registry.upkeep import sync_host
from dnc.tables import LedgerRecord, RegistryChunk, RegistryFile, RegistryFileChunk

NOON = datetime(2030, 1, 8, 17, 0, tzinfo=UTC)  # Tuesday, 12:00 in New York
AREAS = ("212", "305", "602", "907")
LISTED = ("+12125552123", "+13055552177", "+16025552100", "+19075552142")
BOSTON = "+12035552100"  # 203 (Connecticut, which keeps no list of its own): covered by no snapshot


@pytest.fixture
def a(tmp_path):
    return Store(tmp_path / "host-a", auto_fetch=False)


@pytest.fixture
def b(tmp_path):
    return Store(tmp_path / "host-b", auto_fetch=False)


def load_on(session, store, tmp_path, *, count=20_000, areas=AREAS, at=NOON, seed=7, name="r.txt"):
    path = generate(tmp_path / name, count, area_codes=areas, seed=seed, include=LISTED).path
    load = load_full(session, store, [path], version_date=at.date(), loaded_by="ops", now=at,
                     area_codes=",".join(areas))
    session.commit()
    return load, path


def sample(path, k=300) -> list[str]:
    """Registered numbers of the file, the neighbours of some (mostly not registered), and an uncovered one."""
    nums = np.array(path.read_text().split()[::67][:k], dtype=np.int64)
    return [f"+1{n}" for n in nums] + [f"+1{n + 1}" for n in nums[:50]] + list(LISTED) + [BOSTON]


def verdicts(session, store, numbers) -> list[tuple]:
    out = []
    for n in numbers:
        d = evaluate(session, n, campaign=1, at=NOON, registry=store)
        out.append((n, d.allowed, d.codes, d.sources.get("registry")))
    return out


def test_a_load_on_host_a_is_fetched_by_host_b_and_b_decides_the_same(session, engine, a, b, tmp_path):
    load, path = load_on(session, a, tmp_path)
    numbers = sample(path)
    on_a = verdicts(session, a, numbers)
    assert {v[2] for v in on_a} >= {(), ("national_dnc",), ("registry_stale",)}

    session.commit()  # end the session's read (SQLite's write lock, as in the product)
    report = sync_host(engine, b, NOON)
    assert report.action == "fetched" and report.in_force == load.generation == report.serving
    gen_dir = a.root / "generations" / load.generation
    assert report.bytes == sum(os.path.getsize(gen_dir / n) for n in ("national.bits", "manifest.json"))
    assert report.transferred < report.bytes / 5  # sparse area codes travel as gaps, not bits
    assert verdicts(session, b, numbers) == on_a
    for name in ("national.bits", "manifest.json"):
        same = [hashlib.sha256((s.root / "current" / name).read_bytes()).hexdigest() for s in (a, b)]
        assert same[0] == same[1]
    session.commit()  # end the session's read (SQLite's write lock, as in the product)
    again = sync_host(engine, b, NOON)
    assert again.action == "none" and again.transferred == 0  # nothing changed: nothing fetched


def test_host_b_refuses_what_the_registry_covers_until_it_has_it_and_the_ledger_says_why(session, engine, a, b,
                                                                                           tmp_path):
    load, _ = load_on(session, a, tmp_path)
    d = gate(session, "+12125552199", campaign=1, at=NOON, registry=b, lead_ref="lead:9")
    assert not d.allowed and d.codes == ("registry_unavailable",) and d.temporary
    assert load.generation in d.reasons[0].text and "has not been fetched yet" in d.reasons[0].text
    rec = session.scalars(select(LedgerRecord).where(LedgerRecord.kind == "gate")).one()
    assert rec.allowed is False and rec.reasons == "registry_unavailable" and '"lead:9"' in rec.body
    # a number the registry does not cover is what it always was: no snapshot covers it (not "unavailable")
    assert evaluate(session, BOSTON, campaign=1, at=NOON, registry=b).codes == ("registry_stale",)
    # an old snapshot of its own is not used either: B refuses until it has the generation in force
    session.commit()  # end the session's read (SQLite's write lock, as in the product)
    sync_host(engine, b, NOON)
    later = NOON + timedelta(hours=1)
    load_on(session, a, tmp_path, at=later, seed=8, name="r2.txt")
    assert evaluate(session, LISTED[0], campaign=1, at=later, registry=b).codes == ("registry_unavailable",)
    # while another process holds the directory's fetch lock, the reason says it is being fetched
    fd = os.open(b.root / LOCK, os.O_RDWR | os.O_CREAT)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        assert "being fetched" in evaluate(session, LISTED[0], campaign=1, at=later, registry=b).reasons[0].text
        session.commit()  # end the session's read (SQLite's write lock, as in the product)
        assert sync_host(engine, b, later, wait=False).action == "busy"
    finally:
        os.close(fd)
    session.commit()  # end the session's read (SQLite's write lock, as in the product)
    assert sync_host(engine, b, later).action == "fetched"
    assert evaluate(session, LISTED[0], campaign=1, at=later, registry=b).codes == ("national_dnc",)


def test_a_fetch_that_would_not_wait_is_not_put_off_by_a_probe(session, engine, a, b, tmp_path, monkeypatch):
    """Every process deciding numbers probes the fetch lock (shared, for an instant) to say "being fetched": a
    background fetch meeting such a probe used to answer "busy" and try again a minute later, the host refusing
    everything the snapshot covers meanwhile. It waits the probe out; only a fetcher's lock makes it "busy"."""
    load, _ = load_on(session, a, tmp_path)
    b.root.mkdir(parents=True, exist_ok=True)
    probe = os.open(b.root / LOCK, os.O_RDWR | os.O_CREAT)
    fcntl.flock(probe, fcntl.LOCK_SH)  # another process's probe, caught holding it (descheduled, under load)
    backed_off = []

    def probe_ends(seconds: float) -> None:  # the fetcher backs off once: meanwhile the probe lets go
        backed_off.append(seconds)
        os.close(probe)

    monkeypatch.setattr(local.time, "sleep", probe_ends)
    session.commit()  # end the session's read (SQLite's write lock, as in the product)
    report = sync_host(engine, b, NOON, wait=False)
    assert backed_off and report.action == "fetched" and b.current().generation == load.generation


def _bits_chunk(session, generation, seq=0):
    return session.scalar(select(RegistryFileChunk.chunk).join(RegistryFile).where(
        RegistryFile.generation == generation, RegistryFile.name == "national.bits", RegistryFileChunk.seq == seq))


def _leftovers(store):
    gens = store.root / "generations"
    return sorted(p.name for p in gens.iterdir()) if gens.exists() else []


def test_a_corrupted_chunk_is_refused_never_used_and_retried(session, engine, a, b, tmp_path):
    load, _ = load_on(session, a, tmp_path)
    sha = _bits_chunk(session, load.generation, 1)
    good = session.get(RegistryChunk, sha).data
    session.execute(update(RegistryChunk).where(RegistryChunk.sha256 == sha)
                    .values(data=good[:100] + bytes([good[100] ^ 1]) + good[101:]))
    session.commit()
    report = sync_host(engine, b, NOON)
    assert report.action == "failed" and "national.bits: chunk 1" in report.detail
    assert _leftovers(b) == [] and b.current() is None  # nothing half-written, nothing switched
    d = evaluate(session, LISTED[0], campaign=1, at=NOON, registry=b)
    assert d.codes == ("registry_unavailable",) and "the last fetch failed (national.bits: chunk 1" in d.reasons[0].text
    session.execute(update(RegistryChunk).where(RegistryChunk.sha256 == sha).values(data=good))
    session.commit()
    assert sync_host(engine, b, NOON).action == "fetched"
    assert evaluate(session, LISTED[0], campaign=1, at=NOON, registry=b).codes == ("national_dnc",)


def test_a_file_whose_whole_checksum_fails_is_refused(session, engine, a, b, tmp_path):
    load, _ = load_on(session, a, tmp_path)
    session.execute(update(RegistryFile).where(RegistryFile.generation == load.generation,
                                               RegistryFile.name == "national.bits").values(sha256="0" * 64))
    session.commit()
    report = sync_host(engine, b, NOON)
    assert report.action == "failed" and "national.bits: checksum mismatch after fetch" in report.detail
    assert _leftovers(b) == [] and not b.has(load.generation)


def test_a_partial_fetch_is_never_used_and_is_cleaned_up_by_the_next(session, engine, a, b, tmp_path):
    load, _ = load_on(session, a, tmp_path)
    # a fetch killed midway leaves its temporary directory: the gate does not look at it
    torn = b.root / "generations" / f".fetch-{load.generation}-x1"
    torn.mkdir(parents=True)
    (torn / "national.bits").write_bytes(b"\0" * 1000)
    assert evaluate(session, LISTED[0], campaign=1, at=NOON, registry=b).codes == ("registry_unavailable",)
    # a chunk missing from the database: the fetch stops, keeps nothing
    file_id = session.scalar(select(RegistryFile.id).where(RegistryFile.generation == load.generation,
                                                           RegistryFile.name == "national.bits"))
    last = session.scalar(select(func.max(RegistryFileChunk.seq)).where(RegistryFileChunk.file_id == file_id))
    row = session.get(RegistryFileChunk, (file_id, last))
    chunk = row.chunk
    session.delete(row)
    session.commit()
    report = sync_host(engine, b, NOON)
    assert report.action == "failed" and "missing from the database" in report.detail
    assert _leftovers(b) == []  # the torn directory went too
    session.add(RegistryFileChunk(file_id=file_id, seq=last, chunk=chunk))
    session.commit()
    assert sync_host(engine, b, NOON).action == "fetched" and _leftovers(b) == [load.generation]


def test_a_process_without_the_snapshot_fetches_it_in_the_background(session, engine, a, tmp_path):
    load, _ = load_on(session, a, tmp_path)
    c = Store(tmp_path / "host-c")  # auto_fetch, as the console and the worker run it
    first = evaluate(session, LISTED[0], campaign=1, at=NOON, registry=c)
    assert first.codes == ("registry_unavailable",)
    wait_for_background(c, timeout=300)  # a deadline, not a speed: the suite shares a loaded machine
    assert c.current() is not None and c.current().generation == load.generation
    assert evaluate(session, LISTED[0], campaign=1, at=NOON, registry=c).codes == ("national_dnc",)


def test_a_shared_directory_fetches_nothing(session, engine, a, tmp_path):
    load, _ = load_on(session, a, tmp_path)
    nfs = Store(a.root, auto_fetch=False)  # a second host mounting the same directory
    session.commit()  # end the session's read (SQLite's write lock, as in the product)
    assert sync_host(engine, nfs, NOON).action == "none"
    assert serving(session, nfs, NOON).current().generation == load.generation


def test_partial_loads_and_change_lists_on_b_start_from_the_snapshot_in_force(session, engine, a, b, tmp_path):
    load_on(session, a, tmp_path)
    alaska = tmp_path / "907.txt"
    alaska.write_text("9075552999\n")
    later = NOON + timedelta(hours=1)
    partial = load_full(session, b, [alaska], version_date=later.date(), loaded_by="ops", now=later,
                        area_codes="907")
    session.commit()
    snap = b.current()
    assert snap.generation == partial.generation and snap.lookup(2125552123)[0]  # A's 212, fetched first
    assert snap.lookup(9075552999)[0] and not snap.lookup(9075552142)[0]  # 907 replaced
    changes = tmp_path / "changes.txt"
    changes.write_text("2125552123,D\n")
    load_changes(session, b, changes, version_date=later.date(), loaded_by="ops", now=later, area_codes="212")
    session.commit()
    assert evaluate(session, LISTED[0], campaign=1, at=later, registry=a).codes == ("registry_unavailable",)
    session.commit()  # end the session's read (SQLite's write lock, as in the product)
    assert sync_host(engine, a, later).action == "fetched"
    assert evaluate(session, LISTED[0], campaign=1, at=later, registry=a).allowed
    assert a.current().lookup(9075552999)[0] and a.current().lookup(6025552100)[0]


def test_an_unchanged_area_code_is_stored_once(session, a, tmp_path):
    load, _ = load_on(session, a, tmp_path)
    before = session.scalar(select(func.count()).select_from(RegistryChunk))
    one = tmp_path / "212.txt"
    one.write_text("2125552100\n")
    load_full(session, a, [one], version_date=NOON.date(), loaded_by="ops", now=NOON, area_codes="212")
    session.commit()
    assert session.scalar(select(func.count()).select_from(RegistryChunk)) == before + 2  # 212's bits, a manifest


def test_an_import_scrub_on_b_says_the_registry_was_not_applied(session, sessions, engine, a, b, tmp_path):
    from dnc.scrub import DncScrubber

    load, _ = load_on(session, a, tmp_path)

    class Cand:
        e164, state, postal_code, zones, line = LISTED[0], None, None, ("America/New_York",), 1

    scrub = DncScrubber(sessions, campaign=1, at=NOON, operator="ops", store=b)
    assert scrub([Cand()]) == [()]  # not suppressed at import: the gate refuses it until B has the registry
    with sessions.begin() as s:
        scrub.record(s, list_ref="c/list")
    body = session.scalars(select(LedgerRecord.body).where(LedgerRecord.kind == "scrub")).one()
    assert f'"registry":{{"generation":"{load.generation}","unavailable":"it has not been fetched yet"}}' in body
    session.commit()  # end the session's read (SQLite's write lock, as in the product)
    sync_host(engine, b, NOON)
    assert DncScrubber(sessions, campaign=1, at=NOON, operator="ops", store=b)([Cand()]) == [("national_dnc",)]
