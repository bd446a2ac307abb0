"""Bulk writes for an import: Core/driver-level inserts inside the caller's transaction.

An ORM object per lead would cost more than everything else in an import put together, so leads and
rejected rows go in as plain tuples: ``executemany`` on SQLite, ``COPY`` on PostgreSQL. Both run on the
session's own connection, so the whole import stays one transaction and a failure leaves nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, datetime

from sqlalchemy import Connection, DateTime, select

from campaigns.leads.models import Lead

# What an import varies per lead; the writer adds campaign, list, counters and timestamps.
LEAD_COLUMNS = ("line", "phone", "phone_type", "first_name", "last_name", "state", "postal_code", "timezones",
                "custom", "status", "suppression")
CONSTANT_COLUMNS = ("campaign_id", "list_id", "priority", "attempts", "created_at", "updated_at")
REJECT_COLUMNS = ("list_id", "line", '"column"', "kind", "reason", "raw")


class BulkWriter:
    """Appends lead and rejected-row tuples to the tables on one connection."""

    def __init__(self, conn: Connection, now: datetime, campaign_id: int, list_id: int) -> None:
        self.conn = conn
        self.postgres = conn.dialect.name == "postgresql"
        naive = now.astimezone(UTC).replace(tzinfo=None)
        to_db = DateTime().dialect_impl(conn.dialect).bind_processor(conn.dialect)
        stamp = naive if self.postgres or to_db is None else to_db(naive)
        self.constants = (int(campaign_id), int(list_id), 0, 0, stamp, stamp)

    def leads(self, rows: Sequence[tuple]) -> None:
        """Rows shaped like ``LEAD_COLUMNS``."""
        if not rows:
            return
        columns = ", ".join(LEAD_COLUMNS + CONSTANT_COLUMNS)
        if self.postgres:
            k = self.constants
            self._copy("leads", columns, (row + k for row in rows))
            return
        # Constants go in as literals: binding six fewer parameters per row is a measurable share of the insert.
        cid, lid, _, _, stamp, _ = self.constants
        literals = f"{cid}, {lid}, 0, 0, '{stamp}', '{stamp}'"
        marks = ", ".join("?" * len(LEAD_COLUMNS))
        self.conn.exec_driver_sql(f"INSERT INTO leads ({columns}) VALUES ({marks}, {literals})", list(rows))

    def rejects(self, rows: Sequence[tuple]) -> None:
        if not rows:
            return
        columns = ", ".join(REJECT_COLUMNS)
        if self.postgres:
            self._copy("rejected_rows", columns, rows)
            return
        marks = ", ".join("?" * len(REJECT_COLUMNS))
        self.conn.exec_driver_sql(f"INSERT INTO rejected_rows ({columns}) VALUES ({marks})", list(rows))

    def _copy(self, table: str, columns: str, rows: Iterable[tuple]) -> None:
        raw = self.conn.connection.driver_connection
        with raw.cursor() as cur, cur.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)


def existing_keys(conn: Connection, scope: str, campaign_id: int) -> set[int]:
    """Numbers already stored where the campaign's dedupe scope says a lead must be unique, as integers."""
    if scope == "list":
        return set()
    q = select(Lead.phone)
    if scope == "campaign":
        q = q.where(Lead.campaign_id == campaign_id)
    return {int(p[1:]) for p in _stream(conn, q)}


def _stream(conn: Connection, q) -> Iterator[str]:
    result = conn.execute(q.execution_options(yield_per=50_000))  # per statement: Connection.execution_options sticks
    for part in result.partitions():
        for (phone,) in part:
            yield phone
