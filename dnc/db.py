"""Declarative base of the suppression tables.

``dnc`` imports no other package of ours, so it owns its own metadata; callers hand it sessions, and the
Alembic environment in ``dialer/migrations`` migrates both metadata sets.
"""

from __future__ import annotations

from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class DncBase(DeclarativeBase):
    """Base of every table ``dnc`` owns (suppression entries, registry loads, consent, the audit ledger)."""

    metadata = MetaData(naming_convention=NAMING)
