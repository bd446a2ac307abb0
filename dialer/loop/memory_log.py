"""Compact histories for the in-memory store: finished calls and agent state changes as typed columns.

A 30-day benchmark run writes millions of rows; Python objects per row would cost over a kilobyte each. Columns of
machine numbers (``array``) and small codes cost tens of bytes, and the simulator turns them into numpy arrays
without copying row by row. Times are kept exactly (integer microseconds) so the in-memory store hands back the
same datetimes the SQL store does.
"""

from __future__ import annotations

import math
from array import array
from datetime import UTC, datetime, timedelta

import numpy as np

from campaigns.reports.metrics import is_live_answer
from dialer.loop.store import AgentEvent, CallExport

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
NAN = math.nan


def _us(t: datetime) -> int:
    return (t - EPOCH) // timedelta(microseconds=1)


def _dt(us: int) -> datetime:
    return EPOCH + timedelta(microseconds=us)


class Codes:
    """Strings stored as small integers (0 = None)."""

    def __init__(self) -> None:
        self.names: list[str | None] = [None]
        self.index: dict[str | None, int] = {None: 0}

    def code(self, name: str | None) -> int:
        i = self.index.get(name)
        if i is None:
            i = self.index[name] = len(self.names)
            self.names.append(name)
        return i


class CallLog:
    """Finished calls, one row each, in the order they ended."""

    def __init__(self) -> None:
        self.id, self.campaign, self.lead, self.agent = array("q"), array("q"), array("q"), array("q")
        self.placed, self.answered, self.connected, self.ended = array("d"), array("d"), array("d"), array("d")
        self.answered_by, self.outcome, self.disposition = array("B"), array("B"), array("B")
        self.ref: list[str | None] = []
        self.codes = Codes()

    def __len__(self) -> int:
        return len(self.id)

    def add(self, call, outcome: str, ended: datetime) -> int:
        c = self.codes.code
        self.id.append(call.id)
        self.campaign.append(call.campaign_id)
        self.lead.append(-1 if call.lead_id is None else call.lead_id)
        self.agent.append(-1 if call.agent_id is None else call.agent_id)
        self.placed.append(call.placed_at.timestamp())
        self.answered.append(call.answered_at.timestamp() if call.answered_at else NAN)
        self.connected.append(call.connected_at.timestamp() if call.connected_at else NAN)
        self.ended.append(ended.timestamp())
        self.answered_by.append(c(call.answered_by))
        self.outcome.append(c(outcome))
        self.disposition.append(c(call.disposition))
        self.ref.append(call.provider_ref)
        return len(self.id) - 1

    def set_disposition(self, row: int, code: str) -> None:
        self.disposition[row] = self.codes.code(code)

    def live_answers(self, campaign_id: int, since: float, until: float) -> tuple[list[float], list[float]]:
        """Placement times (epoch seconds, ``since <= t < until``) of the campaign's finished live answers and of
        its abandons (the ``campaigns.reports.metrics`` definitions)."""
        live: list[float] = []
        abandons: list[float] = []
        names = self.codes.names
        for i in range(len(self)):
            if self.campaign[i] == campaign_id and since <= self.placed[i] < until:
                outcome = names[self.outcome[i]]
                if is_live_answer(outcome, not math.isnan(self.connected[i])):
                    live.append(self.placed[i])
                    if outcome == "abandoned":
                        abandons.append(self.placed[i])
        return live, abandons

    def columns(self) -> dict[str, np.ndarray]:
        """Every column as a numpy array, rows ordered by call id; strings as fixed-width ("" for none)."""
        order = np.argsort(np.frombuffer(self.id, dtype=np.int64), kind="stable")
        names = np.array([n or "" for n in self.codes.names])
        out = {k: np.frombuffer(getattr(self, k), dtype=np.int64)[order] for k in ("id", "campaign", "lead", "agent")}
        out |= {k: np.frombuffer(getattr(self, k), dtype=np.float64)[order]
                for k in ("placed", "answered", "connected", "ended")}
        out |= {k: names[np.frombuffer(getattr(self, k), dtype=np.uint8)][order]
                for k in ("answered_by", "outcome", "disposition")}
        return out

    def row(self, i: int) -> CallExport:
        n = self.codes.names
        opt = lambda v: None if v < 0 else v  # noqa: E731
        return CallExport(self.id[i], self.campaign[i], opt(self.lead[i]), opt(self.agent[i]), self.ref[i],
                          self.placed[i], self.answered[i], n[self.answered_by[i]], self.connected[i], self.ended[i],
                          n[self.outcome[i]], n[self.disposition[i]])


class AgentLog:
    """Agent state changes: ``seq`` is the position + 1, as the SQL store's ids."""

    def __init__(self) -> None:
        self.agent, self.campaign, self.at = array("q"), array("q"), array("q")
        self.state, self.reason = array("B"), array("H")
        self.codes = Codes()

    def __len__(self) -> int:
        return len(self.agent)

    def add(self, agent_id: int, campaign_id: int | None, state: str, reason: str | None, at: datetime) -> None:
        self.agent.append(agent_id)
        self.campaign.append(-1 if campaign_id is None else campaign_id)
        self.at.append(_us(at))
        self.state.append(self.codes.code(state))
        self.reason.append(self.codes.code(reason))

    def columns(self) -> dict[str, np.ndarray]:
        """seq, agent, state, reason ("" for none) and at (POSIX seconds), in history order."""
        names = np.array([n or "" for n in self.codes.names])
        return {"seq": np.arange(1, len(self.agent) + 1), "agent": np.frombuffer(self.agent, dtype=np.int64).copy(),
                "state": names[np.frombuffer(self.state, dtype=np.uint8)],
                "reason": names[np.frombuffer(self.reason, dtype=np.uint16)],
                "at": np.frombuffer(self.at, dtype=np.int64) / 1e6}

    def since(self, cursor: int) -> list[AgentEvent]:
        n = self.codes.names
        return [AgentEvent(i + 1, self.agent[i], None if self.campaign[i] < 0 else self.campaign[i],
                           n[self.state[i]], n[self.reason[i]], _dt(self.at[i]))
                for i in range(cursor, len(self.agent))]
