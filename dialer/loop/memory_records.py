"""The in-memory store's records: a lead, a call (the loop's ``CallView`` plus what the store tracks on it) and a
campaign with its lead queues. Apart from ``dialer.loop.memory`` so that the store's parts (dispatch, calls) can
build them without importing the store itself."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from campaigns.dispatch.rules import DispositionFlags
from dialer.loop.memory_lists import ReadyLeads
from dialer.loop.store import CallView, CampaignView


@dataclass(slots=True)
class MemLead:
    id: int
    campaign_id: int
    phone: str
    created_at: datetime
    state: str | None = None
    postal_code: str | None = None
    zones: tuple[str, ...] = ()
    priority: int = 0
    status: str = "new"
    attempts: int = 0
    next_attempt_at: datetime | None = None
    callback_at: datetime | None = None
    last_outcome: str | None = None
    last_called_at: datetime | None = None
    suppression: str | None = None
    updated_at: datetime | None = None
    version: int = 0
    list_id: int | None = None  # None: no list (the simulator's endless list)


@dataclass(slots=True)
class MemCall(CallView):
    hangup_at: datetime | None = None
    hangup_done: bool = False
    disposition: str | None = None
    row: int | None = None  # its row in the call log, once ended


@dataclass
class MemCampaign:
    view: CampaignView
    dispositions: dict[str, DispositionFlags]
    ready: ReadyLeads  # (-priority, due, lead id, version) per list: due now
    pending: list = field(default_factory=list)  # heap of (due, lead id, version): not yet due
    lines: int = 0
