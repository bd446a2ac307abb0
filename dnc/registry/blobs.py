"""Snapshot files in the database: stored with the load that built them, fetched by the hosts that lack them.

Each file is cut into chunks of one area code's bitset (1.25 MB), each stored once under the SHA-256 of its bytes,
so a load that refreshes a few area codes adds only theirs, and storing or fetching never holds more than a few
chunks in memory (a whole registry is 0.5-1 GB). A sparse chunk is stored as the varint-coded gaps between its set
bits (a 50 M-number registry takes about a tenth of its bitset), a dense one as it is: coding a dense chunk would
cost more time than the space it saves. A fetch writes into a temporary directory, checks every chunk's and every
file's SHA-256 and size, and only then renames the directory into place, so a torn, corrupted or partial fetch is
never opened.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import numpy as np
from sqlalchemy import Engine, create_engine, delete, exists, select
from sqlalchemy.orm import Session

from dnc.registry.snapshot import BITS_FILE, MANIFEST, SLOT_BYTES, Snapshot, Store
from dnc.tables import RegistryChunk, RegistryFile, RegistryFileChunk

CHUNK = SLOT_BYTES
FILES = (MANIFEST, BITS_FILE)
FETCH_PREFIX = ".fetch-"
BATCH = 8  # chunks read per query: ~10 MB, one short transaction (SQLite's write lock is taken per transaction)
SPARSE = 0.4  # set bits per byte under which the gaps are stored instead of the bits

Opener = Callable[[], AbstractContextManager[Session]]


class FetchError(Exception):
    """A fetch that could not produce a verified generation; nothing was put in place."""


def encode(raw: bytes) -> tuple[str, bytes]:
    """(codec, data) for one chunk: ``raw``, or ``gaps`` (LEB128 varints of the distances between set bits)."""
    a = np.frombuffer(raw, dtype=np.uint8)
    if int(np.bitwise_count(a).sum()) > SPARSE * len(a):
        return "raw", raw
    pos = np.flatnonzero(np.unpackbits(a, bitorder="little").view(np.bool_))
    gaps = np.diff(pos, prepend=0).astype(np.uint64)
    width = np.ones(len(gaps), dtype=np.int64)
    for k in range(1, 5):
        width += gaps >= 1 << (7 * k)
    starts = np.cumsum(width) - width
    out = np.empty(int(width.sum()), dtype=np.uint8)
    out[starts] = (gaps & np.uint64(0x7F)) | np.where(width > 1, 0x80, 0).astype(np.uint64)
    for k in range(1, 5):  # the few gaps of more than 127 bits take more bytes
        m = np.flatnonzero(width > k)
        if not len(m):
            break
        more = np.where(width[m] > k + 1, 0x80, 0).astype(np.uint64)
        out[starts[m] + k] = ((gaps[m] >> np.uint64(7 * k)) & np.uint64(0x7F)) | more
    return "gaps", out.tobytes()


def decode(codec: str, data: bytes, size: int) -> bytes:
    """The chunk's bytes; ValueError when ``data`` cannot be what ``codec`` says."""
    if codec == "raw":
        return bytes(data)
    if codec != "gaps":
        raise ValueError(f"unknown codec {codec!r}")
    b = np.frombuffer(data, dtype=np.uint8)
    bits = np.zeros(size * 8, dtype=np.bool_)
    if len(b):
        last = b < 0x80
        if not last[-1]:
            raise ValueError("truncated varint")
        group = np.concatenate(([0], np.cumsum(last)[:-1]))
        first = np.flatnonzero(np.concatenate(([True], last[:-1])))
        shift = np.arange(len(b)) - first[group]
        if shift.max() > 4:
            raise ValueError("varint too long")
        gaps = np.bincount(group, weights=(b & 0x7F).astype(np.float64) * np.exp2(7 * shift),
                           minlength=int(last.sum()))
        pos = np.cumsum(gaps.astype(np.int64))
        if (len(pos) > 1 and (np.diff(pos) <= 0).any()) or pos[-1] >= size * 8:
            raise ValueError("positions out of order or out of range")
        bits[pos] = True
    return np.packbits(bits, bitorder="little").tobytes()


