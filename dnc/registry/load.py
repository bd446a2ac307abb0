"""Loading national-registry full lists and change lists into a new snapshot generation, atomically.

The whole input is parsed and checked first; only then is a new generation written next to the old one, stored in
the database with the load (``blobs``: every other host fetches it from there) and the ``current`` link switched
with one rename, so a malformed file, a crash or a full disk leaves the snapshot in force untouched. A partial
load or a change list starts from the generation in force as the database names it (fetched first when this
host lacks it), never from an older one this host happens to hold. During a load the bits live in one
lazily-zeroed array indexed by the number itself (10**10 bits, only touched pages become resident), so a full
250 M-number registry needs about 0.5 GB.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import numpy as np
from sqlalchemy.orm import Session

from dnc import ledger
from dnc.errors import UserError
from dnc.parsing import Malformed, open_lines, sha256_of
from dnc.registry import blobs
from dnc.registry.parse import read_numbers
from dnc.registry.snapshot import BITS_FILE, MANIFEST, SLOT_BITS, SLOT_BYTES, Snapshot, Store
from dnc.registry.sync import base_for_load
from dnc.tables import ListLoad
from dnc.zones import _npa_states

ALL_BYTES = 1000 * SLOT_BYTES
PIECE = 4096


def parse_area_codes(text: str | Iterable[str] | None) -> list[str] | None:
    if text is None:
        return None
    items = text.split(",") if isinstance(text, str) else list(text)
    out = sorted({i.strip() for i in items if i.strip()})
    bad = [a for a in out if not (len(a) == 3 and a.isdigit() and a[0] not in "01")]
    if bad or not out:
        raise UserError(f"--area-codes: {', '.join(bad) or 'nothing given'}: area codes are three digits, 200-999")
    return out


def check_version(version_date: date, now: datetime) -> None:
    if version_date > now.date():
        raise UserError(f"--version-date {version_date} is in the future (today is {now.date()})")


def _block(buf: np.ndarray, npa: str) -> np.ndarray:
    i = int(npa) * SLOT_BYTES
    return buf[i:i + SLOT_BYTES]


def _write_sparse(f, offset: int, block: np.ndarray) -> None:
    """Write only the non-zero pages: a sparsely populated area code costs little disk."""
    whole = len(block) // PIECE * PIECE
    pieces = block[:whole].reshape(-1, PIECE)
    for k in np.flatnonzero(pieces.any(axis=1)):
        f.seek(offset + int(k) * PIECE)
        f.write(pieces[k].tobytes())
    tail = block[whole:]
    if tail.any():
        f.seek(offset + whole)
        f.write(tail.tobytes())


@dataclass
class Built:
    generation: str
    count: int
    coverage: dict[str, dict]


def _build(store: Store, load_id: int, buf: np.ndarray, fresh: dict[str, date],
           keep: Snapshot | None, keep_npas: Sequence[str]) -> Built:
    """Write a generation: ``fresh`` area codes from ``buf``, ``keep_npas`` copied from the snapshot in force."""
    gens = store.root / "generations"
    gens.mkdir(parents=True, exist_ok=True)
    name = f"g{load_id:07d}"
    tmp = Path(tempfile.mkdtemp(prefix=f".{name}-", dir=gens))
    try:
        npas = sorted(set(fresh) | set(keep_npas))
        coverage, total = {}, 0
        with open(tmp / BITS_FILE, "wb") as f:
            for slot, npa in enumerate(npas):
                if npa in fresh:
                    block, version, lid = _block(buf, npa), fresh[npa], load_id
                else:
                    c = keep.coverage[npa]
                    s = keep._slot[int(npa)] * SLOT_BYTES
                    block, version, lid = keep.bits[s:s + SLOT_BYTES], c.version_date, c.load_id
                n = int(np.bitwise_count(block).sum())
                total += n
                coverage[npa] = {"slot": slot, "version_date": str(version), "load_id": lid, "count": n}
                _write_sparse(f, slot * SLOT_BYTES, block)
            f.truncate(len(npas) * SLOT_BYTES)
            f.flush()
            os.fsync(f.fileno())
        manifest = {"generation": name, "load_id": load_id, "count": total, "npas": coverage}
        (tmp / MANIFEST).write_text(json.dumps(manifest, indent=0), encoding="utf-8")
        final = gens / name
        if final.exists():
            shutil.rmtree(final)
        os.rename(tmp, final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return Built(name, total, coverage)


def _record(session: Session, *, mode: str, paths: Sequence[Path], sha: str, version_date: date, lines: int,
            bad: Malformed, area_codes: list[str] | None, loaded_by: str, now: datetime) -> ListLoad:
    load = ListLoad(source="national", list_key="", mode=mode, version_date=version_date,
                    file_name=", ".join(p.name for p in paths)[:400], sha256=sha, lines=lines, malformed=bad.count,
                    area_codes=area_codes, loaded_at=now, loaded_by=loaded_by[:120])
    session.add(load)
    session.flush()
    return load


def _finish(session: Session, store: Store, load: ListLoad, built: Built, added: int, deleted: int,
            extra: dict | None = None) -> ListLoad:
    load.generation, load.count, load.added, load.deleted = built.generation, built.count, added, deleted
    session.flush()
    blobs.publish(session, store.root / "generations" / built.generation, load.id, load.loaded_at)
    ledger.append(session, "registry_load", at=load.loaded_at, actor=load.loaded_by,
                  payload={"load_id": load.id, "mode": load.mode, "version_date": str(load.version_date),
                           "sha256": load.sha256, "files": load.file_name, "lines": load.lines, "count": built.count,
                           "added": added, "deleted": deleted, "malformed": load.malformed,
                           "area_codes": load.area_codes or "all", "generation": built.generation,
                           **(extra or {})})
    store.activate(built.generation)
    return load


def load_full(session: Session, store: Store, paths: Sequence[str | os.PathLike], *, version_date: date,
              loaded_by: str, now: datetime, area_codes: Iterable[str] | str | None = None,
              max_malformed: int = 0) -> ListLoad:
    """Load full list file(s): the whole registry, or only ``area_codes`` (other area codes stay as they are)."""
    paths = [Path(p) for p in paths]
    if not paths:
        raise UserError("no registry file given")
    check_version(version_date, now)
    wanted = parse_area_codes(area_codes)
    bad = Malformed(", ".join(str(p) for p in paths))
    hasher = hashlib.sha256()
    buf = np.zeros(ALL_BYTES, dtype=np.uint8)
    seen = np.zeros(1000, dtype=bool)
    lines = 0
    allowed = np.zeros(1000, dtype=bool)
    if wanted:
        allowed[[int(a) for a in wanted]] = True
    outside = 0
    for p in paths:
        part = Malformed(str(p))
        for nums, n in read_numbers(p, part, hasher):
            lines += n
            if len(nums) == 0:
                continue
            npa = nums // SLOT_BITS
            if wanted:  # a whole-registry file loaded for the subscribed area codes only
                keep = allowed[npa]
                outside += len(nums) - int(keep.sum())
                nums, npa = nums[keep], npa[keep]
            seen[npa] = True
            np.bitwise_or.at(buf, nums >> 3, np.left_shift(1, nums & 7).astype(np.uint8))
        bad.count += part.count
        named = [(n, t, f"({p.name}) {why}" if len(paths) > 1 else why) for n, t, why in part.examples]
        bad.examples += named[:10 - len(bad.examples)]
    bad.check(max_malformed, "registry snapshot")
    fresh_npas = wanted or sorted(set(_npa_states()) | {f"{i:03d}" for i in np.flatnonzero(seen)})
    current = base_for_load(session, store) if wanted else None
    keep = [n for n in (current.coverage if current else {}) if n not in set(fresh_npas)] if wanted else []
    sha = hasher.hexdigest() if len(paths) == 1 else hashlib.sha256(hasher.digest()).hexdigest()
    load = _record(session, mode="full", paths=paths, sha=sha, version_date=version_date, lines=lines, bad=bad,
                   area_codes=wanted, loaded_by=loaded_by, now=now)
    built = _build(store, load.id, buf, {n: version_date for n in fresh_npas}, current, keep)
    del buf
    return _finish(session, store, load, built, built.count, 0, {"outside_area_codes": outside})


_FLAGS = {"a": True, "add": True, "added": True, "addition": True,
          "d": False, "del": False, "delete": False, "deleted": False, "deletion": False}


def load_changes(session: Session, store: Store, path: str | os.PathLike, *, version_date: date, loaded_by: str,
                 now: datetime, area_codes: Iterable[str] | str | None = None, max_malformed: int = 0) -> ListLoad:
    """Apply a change list (``NUMBER,A`` / ``NUMBER,D`` per line, more fields ignored) to the snapshot in force.

    The area codes it refreshes (all covered ones, or ``area_codes``) take its version date.
    """
    check_version(version_date, now)
    current = base_for_load(session, store)
    if current is None:
        raise UserError("no national registry snapshot is loaded yet: load a full list first "
                        "(dialer dnc load-national FILE)")
    wanted = parse_area_codes(area_codes) or sorted(current.coverage)
    missing = [a for a in wanted if a not in current.coverage]
    if missing:
        raise UserError(f"--area-codes {', '.join(missing)}: not covered by the snapshot in force; load a full "
                        "list for them first")
    path = Path(path)
    bad = Malformed(str(path))
    adds, dels = [], []
    lines = 0
    for n, text in open_lines(path):
        lines += 1
        fields = [x.strip() for x in text.split(",")]
        flag = _FLAGS.get(fields[1].lower()) if len(fields) >= 2 else None
        num = fields[0]
        if flag is None:
            bad.add(n, text, "is not NUMBER,A or NUMBER,D")
        elif not (len(num) == 10 and num.isdigit() and num[0] not in "01" and num[3] not in "01"):
            bad.add(n, text, "does not start with a valid 10-digit number")
        elif num[:3] not in wanted:
            bad.add(n, text, f"is in area code {num[:3]}, which this change list does not refresh")
        else:
            (adds if flag else dels).append(int(num))
    bad.check(max_malformed, "registry snapshot")
    buf = np.zeros(ALL_BYTES, dtype=np.uint8)
    for npa in wanted:
        s = current._slot[int(npa)] * SLOT_BYTES
        _block(buf, npa)[:] = current.bits[s:s + SLOT_BYTES]
    before = sum(int(np.bitwise_count(_block(buf, a)).sum()) for a in wanted)
    if dels:
        d = np.array(dels, dtype=np.int64)
        np.bitwise_and.at(buf, d >> 3, ~np.left_shift(1, d & 7).astype(np.uint8))
    after_del = sum(int(np.bitwise_count(_block(buf, a)).sum()) for a in wanted)
    if adds:
        a = np.array(adds, dtype=np.int64)
        np.bitwise_or.at(buf, a >> 3, np.left_shift(1, a & 7).astype(np.uint8))
    after = sum(int(np.bitwise_count(_block(buf, a)).sum()) for a in wanted)
    load = _record(session, mode="changes", paths=[path], sha=sha256_of(path), version_date=version_date,
                   lines=lines, bad=bad, area_codes=wanted if area_codes else None, loaded_by=loaded_by, now=now)
    keep = [n for n in current.coverage if n not in set(wanted)]
    built = _build(store, load.id, buf, {n: version_date for n in wanted}, current, keep)
    return _finish(session, store, load, built, after - after_del, before - after_del)
