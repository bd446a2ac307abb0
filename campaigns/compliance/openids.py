"""The call ids below the verdicts' high mark that were not there when the judging passed them ("open" ids).

The verdicts job judges calls in id order and keeps the highest id judged. On PostgreSQL that alone leaves holes:
a call's id is drawn from the sequence when its row is inserted, and several dial workers (an import, the console)
commit in any order, so a call can become visible after a call with a higher id was judged. Each run therefore
notes the ids it stepped over (the gaps between the ids it read) and looks for them again on every later run; a
call that appears in one is judged then, like a new call.

An id stays open until no transaction can still commit it. Most gaps are ids that will never appear (a claim whose
placement failed deletes its row, a transaction rolled back); we let an id go only when PostgreSQL says every
transaction that could hold it has ended: ``pg_snapshot_xmax`` of a snapshot taken after the read that found the gap
(the next transaction id to be handed out: the holder, which drew the id before that read, has a smaller one) is
kept with the gap, and the gap is let go once ``pg_snapshot_xmin`` (the oldest transaction still running) has passed
it, the presence read that follows finding nothing. A long transaction (an import of a whole history) keeps its ids
open however long it runs. ``GRACE`` covers the one instant this does not: a transaction gets its id from the
sequence inside its INSERT a moment before it gets a transaction id (when the INSERT is its first write).

Why not the alternatives: judging again every call of a recent window that has no verdict needs a mark on every
judged call (most calls break nothing and have no verdict row) and a window long enough for the longest transaction,
which nothing bounds; a low-water mark held below the oldest running transaction stalls all judging behind one
long import. The open ids are few (the failed placements and rollbacks of the last minutes) and each run looks for
them by primary key, whatever the size of the history.

SQLite has one writer: a transaction holds the write lock from its first statement to its commit, so ids become
visible in id order and an absent id there is let go at once.

On both, a call is judged once placed, not when claimed: the claim's row exists before the carrier takes the call,
and the send may move ``placed_at`` (``campaigns.dispatch.service.mark_placed``) or, refused, delete the row. A
claimed row the judging steps over stays open, whatever the transactions, until it is placed (judged then, at the
moment it was sent) or gone. The highest id judged is thus always a placed call, which is never deleted: SQLite, which
hands a deleted largest rowid out again, can only reuse ids above it.
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
    """The ranges still open. ``waiting`` (ascending): their ids whose rows exist but were not judged (a claim the
    carrier has not taken yet): those stay open whatever. The other ids are absent: ``oldest`` (taken before the
    read that looked for them) is the oldest transaction running then; None (SQLite) lets them go at once."""
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
