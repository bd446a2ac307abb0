"""The suppression tables: internal DNC requests, list loads and their entries, consent/EBR, the audit ledger.

Rows are facts with their time intervals (effective/removed, granted/expires/revoked, loaded at) rather than
current flags, so every question can be asked "as of" a past instant: the reconciliation report joins each call
against the state that held when it was placed. The national registry is served from memory-mapped snapshot files
(``dnc.registry``); the database records its loads and keeps each generation's files as content-addressed chunks,
so every host can fetch the generation in force (``dnc.registry.blobs``, ``dnc.registry.sync``).
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from dnc.db import DncBase
from dnc.sqltypes import UTCDateTime


class InternalEntry(DncBase):
    """One do-not-call request to the seller (company scope) or to one campaign; kept at least 5 years."""

    __tablename__ = "dnc_internal"
    __table_args__ = (Index("ix_dnc_internal_e164", "e164", "effective_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    e164: Mapped[str] = mapped_column(String(20))
    scope: Mapped[str] = mapped_column(String(8))  # company | campaign
    campaign_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    channel: Mapped[str] = mapped_column(String(16))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime)
    effective_at: Mapped[datetime] = mapped_column(UTCDateTime)
    honor_deadline: Mapped[datetime] = mapped_column(UTCDateTime)
    retain_until: Mapped[datetime] = mapped_column(UTCDateTime)
    added_by: Mapped[str] = mapped_column(String(120))
    source_ref: Mapped[str] = mapped_column(String(200), default="")
    reason: Mapped[str] = mapped_column(String(400), default="")
    removed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    removed_by: Mapped[str | None] = mapped_column(String(120), nullable=True)
    removal_reason: Mapped[str | None] = mapped_column(String(400), nullable=True)
    # the request this entry follows from when it lists another number of the same person (None: a request itself)
    linked_to: Mapped[int | None] = mapped_column(Integer, nullable=True)


class ListLoad(DncBase):
    """One versioned load of a suppression source (national registry full/change list, state, litigator ...)."""

    __tablename__ = "dnc_loads"
    __table_args__ = (Index("ix_dnc_loads_source", "source", "list_key", "loaded_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    source: Mapped[str] = mapped_column(String(16))  # national | state | litigator | wireless | prefix | rnd
    list_key: Mapped[str] = mapped_column(String(16), default="")  # the state for state lists
    mode: Mapped[str] = mapped_column(String(8), default="full")  # full | changes
    version_date: Mapped[date] = mapped_column(Date)
    file_name: Mapped[str] = mapped_column(String(400), default="")
    sha256: Mapped[str] = mapped_column(String(64))
    lines: Mapped[int] = mapped_column(BigInteger, default=0)
    count: Mapped[int] = mapped_column(BigInteger, default=0)  # entries in force after the load
    added: Mapped[int] = mapped_column(BigInteger, default=0)
    deleted: Mapped[int] = mapped_column(BigInteger, default=0)
    malformed: Mapped[int] = mapped_column(Integer, default=0)
    area_codes: Mapped[list | None] = mapped_column(JSON, nullable=True)
    generation: Mapped[str | None] = mapped_column(String(40), nullable=True)
    vendor: Mapped[str] = mapped_column(String(120), default="")
    loaded_at: Mapped[datetime] = mapped_column(UTCDateTime)
    loaded_by: Mapped[str] = mapped_column(String(120), default="")


class ListEntry(DncBase):
    """A number (10 digits) or a prefix (3-9 digits, for wildcard blocks) of one list load."""

    __tablename__ = "dnc_list_entries"
    __table_args__ = (Index("ix_dnc_list_entries_value", "value", "load_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    load_id: Mapped[int] = mapped_column(ForeignKey("dnc_loads.id"), index=True)
    value: Mapped[str] = mapped_column(String(16))
    note: Mapped[str] = mapped_column(String(200), default="")


class RndEntry(DncBase):
    """One permanent disconnection a Reassigned Numbers Database load records: the number (10 digits) and the day.

    A load (``ListLoad`` with source ``rnd``) is a full version or changes added to the one before; a number may
    appear more than once (the latest day is the one that counts)."""

    __tablename__ = "dnc_rnd_entries"
    __table_args__ = (Index("ix_dnc_rnd_entries_value", "value", "load_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    load_id: Mapped[int] = mapped_column(ForeignKey("dnc_loads.id"), index=True)
    value: Mapped[str] = mapped_column(String(10))
    disconnected_on: Mapped[date] = mapped_column(Date)


class Consent(DncBase):
    """Prior express written consent or an established business relationship, with its evidence and expiry."""

    __tablename__ = "dnc_consents"
    __table_args__ = (Index("ix_dnc_consents_e164", "e164", "granted_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    e164: Mapped[str] = mapped_column(String(20))
    kind: Mapped[str] = mapped_column(String(16))  # pewc | ebr_purchase | ebr_inquiry
    campaign_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    granted_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    evidence_ref: Mapped[str] = mapped_column(String(400))
    added_by: Mapped[str] = mapped_column(String(120), default="")
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    revoked_by: Mapped[str | None] = mapped_column(String(120), nullable=True)
    revoked_reason: Mapped[str | None] = mapped_column(String(400), nullable=True)


class LedgerRecord(DncBase):
    """One append-only audit record; ``hash`` covers ``seq``, ``prev_hash`` and ``body`` (the canonical JSON)."""

    __tablename__ = "dnc_ledger"
    __table_args__ = (Index("ix_dnc_ledger_e164_at", "e164", "at"), Index("ix_dnc_ledger_kind_at", "kind", "at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger, unique=True)
    kind: Mapped[str] = mapped_column(String(24))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    e164: Mapped[str | None] = mapped_column(String(20), nullable=True)
    campaign_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    allowed: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    reasons: Mapped[str] = mapped_column(String(400), default="")
    actor: Mapped[str] = mapped_column(String(120), default="")
    body: Mapped[str] = mapped_column(Text)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class LedgerHead(DncBase):
    """The chain head (one row): appends lock it, so two workers never fork the chain."""

    __tablename__ = "dnc_ledger_head"

    id: Mapped[int] = mapped_column(primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger, default=0)
    hash: Mapped[str] = mapped_column(String(64))


class RegistryFile(DncBase):
    """One file of a national-registry snapshot generation, stored with the load that built it."""

    __tablename__ = "dnc_registry_files"
    __table_args__ = (UniqueConstraint("generation", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    load_id: Mapped[int] = mapped_column(ForeignKey("dnc_loads.id"), index=True)
    generation: Mapped[str] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))  # of the whole file, checked after every fetch
    chunks: Mapped[int] = mapped_column(Integer)
    stored_at: Mapped[datetime] = mapped_column(UTCDateTime)


class RegistryChunk(DncBase):
    """A piece of a stored file (one area code's bitset), keyed by the SHA-256 of its bytes: a generation that
    keeps an area code unchanged shares its chunk with the one before."""

    __tablename__ = "dnc_registry_chunks"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    codec: Mapped[str] = mapped_column(String(8))  # raw | gaps16 | gaps32 (``dnc.registry.blobs``)
    size: Mapped[int] = mapped_column(Integer)  # bytes once decoded
    data: Mapped[bytes] = mapped_column(LargeBinary)


class RegistryFileChunk(DncBase):
    """The chunks of a stored file, in order."""

    __tablename__ = "dnc_registry_file_chunks"

    file_id: Mapped[int] = mapped_column(ForeignKey("dnc_registry_files.id"), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, primary_key=True)
    chunk: Mapped[str] = mapped_column(ForeignKey("dnc_registry_chunks.sha256"), index=True)


class RegistryHost(DncBase):
    """What each host's snapshot directory serves, as its last sync or fetch left it (the console shows it)."""

    __tablename__ = "dnc_registry_hosts"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)  # host and directory
    host: Mapped[str] = mapped_column(String(120))
    dnc_dir: Mapped[str] = mapped_column(String(400))
    generation: Mapped[str | None] = mapped_column(String(40), nullable=True)  # the one it serves, if any
    in_force: Mapped[str | None] = mapped_column(String(40), nullable=True)  # the database's, at that moment
    state: Mapped[str] = mapped_column(String(16))  # ok | fetching | failed | missing
    detail: Mapped[str] = mapped_column(String(400), default="")
    checked_at: Mapped[datetime] = mapped_column(UTCDateTime)
