"""Registry snapshots: full and partial loads, change lists, malformed files leave the snapshot in force."""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest

from dnc.errors import UserError
from dnc.lists import load_list
from dnc.parsing import Malformed
from dnc.registry import generate, load_changes, load_full
from dnc.registry.parse import parse_chunk


def test_full_load_partial_reload_and_changes(session, store, clock, tmp_path):
    now = clock.now()
    f = tmp_path / "full.txt"
    f.write_text("2125554100\n2125554101\r\n\n6465554100\n2125554100\n")
    load = load_full(session, store, [f], version_date=date(2030, 1, 5), loaded_by="t", now=now,
                     area_codes="212,646")
    assert (load.lines, load.count, load.malformed) == (5, 3, 0)
    snap = store.current()
    assert snap.lookup(2125554100) == (True, date(2030, 1, 5)) and snap.lookup(2125554102)[0] is False
    assert snap.lookup(3055554100) == (False, None)
    covered, listed = snap.lookup_many(np.array([2125554101, 6465554100, 3055554100, 2125559999]))
    assert covered.tolist() == [True, True, False, True] and listed.tolist() == [True, True, False, False]
    # reload only 646: 212 keeps its numbers and version
    g = tmp_path / "646.txt"
    g.write_text("6465554199\n")
    load_full(session, store, [g], version_date=date(2030, 1, 7), loaded_by="t", now=now, area_codes="646")
    snap = store.current()
    assert snap.lookup(2125554100) == (True, date(2030, 1, 5))
    assert snap.lookup(6465554100)[0] is False and snap.lookup(6465554199) == (True, date(2030, 1, 7))
    # a change list adds and deletes and refreshes every covered area code
    c = tmp_path / "changes.txt"
    c.write_text("2125554100,D,20300108\n2125554177,A\n")
    load = load_changes(session, store, c, version_date=date(2030, 1, 8), loaded_by="t", now=now)
    assert (load.added, load.deleted) == (1, 1)
    snap = store.current()
    assert snap.lookup(2125554100) == (False, date(2030, 1, 8)) and snap.lookup(2125554177)[0]
    assert {n: c.version_date for n, c in snap.coverage.items()} == {"212": date(2030, 1, 8),
                                                                      "646": date(2030, 1, 8)}


@pytest.mark.parametrize("content, message", [
    ("2125554100\n21255501\n2125554102\n", r"line 2: '21255501' is not exactly 10 digits"),
    ("2125554100\n1125554101\n", r"line 2: '1125554101' is not a valid 10-digit NANP number"),
    ("2125554100\n212-555-4101\n", r"line 2"),
    ("\xff\xfe", r"malformed"),
])
def test_malformed_registry_leaves_snapshot_in_place(session, store, clock, tmp_path, content, message):
    good = tmp_path / "good.txt"
    good.write_text("2125554100\n")
    load_full(session, store, [good], version_date=date(2030, 1, 5), loaded_by="t", now=clock.now())
    before = store.current().generation
    bad = tmp_path / "bad.txt"
    bad.write_bytes(content.encode("latin-1"))
    with pytest.raises(UserError, match=message) as e:
        load_full(session, store, [bad], version_date=date(2030, 1, 6), loaded_by="t", now=clock.now())
    assert "current registry snapshot stays in force" in str(e.value)
    assert store.current().generation == before and store.current().lookup(2125554100)[0]
    changes = tmp_path / "changes.txt"
    changes.write_text("2125554100,D\n2125554101,X\n")
    with pytest.raises(UserError, match=r"line 2: '2125554101,X' is not NUMBER,A or NUMBER,D"):
        load_changes(session, store, changes, version_date=date(2030, 1, 6), loaded_by="t", now=clock.now())
    assert store.current().generation == before and store.current().lookup(2125554100)[0]


def test_malformed_lists_and_future_versions(session, store, clock, tmp_path):
    f = tmp_path / "tx.txt"
    f.write_text("# Texas list\n2145554100\nnot a number\n")
    with pytest.raises(UserError, match=r"tx.txt: 1 malformed line\(s\): line 3: 'not a number'"):
        load_list(session, "state", f, key="TX", version_date=date(2030, 1, 1), loaded_by="t", now=clock.now())
    load = load_list(session, "state", f, key="TX", version_date=date(2030, 1, 1), loaded_by="t", now=clock.now(),
                     max_malformed=1)
    assert (load.count, load.malformed) == (1, 1)
    with pytest.raises(UserError, match="in the future"):
        load_full(session, store, [f], version_date=date(2031, 1, 1), loaded_by="t", now=clock.now())


def test_generated_registry_round_trips(session, store, clock, tmp_path):
    g = generate(tmp_path / "r.txt", 30_000, area_codes=["212", "907"], seed=5, include=["+12125554123"])
    load = load_full(session, store, [g.path], version_date=date(2030, 1, 5), loaded_by="t", now=clock.now())
    assert load.count == g.count and load.lines == g.count
    nums = np.array(g.path.read_text().split(), dtype=np.int64)
    assert store.current().lookup_many(nums)[1].all() and store.current().lookup(2125554123)[0]
    assert len(store.current().coverage) > 300  # a whole-registry load covers every known area code


def test_parse_chunk_fast_and_slow_paths_agree():
    lines = b"2125554100\n9075554100\n"
    bad = Malformed("x")
    nums, n = parse_chunk(lines, 1, bad)
    assert nums.tolist() == [2125554100, 9075554100] and n == 2 and bad.count == 0
    nums, n = parse_chunk(b"2125554100\r\n\n9075554100\n", 1, bad)
    assert nums.tolist() == [2125554100, 9075554100] and n == 3 and bad.count == 0


@pytest.mark.parametrize("source,key,lines", [
    ("state", "TX", ["2145554100", "212555412³", "２１４５５５４１０１"]),
    ("litigator", "", ["2145554100", "²12 555 4120", "(２１４) ５５５-４１０２"]),
    ("prefix", "", ["212", "21²", "２１３"]),
])
def test_a_list_line_with_superscript_digits_is_a_malformed_line_not_a_crash(session, clock, tmp_path, source, key,
                                                                             lines):
    """"³" is a digit to Python (``isdigit``) but no number a switch dials: it was stored and the index's int
    conversion then crashed with a traceback. It is a malformed line named by number, like any other; full-width
    digits are read as the digits they are."""
    from dnc.lists import ListIndex

    f = tmp_path / "list.txt"
    f.write_text("\n".join(lines) + "\n")
    with pytest.raises(UserError, match=r"list.txt: 1 malformed line\(s\): line 2"):
        load_list(session, source, f, key=key, version_date=date(2030, 1, 1), loaded_by="t", now=clock.now())
    load = load_list(session, source, f, key=key, version_date=date(2030, 1, 1), loaded_by="t", now=clock.now(),
                     max_malformed=1)
    assert (load.count, load.malformed) == (2, 1)
    ListIndex(session)  # the lists in force load
