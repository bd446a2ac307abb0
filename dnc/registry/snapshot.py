"""Reading national-registry snapshots: one memory-mapped bitset per covered area code.

A generation directory holds ``national.bits`` (for each covered area code, in slot order, 10**7 bits: bit
``local`` is set when NPA-``local`` is registered) and ``manifest.json`` (slot and version date of each area
code). ``current`` is a symlink to the generation in force, switched atomically by a load; older generations
stay for "as of" questions. A lookup is one byte read; a bulk scrub is a vectorized gather.
"""

from __future__ import annotations

import contextlib
import json
import mmap
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from pathlib import Path

import numpy as np

from dnc import settings
from dnc.errors import UserError

SLOT_BITS = 10_000_000
SLOT_BYTES = SLOT_BITS // 8
BITS_FILE, MANIFEST = "national.bits", "manifest.json"


@dataclass(frozen=True)
class Coverage:
    npa: str
    version_date: date
    load_id: int


class Snapshot:
    """One opened generation; lookups never touch the disk beyond the page cache."""

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            manifest = json.loads((path / MANIFEST).read_text(encoding="utf-8"))
        except (OSError, ValueError) as e:
            raise UserError(f"{path}: unreadable registry snapshot manifest ({e})") from None
        self.generation: str = manifest["generation"]
        self.load_id: int = manifest["load_id"]
        self.coverage: dict[str, Coverage] = {
            npa: Coverage(npa, date.fromisoformat(v["version_date"]), v["load_id"])
            for npa, v in manifest["npas"].items()}
        self.count: int = manifest.get("count", 0)
        self._slot = [-1] * 1000
        self._version = [None] * 1000
        for npa, v in manifest["npas"].items():
            self._slot[int(npa)] = v["slot"]
            self._version[int(npa)] = date.fromisoformat(v["version_date"])
        self.slots = np.array(self._slot, dtype=np.int64)
        size = len(manifest["npas"]) * SLOT_BYTES
        if size:
            with open(path / BITS_FILE, "rb") as f:
                if os.fstat(f.fileno()).st_size != size:
                    raise UserError(f"{path / BITS_FILE}: size does not match its manifest (damaged snapshot)")
                self._mm = mmap.mmap(f.fileno(), size, access=mmap.ACCESS_READ)
            self.bits = np.frombuffer(self._mm, dtype=np.uint8)
        else:
            self._mm = None
            self.bits = np.zeros(0, dtype=np.uint8)

    def lookup(self, n10: int) -> tuple[bool, date | None]:
        """(listed, version date of its area code); version None when no snapshot covers the area code."""
        npa, local = divmod(n10, SLOT_BITS)
        slot = self._slot[npa]
        if slot < 0:
            return False, None
        bit = slot * SLOT_BITS + local
        return bool((self._mm[bit >> 3] >> (bit & 7)) & 1), self._version[npa]

    def lookup_many(self, numbers: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Vectorized: (covered, listed) boolean arrays for 10-digit numbers as uint64/int64."""
        n = numbers.astype(np.int64, copy=False)
        npa, local = np.divmod(n, SLOT_BITS)
        slot = self.slots[npa]
        covered = slot >= 0
        bit = np.where(covered, slot, 0) * SLOT_BITS + local
        listed = ((self.bits[bit >> 3] >> (bit & 7).astype(np.uint8)) & 1).astype(bool) & covered if len(
            self.bits) else np.zeros(len(n), dtype=bool)
        return covered, listed

    def version_of(self, npa: str) -> date | None:
        c = self.coverage.get(npa)
        return c.version_date if c else None

    def close(self) -> None:
        if self._mm is not None:
            self.bits = np.zeros(0, dtype=np.uint8)
            with contextlib.suppress(BufferError):  # a caller still holds a view: it goes with the last reference
                self._mm.close()


class Store:
    """The snapshot directory (``DIALER_DNC_DIR``): the generation in force, reopened when a load switches it.

    ``auto_fetch``: a process that finds the directory without the generation in force fetches it from the
    database in the background (``dnc.registry.sync``); ``fetcher``, once a database is known, fetches an older
    generation a report asks for.
    """

    def __init__(self, root: str | os.PathLike, *, auto_fetch: bool = True) -> None:
        self.root = Path(root)
        self.auto_fetch = auto_fetch
        self.fetcher: Callable[[str], object] | None = None
        self._name: str | None = None
        self._snap: Snapshot | None = None

    @property
    def current_link(self) -> Path:
        return self.root / "current"

    def current(self) -> Snapshot | None:
        try:
            name = os.readlink(self.current_link)
        except (FileNotFoundError, NotADirectoryError):
            return None
        if name != self._name:
            self._snap = Snapshot(self.root / name)
            self._name = name
        return self._snap

    def current_name(self) -> str | None:
        """The generation ``current`` points to (without opening it)."""
        try:
            return Path(os.readlink(self.current_link)).name
        except (FileNotFoundError, NotADirectoryError):
            return None

    def has(self, name: str) -> bool:
        return (self.root / "generations" / name / MANIFEST).exists()

    def local_generations(self) -> list[str]:
        gens = self.root / "generations"
        return sorted(p.name for p in gens.iterdir() if (p / MANIFEST).exists()) if gens.is_dir() else []

    def generation(self, name: str) -> Snapshot | None:
        """An older generation (for reconciliation), fetched from the database when it is stored there but not
        here, or None when it was pruned."""
        path = self.root / "generations" / name
        if not (path / MANIFEST).exists():
            if self.fetcher is None:
                return None
            with contextlib.suppress(Exception):  # not stored, or a failed fetch: the report says it is missing
                self.fetcher(name)
            if not (path / MANIFEST).exists():
                return None
        cur = self.current()
        if cur is not None and cur.generation == name:
            return cur
        return _open_generation(str(path))

    def activate(self, name: str) -> None:
        """Point ``current`` at generation ``name`` with one atomic rename."""
        link = self.root / f".current-{os.getpid()}-{threading.get_ident()}"
        with contextlib.suppress(FileNotFoundError):
            link.unlink()
        os.symlink(f"generations/{name}", link)
        os.replace(link, self.current_link)
        fd = os.open(self.root, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


@lru_cache(maxsize=4)
def _open_generation(path: str) -> Snapshot:
    return Snapshot(Path(path))


_stores: dict[str, Store] = {}


def default_dir() -> Path:
    return settings.current().dnc_dir


def default_store() -> Store:
    """The process's store for ``DIALER_DNC_DIR`` (default ``./var/dnc``)."""
    key = str(default_dir().resolve())
    store = _stores.get(key)
    if store is None:
        store = _stores[key] = Store(key)
    return store
