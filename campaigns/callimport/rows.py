"""The columns of a call-history file and the per-row rules, free of I/O so they can be tested on their own.

Columns (header names are matched loosely: case, spaces, ``_`` and ``-`` do not matter):

| column | required | meaning |
|---|---|---|
| phone | yes | the number dialed (any format; normalized to E.164 with the campaign's region) |
| placed at | yes | when the dial started |
| outcome | yes | completed, abandoned, no_answer, busy, failed or machine (common synonyms accepted) |
| list | no | name of one of the campaign's lists; blank: the matched lead's list |
| answered by | no | human, machine, unknown or fax |
| connected at | no | when an agent took the call (empty: no agent) |
| agent | no | the agent's name (created if new); needs connected at |
| ended at | no | when the call ended (empty: its last known moment, connected at or else placed at) |
| disposition | no | one of the campaign's disposition codes; needs connected at |
| dispositioned at | no | when the agent saved the disposition (default: ended at) |

An imported call is never live: without "ended at" it ends at its last known moment. Times carry an offset
(``2030-01-07T14:00:05Z``, ``…-05:00``) or are read in the campaign's time zone (``2030-01-07 09:00:05``,
``01/07/2030 09:00``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from campaigns.reports.metrics import CALL_OUTCOMES

COLUMNS = ("phone", "list", "placed_at", "answered_by", "connected_at", "agent", "ended_at", "outcome",
           "disposition", "dispositioned_at")
REQUIRED = ("phone", "placed_at", "outcome")
ALIASES = {
    "phone": "phone", "phonenumber": "phone", "number": "phone", "tel": "phone",
    "list": "list", "listname": "list",
    "placedat": "placed_at", "placed": "placed_at", "calldate": "placed_at", "startedat": "placed_at",
    "answeredby": "answered_by", "amd": "answered_by",
    "connectedat": "connected_at", "connected": "connected_at",
    "agent": "agent", "agentname": "agent", "user": "agent",
    "endedat": "ended_at", "ended": "ended_at",
    "outcome": "outcome", "result": "outcome",
    "disposition": "disposition", "dispo": "disposition", "status": "disposition",
    "dispositionedat": "dispositioned_at",
}
OUTCOME_SYNONYMS = {
    "completed": "completed", "complete": "completed", "answered": "completed", "human": "completed",
    "abandoned": "abandoned", "abandon": "abandoned", "drop": "abandoned", "dropped": "abandoned",
    "no_answer": "no_answer", "noanswer": "no_answer", "na": "no_answer", "rna": "no_answer",
    "busy": "busy", "b": "busy",
    "failed": "failed", "fail": "failed", "error": "failed", "congestion": "failed", "disconnected": "failed",
    "machine": "machine", "am": "machine", "answering_machine": "machine", "voicemail": "machine",
}
ANSWERED_BY = {"human": "human", "machine": "machine", "unknown": "unknown", "fax": "fax"}
LOCAL_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%m/%d/%Y %H:%M:%S", "%m/%d/%Y %H:%M")


def header_key(raw: str) -> str | None:
    return ALIASES.get(re.sub(r"[^a-z]", "", raw.lower()))


class RowError(Exception):
    """One row cannot be imported: ``column`` names the cell, the message says why."""

    def __init__(self, column: str, reason: str) -> None:
        super().__init__(reason)
        self.column = column
        self.reason = reason


def parse_time(raw: str, column: str, tz: ZoneInfo) -> datetime | None:
    raw = raw.strip()
    if not raw:
        return None
    try:
        t = datetime.fromisoformat(raw.replace("Z", "+00:00") if raw.endswith("Z") else raw)
    except ValueError:
        t = None
        for fmt in LOCAL_FORMATS:
            try:
                t = datetime.strptime(raw, fmt)
                break
            except ValueError:
                continue
        if t is None:
            raise RowError(column, f"{raw!r} is not a date and time such as 2030-01-07 09:00:05") from None
    if t.tzinfo is None:
        t = t.replace(tzinfo=tz)
    return t.astimezone(UTC)


@dataclass
class CallRow:
    """A validated row; ``e164`` is filled in by the service after batch phone normalization."""

    line: int
    phone_raw: str
    list_name: str
    placed_at: datetime
    outcome: str
    answered_by: str | None
    connected_at: datetime | None
    agent: str
    ended_at: datetime | None
    disposition: str | None
    dispositioned_at: datetime | None
    e164: str = ""


def parse_row(line: int, cell: dict[str, str], tz: ZoneInfo, codes: dict[str, str], now: datetime,
              header: dict[str, str]) -> CallRow:
    """Check one row's cells against each other; raise ``RowError`` naming the header of the bad column."""
    def name(key: str) -> str:
        return header.get(key, key)

    phone = cell.get("phone", "").strip()
    if not phone:
        raise RowError(name("phone"), "no phone number")
    placed = parse_time(cell.get("placed_at", ""), name("placed_at"), tz)
    if placed is None:
        raise RowError(name("placed_at"), "no time: every call needs the moment it was placed")
    if placed > now:
        raise RowError(name("placed_at"), f"{placed:%Y-%m-%d %H:%M:%S} UTC is in the future")
    raw_outcome = cell.get("outcome", "").strip()
    outcome = OUTCOME_SYNONYMS.get(re.sub(r"[\s-]+", "_", raw_outcome.lower()))
    if outcome is None:
        raise RowError(name("outcome"), f"{raw_outcome!r} is not an outcome ({', '.join(CALL_OUTCOMES)})"
                       if raw_outcome else "no outcome")
    raw_by = cell.get("answered_by", "").strip().lower()
    answered_by = ANSWERED_BY.get(raw_by.split("_")[0]) if raw_by else None
    if raw_by and answered_by is None:
        raise RowError(name("answered_by"), f"{raw_by!r} is not human, machine, unknown or fax")
    connected = parse_time(cell.get("connected_at", ""), name("connected_at"), tz)
    ended = parse_time(cell.get("ended_at", ""), name("ended_at"), tz)
    dispo_at = parse_time(cell.get("dispositioned_at", ""), name("dispositioned_at"), tz)
    agent = cell.get("agent", "").strip()
    raw_dispo = cell.get("disposition", "").strip()
    if connected is not None:
        if connected < placed:
            raise RowError(name("connected_at"), "is before placed at")
        if outcome not in ("completed", "machine"):
            raise RowError(name("connected_at"), f"is set but the outcome is {outcome}: an agent took the call")
    if ended is not None and ended < (connected or placed):
        raise RowError(name("ended_at"), "is before " + ("connected at" if connected else "placed at"))
    if ended is None:  # history: the call is over; stored as live it would block the number (one live call each)
        ended = connected or placed
    if agent and connected is None:
        raise RowError(name("agent"), f"agent {agent!r} without connected at: when did the agent take the call?")
    disposition = None
    if raw_dispo:
        if connected is None:
            raise RowError(name("disposition"), f"disposition {raw_dispo!r} on a call no agent took "
                                                "(no connected at)")
        disposition = codes.get(raw_dispo.upper())
        if disposition is None:
            raise RowError(name("disposition"), f"{raw_dispo!r} is not a disposition of this campaign "
                                                f"({', '.join(sorted(codes.values()))})")
        if dispo_at is None:
            dispo_at = ended
        if dispo_at is not None and ended is not None and dispo_at < ended:
            raise RowError(name("dispositioned_at"), "is before ended at")
    elif dispo_at is not None:
        raise RowError(name("dispositioned_at"), "is set but there is no disposition")
    return CallRow(line, phone, cell.get("list", "").strip(), placed, outcome, answered_by, connected, agent,
                   ended, disposition, dispo_at)
