"""State DNC lists, litigator lists, wireless/ported-to-wireless lists and area-code/prefix wildcard blocks.

Each load replaces that list (a state's list, the litigator list ...) as a new version; the old entries stay so
"as of" questions can be answered. The lists in force are kept in memory per process as sorted integer arrays
(one byte-level search per list per number) and reloaded when a new load appears.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import numpy as np
from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from dnc import ledger
from dnc.errors import UserError
from dnc.parsing import Malformed, ascii_digits, number_digits, open_lines, sha256_of
from dnc.tables import ListEntry, ListLoad

SOURCES = ("state", "litigator", "wireless", "prefix")
CODE_OF = {"state": "state_dnc", "litigator": "litigator", "wireless": "wireless", "prefix": "prefix_block"}


@dataclass(frozen=True)
class ListInfo:
    source: str
    key: str
    load_id: int
    version_date: date

    @property
    def label(self) -> str:
        name = f"{self.key} state DNC list" if self.source == "state" else f"{self.source} list"
        return f"{name} version {self.version_date} (load #{self.load_id})"


def load_list(session: Session, source: str, path: str | os.PathLike, *, key: str = "", version_date: date,
              loaded_by: str, now: datetime, vendor: str = "", max_malformed: int = 0) -> ListLoad:
    """Load a full list file as the new version of ``source``/``key``; all-or-nothing."""
    if source not in SOURCES:
        raise UserError(f"unknown list {source!r} (one of {', '.join(SOURCES)})")
    if source == "state" and not (len(key) == 2 and key.isalpha()):
        raise UserError(f"a state list needs a two-letter state, not {key!r}")
    key = key.upper()
    if version_date > now.date():
        raise UserError(f"version date {version_date} is in the future (today is {now.date()})")
    name = Path(path).name
    bad = Malformed(str(path))
    values: dict[str, str] = {}
    lines = 0
    for n, text in open_lines(path):
        lines += 1
        value, _, note = text.partition(",")
        value = value.strip()
        if source == "prefix":
            digits = ascii_digits(value.replace("-", "").replace(" ", ""))
            if not (digits.isascii() and digits.isdigit() and 3 <= len(digits) <= 9 and digits[0] not in "01"):
                bad.add(n, text, "is not an area code or prefix (3 to 9 digits, e.g. 212 or 212555)")
                continue
        else:
            digits = number_digits(value)
            if digits is None:
                bad.add(n, text, "is not a 10-digit North American number")
                continue
        values.setdefault(digits, note.strip()[:200])
    bad.check(max_malformed, f"{source} list")
    load = ListLoad(source=source, list_key=key, mode="full", version_date=version_date, file_name=name[:400],
                    sha256=sha256_of(path), lines=lines, count=len(values), added=len(values), deleted=0,
                    malformed=bad.count, vendor=vendor[:120], loaded_at=now, loaded_by=loaded_by[:120])
    session.add(load)
    session.flush()
    rows = [{"load_id": load.id, "value": v, "note": note} for v, note in values.items()]
    for i in range(0, len(rows), 10_000):
        session.execute(insert(ListEntry), rows[i:i + 10_000])
    ledger.append(session, "list_load", at=now, actor=loaded_by,
                  payload={"load_id": load.id, "source": source, "list_key": key, "version_date": str(version_date),
                           "sha256": load.sha256, "file": load.file_name, "lines": lines, "count": load.count,
                           "malformed": bad.count, "vendor": load.vendor})
    return load


def current_loads(session: Session, at: datetime | None = None) -> list[ListLoad]:
    """The load in force per list (the newest one, or the newest at ``at`` for as-of questions)."""
    q = select(func.max(ListLoad.id)).where(ListLoad.source.in_(SOURCES))
    if at is not None:
        q = q.where(ListLoad.loaded_at <= at)
    ids = session.scalars(q.group_by(ListLoad.source, ListLoad.list_key)).all()
    return list(session.scalars(select(ListLoad).where(ListLoad.id.in_(ids)).order_by(ListLoad.id))) if ids else []


class ListIndex:
    """The lists in force, in memory: sorted int64 arrays of numbers and a dict of prefixes."""

    def __init__(self, session: Session, at: datetime | None = None) -> None:
        self.numbers: list[tuple[ListInfo, np.ndarray]] = []
        self.prefixes: dict[str, list[ListInfo]] = {}
        self.state_lists: dict[str, ListInfo] = {}  # state -> its list in force (an empty one counts: it was loaded)
        for load in current_loads(session, at):
            info = ListInfo(load.source, load.list_key, load.id, load.version_date)
            if load.source == "state":
                self.state_lists[load.list_key] = info
            values = session.scalars(select(ListEntry.value).where(ListEntry.load_id == load.id)).all()
            if load.source == "prefix":
                for v in values:
                    self.prefixes.setdefault(v, []).append(info)
            elif values:
                self.numbers.append((info, np.sort(np.array([int(v) for v in values], dtype=np.int64))))
        self.prefix_lengths = sorted({len(p) for p in self.prefixes})

    def match(self, digits: str) -> list[ListInfo]:
        """Every list (and wildcard prefix list) the 10-digit number is on."""
        n = int(digits)
        found = []
        for info, arr in self.numbers:
            i = int(np.searchsorted(arr, n))
            if i < len(arr) and arr[i] == n:
                found.append(info)
        for k in self.prefix_lengths:
            found.extend(self.prefixes.get(digits[:k], ()))
        return found

    def match_many(self, numbers: np.ndarray) -> list[tuple[ListInfo, np.ndarray]]:
        """Vectorized: for each list that matches anything, a boolean array over ``numbers`` (int64)."""
        out = []
        for info, arr in self.numbers:
            i = np.searchsorted(arr, numbers)
            hit = arr[np.minimum(i, len(arr) - 1)] == numbers
            if hit.any():
                out.append((info, hit))
        for k in self.prefix_lengths:
            heads = numbers // 10 ** (10 - k)
            for p, infos in self.prefixes.items():
                if len(p) == k:
                    hit = heads == int(p)
                    if hit.any():
                        out.extend((info, hit) for info in infos)
        return out


_cache: dict[str, tuple[tuple, ListIndex]] = {}
_lock = threading.Lock()


def index_for(session: Session) -> ListIndex:
    """The in-memory index of the lists in force, rebuilt only when a list was loaded since the last call."""
    newest = select(func.max(ListLoad.id)).where(ListLoad.source.in_(SOURCES)).group_by(ListLoad.source,
                                                                                       ListLoad.list_key)
    mark = tuple(session.execute(select(ListLoad.id, ListLoad.sha256, ListLoad.loaded_at)
                                 .where(ListLoad.id.in_(newest)).order_by(ListLoad.id)).all())
    key = session.get_bind().url.render_as_string(hide_password=True)
    hit = _cache.get(key)
    if hit is not None and hit[0] == mark:
        return hit[1]
    index = ListIndex(session)
    with _lock:
        _cache[key] = (mark, index)
    return index


def sources_summary(session: Session, names: Iterable[str] = SOURCES) -> list[ListLoad]:
    return [load for load in current_loads(session) if load.source in names]