def _insert_ignore(session: Session, table, values: dict) -> None:
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    session.execute(insert(table).values(**values).on_conflict_do_nothing())


def _pieces(path: Path) -> Iterator[bytes]:
    with open(path, "rb") as f:
        while piece := f.read(CHUNK):
            yield piece


def publish(session: Session, directory: Path, load_id: int, now: datetime) -> int:
    """Store a generation directory's files against load ``load_id`` (in the caller's transaction); returns the
    bytes of chunks added (chunks the database already holds are not sent again)."""
    generation = directory.name
    added = 0
    for name in FILES:
        row = RegistryFile(load_id=load_id, generation=generation, name=name, size=0, sha256="", chunks=0,
                           stored_at=now)
        session.add(row)
        session.flush()
        whole = hashlib.sha256()
        count = 0
        for piece in _pieces(directory / name):
            whole.update(piece)
            sha = hashlib.sha256(piece).hexdigest()
            if not session.scalar(select(exists().where(RegistryChunk.sha256 == sha))):
                codec, data = encode(piece)
                _insert_ignore(session, RegistryChunk, {"sha256": sha, "codec": codec, "size": len(piece),
                                                        "data": data})
                added += len(data)
            session.execute(RegistryFileChunk.__table__.insert().values(file_id=row.id, seq=count, chunk=sha))
            count += 1
        row.size, row.sha256, row.chunks = (directory / name).stat().st_size, whole.hexdigest(), count
        session.flush()
    return added


def stored_files(session: Session, generation: str) -> list[RegistryFile]:
    return list(session.scalars(select(RegistryFile).where(RegistryFile.generation == generation)
                                .order_by(RegistryFile.name)))


def is_stored(session: Session, generation: str) -> bool:
    return {f.name for f in stored_files(session, generation)} >= set(FILES)


def read_small(session: Session, generation: str, name: str) -> bytes | None:
    """A small stored file (the manifest) in one piece, verified; None when it is not stored."""
    f = session.scalar(select(RegistryFile).where(RegistryFile.generation == generation, RegistryFile.name == name))
    if f is None or f.size > 4 * CHUNK:
        return None
    rows = session.execute(select(RegistryChunk.codec, RegistryChunk.data, RegistryChunk.size)
                           .join(RegistryFileChunk, RegistryFileChunk.chunk == RegistryChunk.sha256)
                           .where(RegistryFileChunk.file_id == f.id).order_by(RegistryFileChunk.seq)).all()
    data = b"".join(decode(c, d, n) for c, d, n in rows)
    return data if hashlib.sha256(data).hexdigest() == f.sha256 else None


def drop(session: Session, generation: str) -> int:
    """Delete a generation's stored files, then every chunk no file uses any more; returns the files deleted."""
    ids = list(session.scalars(select(RegistryFile.id).where(RegistryFile.generation == generation)))
    if not ids:
        return 0
    session.execute(delete(RegistryFileChunk).where(RegistryFileChunk.file_id.in_(ids)))
    session.execute(delete(RegistryFile).where(RegistryFile.id.in_(ids)))
    session.execute(delete(RegistryChunk).where(~exists().where(RegistryFileChunk.chunk == RegistryChunk.sha256)))
    return len(ids)


@dataclass(frozen=True)
class Fetched:
    generation: str
    bytes: int  # the generation's size on disk
    transferred: int  # bytes read from the database


