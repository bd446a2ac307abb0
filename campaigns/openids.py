"""Ids a reader that follows a table in id order stepped over ("open" ids), so a row committed late is not missed.

A reader that keeps "the highest id I have read" (the reconciliation's verdicts, the dial loop's cursor into the
agent history) leaves holes on PostgreSQL: an id is drawn from the sequence when its row is inserted, and several
writers (dial workers, an import, the console) commit in any order, so a row can become visible after a row with a
higher id was read. The reader therefore notes the ids it stepped over (the gaps between the ids it read) and looks
for them again, by primary key, on its later reads; a row that appears in one is taken then.

An id stays open until no transaction can still commit it. Most gaps are ids that will never appear (a deleted row,
a transaction rolled back); one is let go only when PostgreSQL says every transaction that could hold it has ended:
``pg_snapshot_xmax`` of a snapshot taken after the read that found the gap (the next transaction id to be handed
out: the holder, which drew the id before that read, has a smaller one) is kept with the gap, and the gap is let go
once ``pg_snapshot_xmin`` (the oldest transaction still running) has passed it, the read that follows still finding
nothing. A long transaction (an import of a whole history) keeps its ids open however long it runs; so does, for
a while, a long transaction in another database of the same server (the oldest is the cluster's): that only delays
letting an absent id go. ``GRACE``
covers the one instant this does not: a transaction gets its id from the sequence inside its INSERT a moment before
it gets a transaction id (when the INSERT is its first write).

Why not the alternatives: reading again every row of a recent window that was not handled needs a mark on every
row handled and a window long enough for the longest transaction, which nothing bounds; a fixed overlap of ids
misses a row once that many later ids committed first; a low-water mark held below the oldest running transaction
stalls the reader behind one long import. The open ids are few (the rollbacks and deletions of the last minutes)
and are looked for by primary key, whatever the size of the table.

SQLite has one writer: a transaction holds the write lock from its first statement to its commit, so ids become
visible in id order and an absent id there is let go at once.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta

from sqlalchemy import or_, text
from sqlalchemy.orm import Session

GRACE = timedelta(minutes=2)  # far longer than the instant between drawing an id and taking a transaction id
BATCH = 500  # ranges per query


def xids(session: Session) -> tuple[int, int] | None:
    """(oldest transaction id still running, next one to be handed out) now, on PostgreSQL; None elsewhere."""
    if session.get_bind().dialect.name != "postgresql":
        return None
    lo, hi = session.execute(text("SELECT pg_snapshot_xmin(s)::text::bigint, pg_snapshot_xmax(s)::text::bigint "
                                  "FROM pg_current_snapshot() AS s")).one()
    return int(lo), int(hi)


def missing(prev: int, ids: Sequence[int]) -> list[tuple[int, int]]:
    """The ranges of ids after ``prev`` and below the last of ``ids`` (ascending) that ``ids`` lacks."""
    out = []
    for i in ids:
        if i > prev + 1:
            out.append((prev + 1, i - 1))
        prev = max(prev, i)
    return out


def within(column, ranges: Iterable[Sequence]):
    """A condition: ``column`` in one of the ranges."""
    return or_(*(column.between(r[0], r[1]) for r in ranges))


def batches(ranges: Sequence[Sequence]) -> Iterable[Sequence[Sequence]]:
    for k in range(0, len(ranges), BATCH):
        yield ranges[k:k + BATCH]


def without(ranges: Sequence[list], seen: Sequence[int]) -> list[list]:
    """The ranges less the ids seen (ascending), each piece keeping its range's horizon and time."""
    out = []
    j = 0
    for lo, hi, *rest in ranges:
        while j < len(seen) and seen[j] < lo:
            j += 1
        at = lo
        while j < len(seen) and seen[j] <= hi:
            if seen[j] > at:
                out.append([at, seen[j] - 1, *rest])
            at = seen[j] + 1
            j += 1
        if at <= hi:
            out.append([at, hi, *rest])
    return out


def settle(ranges: Sequence[list], waiting: Sequence[int], oldest: int | None, now: datetime) -> list[list]:
    """The ranges still open. ``waiting`` (ascending): their ids whose rows exist but were not taken yet (the
    verdicts wait for a claimed call to be placed): those stay open whatever. The other ids are absent: ``oldest``
    (taken before the read that looked for them) is the oldest transaction running then; None (SQLite) lets them
    go at once."""
    kept = [[i, i, *r[2:]] for r in ranges for i in waiting if r[0] <= i <= r[1]]
    if oldest is not None:
        kept += [r for r in without(ranges, waiting)
                 if (r[2] is not None and r[2] > oldest) or now < datetime.fromisoformat(r[3]) + GRACE]
    return sorted(kept)


def note(ranges: Iterable[tuple[int, int]], horizon: tuple[int, int] | None, now: datetime,
         only: Sequence[Sequence] | None = None) -> list[list]:
    """The new gaps as open ranges (``horizon``: ``xids`` taken after the read that found them, None on SQLite).
    ``only``: keep just their parts inside these ranges (a rebuild re-finds gaps already let go)."""
    out = []
    for lo, hi in ranges:
        for a, b in ([(lo, hi)] if only is None else
                     ((max(lo, r[0]), min(hi, r[1])) for r in only if r[0] <= hi and r[1] >= lo)):
            out.append([a, b, horizon[1] if horizon else None, now.isoformat()])
    return out
