"""The append-only, hash-chained suppression ledger: every gate, scrub, list load and DNC change leaves a record.

Each record's hash covers its sequence number, the previous record's hash and its canonical JSON body, so an
edited, deleted or reordered record breaks the chain at a place ``verify`` can name. Appends first update the
single chain-head row: on PostgreSQL that row lock serializes concurrent workers (no fork of the chain), on
SQLite the database write lock does the same.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from dnc.tables import LedgerHead, LedgerRecord

GENESIS = "0" * 64
# columns copied out of the body for queries; verify checks they still agree with the hashed body
_COLUMNS = ("kind", "at", "e164", "campaign_id", "allowed", "reasons", "actor")


def _iso(t: datetime) -> str:
    return t.astimezone(UTC).isoformat(timespec="microseconds")


def canonical(obj: dict) -> str:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def record_hash(seq: int, prev_hash: str, body: str) -> str:
    return hashlib.sha256(f"{seq}|{prev_hash}|{body}".encode()).hexdigest()


def append(session: Session, kind: str, *, at: datetime, actor: str = "", e164: str | None = None,
           campaign: int | None = None, allowed: bool | None = None, reasons: Iterable[str] = (),
           payload: dict | None = None) -> LedgerRecord:
    """Append one record in the caller's transaction (it commits or rolls back with the change it records)."""
    codes = ",".join(reasons)[:400]
    bumped = session.execute(update(LedgerHead).where(LedgerHead.id == 1).values(seq=LedgerHead.seq + 1))
    if bumped.rowcount == 0:  # the head row is gone (a truncated database): restart it from the last record
        last = session.execute(select(LedgerRecord.seq, LedgerRecord.hash).order_by(LedgerRecord.seq.desc())
                               .limit(1)).first()
        session.add(LedgerHead(id=1, seq=(last[0] if last else 0) + 1, hash=last[1] if last else GENESIS))
        session.flush()
    seq, prev = session.execute(select(LedgerHead.seq, LedgerHead.hash).where(LedgerHead.id == 1)).one()
    body = canonical({**(payload or {}), "kind": kind, "at": _iso(at), "e164": e164, "campaign_id": campaign,
                      "allowed": allowed, "reasons": codes, "actor": actor[:120]})
    digest = record_hash(seq, prev, body)
    rec = LedgerRecord(seq=seq, kind=kind, at=at, e164=e164, campaign_id=campaign, allowed=allowed, reasons=codes,
                       actor=actor[:120], body=body, prev_hash=prev, hash=digest)
    session.add(rec)
    session.execute(update(LedgerHead).where(LedgerHead.id == 1).values(hash=digest))
    session.flush()
    return rec


@dataclass
class Verification:
    records: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def _column_mismatch(rec: LedgerRecord, body: dict) -> str | None:
    for col in _COLUMNS:
        stored = getattr(rec, col)
        if col == "at":
            stored = _iso(stored)
        if stored != body.get(col):
            return f"column {col!r} is {stored!r} but the hashed record says {body.get(col)!r}"
    return None


def _rows(session: Session, batch: int = 5_000) -> Iterator[LedgerRecord]:
    last_id = 0
    while True:
        chunk = session.scalars(select(LedgerRecord).where(LedgerRecord.id > last_id)
                                .order_by(LedgerRecord.id).limit(batch)).all()
        if not chunk:
            return
        yield from chunk
        last_id = chunk[-1].id
        session.expunge_all()


def verify(session: Session) -> Verification:
    """Walk the chain in insertion order and name every edited, deleted or reordered record."""
    out = Verification()
    present = set(session.scalars(select(LedgerRecord.seq)))
    prev_seq, prev_hash, prev_ok = 0, GENESIS, True
    for rec in _rows(session):
        out.records += 1
        name = f"record seq {rec.seq} (id {rec.id}, {rec.kind} at {_iso(rec.at)})"
        self_ok = record_hash(rec.seq, rec.prev_hash, rec.body) == rec.hash
        if not self_ok:
            out.problems.append(f"{name} was edited: its contents no longer match its hash")
        else:
            try:
                mismatch = _column_mismatch(rec, json.loads(rec.body))
            except ValueError:
                mismatch = "its body is not valid JSON"
            if mismatch:
                self_ok = False
                out.problems.append(f"{name} was edited: {mismatch}")
        if rec.seq < prev_seq + 1:
            out.problems.append(f"{name} is out of order: it follows seq {prev_seq}")
        elif rec.seq > prev_seq + 1:
            gap = range(prev_seq + 1, rec.seq)
            gone = [q for q in gap if q not in present] if len(gap) <= 10_000 else list(gap)
            if gone:  # a record found elsewhere was moved, not deleted: its own "out of order" names it
                what = f"seq {gone[0]}" if len(gone) == 1 else f"seq {gone[0]}..{gone[-1]} ({len(gone)} records)"
                out.problems.append(f"record {what} deleted: missing before {name}")
        elif rec.prev_hash != prev_hash and self_ok and prev_ok:
            out.problems.append(f"record seq {prev_seq} was edited and re-hashed: {name} no longer links to it")
        if rec.seq > prev_seq:  # a record moved back in the order does not become the chain's tip
            prev_seq, prev_hash, prev_ok = rec.seq, rec.hash, self_ok
    head_seq, head_hash = session.execute(select(LedgerHead.seq, LedgerHead.hash).where(LedgerHead.id == 1)).one()
    if head_seq > prev_seq:
        gone = f"seq {prev_seq + 1}" if head_seq == prev_seq + 1 else f"seq {prev_seq + 1}..{head_seq}"
        out.problems.append(f"record {gone} deleted: the chain head says the last record is seq {head_seq}")
    elif head_seq == prev_seq and head_hash != prev_hash and not out.problems:
        out.problems.append(f"record seq {prev_seq} was edited and re-hashed: the chain head no longer matches it")
    return out


def history(session: Session, e164: str, limit: int = 500) -> list[LedgerRecord]:
    """Every record about one number, newest first (the per-number decision history)."""
    return list(session.scalars(select(LedgerRecord).where(LedgerRecord.e164 == e164)
                                .order_by(LedgerRecord.seq.desc()).limit(limit)))