def fetch(open_session: Opener, store: Store, generation: str) -> Fetched:
    """Copy a stored generation into ``store`` (temporary directory, checksums, one rename); FetchError if it
    cannot be done, with nothing left behind."""
    with open_session() as s:
        files = [(f.id, f.name, f.size, f.sha256, f.chunks) for f in stored_files(s, generation)]
    if {f[1] for f in files} < set(FILES):
        raise FetchError(f"generation {generation} is not stored in the database")
    gens = store.root / "generations"
    gens.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f"{FETCH_PREFIX}{generation}-", dir=gens))
    try:
        transferred = sum(_fetch_file(open_session, f, tmp) for f in files)
        try:
            snap = Snapshot(tmp)
            name = snap.generation
            snap.close()
        except Exception as e:  # noqa: BLE001 (whatever is wrong with it, it must not be used)
            raise FetchError(f"generation {generation}: the fetched files do not open ({e})") from None
        if name != generation:
            raise FetchError(f"generation {generation}: the stored manifest names {name}")
        final = gens / generation
        if (final / MANIFEST).exists():  # another process put it there meanwhile (a shared directory)
            shutil.rmtree(tmp, ignore_errors=True)
        else:
            os.rename(tmp, final)
            _fsync_dir(gens)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return Fetched(generation, sum(f[2] for f in files), transferred)


def _fetch_file(open_session: Opener, file: tuple, into: Path) -> int:
    file_id, name, size, sha256, chunks = file
    whole = hashlib.sha256()
    written = transferred = 0
    with open(into / name, "wb") as out:
        for first in range(0, chunks, BATCH):
            with open_session() as s:
                rows = s.execute(select(RegistryFileChunk.seq, RegistryChunk.sha256, RegistryChunk.codec,
                                        RegistryChunk.size, RegistryChunk.data)
                                 .join(RegistryChunk, RegistryChunk.sha256 == RegistryFileChunk.chunk)
                                 .where(RegistryFileChunk.file_id == file_id, RegistryFileChunk.seq >= first,
                                        RegistryFileChunk.seq < first + BATCH)
                                 .order_by(RegistryFileChunk.seq)).all()
            want = list(range(first, min(first + BATCH, chunks)))
            if [r[0] for r in rows] != want:
                raise FetchError(f"{name}: chunk(s) missing from the database (chunks {want[0]}-{want[-1]})")
            for seq, chunk_sha, codec, n, data in rows:
                transferred += len(data)
                try:
                    raw = decode(codec, data, n)
                except ValueError as e:
                    raise FetchError(f"{name}: chunk {seq} cannot be decoded ({e})") from None
                if len(raw) != n or hashlib.sha256(raw).hexdigest() != chunk_sha:
                    raise FetchError(f"{name}: chunk {seq} fails its checksum")
                whole.update(raw)
                if np.frombuffer(raw, dtype=np.uint8).any():
                    out.write(raw)
                else:
                    out.seek(len(raw), os.SEEK_CUR)  # an area code without numbers stays a hole
                written += len(raw)
        out.truncate(written)
        out.flush()
        os.fsync(out.fileno())
    if written != size or whole.hexdigest() != sha256:
        raise FetchError(f"{name}: checksum mismatch after fetch ({written:,} of {size:,} bytes; "
                         f"SHA-256 {whole.hexdigest()[:12]}, expected {sha256[:12]})")
    return transferred


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


_readers: dict[str, Engine] = {}
_readers_lock = threading.Lock()


def opener(bind, *, write: bool = False) -> Opener:
    """Short sessions on ``bind`` (an Engine, or a Session's bind), one per batch of chunks, so a long fetch never
    holds a transaction open. On SQLite, reads go through a plain engine of the same file: its reads take no lock
    (WAL), where the product's engine takes the write lock at BEGIN, so a fetch neither queues behind the dial loop
    nor deadlocks with a caller that holds the lock (a report fetching an old generation mid-request)."""
    engine = getattr(bind, "engine", bind)
    if not write and engine.dialect.name == "sqlite" and engine.url.database not in (None, "", ":memory:"):
        key = engine.url.render_as_string(hide_password=False)
        with _readers_lock:
            if key not in _readers:
                _readers[key] = create_engine(engine.url, connect_args={"timeout": 30})
            engine = _readers[key]

    @contextmanager
    def open_() -> Iterator[Session]:
        with Session(engine) as s:
            try:
                yield s
            finally:
                s.rollback()

    return open_
