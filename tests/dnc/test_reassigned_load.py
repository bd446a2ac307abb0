"""Loading Reassigned Numbers Database results (number, permanent-disconnect date): a version per load, all or
nothing, every bad line named by file, line, column and field, memory bounded whatever the file's size."""

from __future__ import annotations

import json
import tracemalloc
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import func, select

from dnc import reports
from dnc.errors import UserError
from dnc.reassigned import load_rnd
from dnc.tables import LedgerRecord, ListLoad, RndEntry

NOW = datetime(2030, 1, 8, 17, 0, tzinfo=UTC)


def _file(tmp_path, text: str, name: str = "rnd.csv", encoding: str = "utf-8"):
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def _load(session, path, **kw):
    kw.setdefault("version_date", NOW.date())
    return load_rnd(session, path, loaded_by="ops", now=NOW, **kw)


def _nothing_written(session) -> None:
    assert session.scalar(select(func.count()).select_from(ListLoad).where(ListLoad.source == "rnd")) == 0
    assert session.scalar(select(func.count()).select_from(RndEntry)) == 0
    assert session.scalar(select(func.count()).select_from(LedgerRecord)) == 0


def test_a_file_loads_as_a_version_with_its_counts_and_a_ledger_record(session, tmp_path):
    path = _file(tmp_path, "Number,Disconnect Date\n2125554101,2029-06-01\n+1 (212) 555-4102,06/02/2029\n\n"
                           "12125554103,20290603\n2125554101,2029-07-01\n")
    load = _load(session, path, vendor="reassigned.us")
    assert (load.source, load.mode, load.lines, load.count, load.malformed) == ("rnd", "full", 4, 3, 0)
    assert load.version_date == NOW.date() and load.vendor == "reassigned.us" and len(load.sha256) == 64
    rows = session.execute(select(RndEntry.value, func.max(RndEntry.disconnected_on)).group_by(RndEntry.value)
                           .order_by(RndEntry.value)).all()
    assert rows == [("2125554101", date(2029, 7, 1)), ("2125554102", date(2029, 6, 2)),
                    ("2125554103", date(2029, 6, 3))]
    rec = session.scalars(select(LedgerRecord).where(LedgerRecord.kind == "list_load")).one()
    body = json.loads(rec.body)
    assert (body["source"], body["count"], body["mode"], body["sha256"]) == ("rnd", 3, "full", load.sha256)
    row = reports.scrub_ledger(session)[-1]  # the scrub ledger names the load
    assert (row["kind"], row["what"], row["rows"], row["suppressed"]) == ("reassigned numbers data", "rnd.csv", 4, 3)


def test_an_empty_file_is_a_version_too(session, tmp_path):
    load = _load(session, _file(tmp_path, ""))
    assert (load.count, load.lines) == (0, 0)


BAD = [
    ("2125554101,2029-06-01\n212555,2029-06-01\n", "line 2", "column 1 (number)"),
    ("2125554101,2029-02-30\n", "line 1", "column 2 (disconnected_on)"),
    ("2125554101,yesterday\n", "line 1", "column 2 (disconnected_on)"),
    ("2125554101\n", "line 1", "2 columns"),
    ("2125554101,2029-06-01,extra\n", "line 1", "2 columns"),
    ("2125554101,2030-01-09\n", "line 1", "after the data's version date"),
    ("number,disconnected_on\n2125554101,2029-06-01\n2125554102,\n", "line 3", "column 2 (disconnected_on)"),
]


@pytest.mark.parametrize(("text", "where", "what"), BAD, ids=[
    "short-number", "no-such-day", "not-a-date", "one-column", "three-columns", "after-version", "empty-date"])
def test_a_bad_line_is_named_and_nothing_is_loaded(session, tmp_path, text, where, what):
    path = _file(tmp_path, text)
    with pytest.raises(UserError) as e:
        _load(session, path)
    assert str(path) in str(e.value) and where in str(e.value) and what in str(e.value), str(e.value)
    assert "nothing was loaded" in str(e.value)
    _nothing_written(session)


def test_every_bad_line_is_counted_and_the_first_ones_quoted(session, tmp_path):
    path = _file(tmp_path, "".join(f"21255541{i:02d},2029-13-01\n" for i in range(25)))
    with pytest.raises(UserError) as e:
        _load(session, path)
    assert "25 malformed line(s)" in str(e.value) and "line 10:" in str(e.value) and "and 15 more" in str(e.value)
    _nothing_written(session)


def test_tolerated_bad_lines_are_counted_and_skipped(session, tmp_path):
    load = _load(session, _file(tmp_path, "2125554101,2029-06-01\nnonsense\n"), max_malformed=1)
    assert (load.count, load.malformed) == (1, 1)


def test_unreadable_input(session, tmp_path):
    with pytest.raises(UserError, match="cannot read"):
        _load(session, tmp_path / "missing.csv")
    with pytest.raises(UserError, match="line 2: not UTF-8"):
        _load(session, _file(tmp_path, "2125554101,2029-06-01\n2125554102,2029-06-01 caf\xe9\n", encoding="latin-1"))
    with pytest.raises(UserError, match="in the future"):
        _load(session, _file(tmp_path, "2125554101,2029-06-01\n"), version_date=date(2030, 1, 9))
    with pytest.raises(UserError, match="full or changes"):
        _load(session, _file(tmp_path, "2125554101,2029-06-01\n"), mode="delta")
    _nothing_written(session)


def test_memory_stays_bounded_whatever_the_file_size(session, tmp_path):
    path = tmp_path / "big.csv"
    with path.open("w", encoding="utf-8") as f:
        for i in range(150_000):
            f.write(f"212{2_000_000 + i:07d},2029-06-01\n")
    tracemalloc.start()
    try:
        load = _load(session, path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert load.lines == 150_000
    assert peak < 12 * 2**20, f"peak {peak / 2**20:.1f} MiB"  # a batch at a time, not the file


def test_the_cli_loads_and_refuses_with_a_non_zero_exit(dialer, tmp_path):
    good = _file(tmp_path, "number,disconnected_on\n2125554101,2026-06-01\n", name="good.csv")
    r = dialer("dnc", "load-rnd", str(good), "--version-date", "2026-12-01", "--json")
    assert r.code == 0, r.err
    out = json.loads(r.out)
    assert (out["source"], out["mode"], out["count"]) == ("rnd", "full", 1)
    r = dialer("dnc", "load-rnd", str(good), "--version-date", "2026-12-01", "--changes")
    assert r.code == 0 and "changes" in r.out, r.out
    bad = _file(tmp_path, "2125554101,2026-06-01\n2125554102,31/12/2026\n", name="bad.csv")
    r = dialer("dnc", "load-rnd", str(bad), "--version-date", "2026-12-01")
    assert r.code != 0 and "bad.csv" in r.err and "line 2" in r.err and "column 2 (disconnected_on)" in r.err
    assert "nothing was loaded" in r.err
    r = dialer("dnc", "load-rnd", str(tmp_path / "none.csv"))
    assert r.code != 0 and "cannot read" in r.err
