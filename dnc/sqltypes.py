"""Column types that behave the same on SQLite and PostgreSQL.

They live in ``dnc`` because it is the lowest of our packages: ``campaigns`` imports them from here.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import DateTime, TypeDecorator


class UTCDateTime(TypeDecorator):
    """Stores naive UTC, hands back aware UTC.

    SQLite keeps no offsets and PostgreSQL converts with the session zone; storing naive UTC on both and
    re-attaching UTC on the way out makes comparisons and reports identical on either database.
    """

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column; pass an aware datetime")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC)
