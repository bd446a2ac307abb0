"""The storage the dial loop needs, as one small interface with two implementations.

``SqlStore`` (``dialer.loop.sql``) is the product: every method is one transaction on SQLite or PostgreSQL, and
the rules that must hold across workers (one live attempt per lead and per number, an agent on one call) are
enforced by the database. ``MemoryStore`` (``dialer.loop.memory``) keeps the same facts in dictionaries for the
simulator and the pacing benchmark, which replay about a million events per run. The ``DialLoop`` code is the
same on both; the lead and agent rules they apply are the shared pure functions of ``campaigns.dispatch.rules``
and ``campaigns.agents.states``, and a test runs one seeded scenario through both and compares every call.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from campaigns.dispatch.rules import Candidate, Claim, RetryRules

__all__ = ["AgentEvent", "AgentView", "CallExport", "CallView", "CampaignView", "Candidate", "Claim", "Gate",
           "LoopStore"]


@dataclass(frozen=True, slots=True)
class CampaignView:
    """What the loop needs of a campaign, copied out of the store."""

    id: int
    name: str
    status: str
    pacing_mode: str
    power_ratio: float
    abandon_target: float
    max_lines: int | None
    machine_action: str
    voicemail_message: str
    caller_id: str
    rules: RetryRules
    fallback: str | None = None  # why the campaign paces progressive instead of its mode (the abandon guard)
    # how often this worker has taken the campaign's lease: calls another owner settled meanwhile never reached
    # this loop, so a pacer from an earlier tenure would count them ringing for ever
    tenure: int = 0

    @property
    def pacer_key(self) -> tuple:
        """The settings a pacer is built from, and the lease's tenure: the loop rebuilds the pacer (seeded from the
        database) when either changes."""
        return (self.pacing_mode, self.power_ratio, self.abandon_target, self.tenure)


@dataclass(slots=True)
class CallView:
    """One call as the loop sees it. The memory store hands out its own record: the loop never writes to it."""

    id: int
    campaign_id: int
    lead_id: int | None
    phone: str
    attempt: int
    status: str
    placed_at: datetime
    provider_ref: str | None = None
    answered_at: datetime | None = None
    answered_by: str | None = None
    connected_at: datetime | None = None
    agent_id: int | None = None
    ended_at: datetime | None = None
    outcome: str | None = None


@dataclass(frozen=True, slots=True)
class AgentEvent:
    """One row of the agent state history (``agent_state_events``), in the order it was written."""

    seq: int
    agent_id: int
    campaign_id: int | None
    state: str
    reason: str | None
    at: datetime


@dataclass(frozen=True, slots=True)
class AgentView:
    id: int
    name: str
    campaign_id: int | None
    state: str
    reason: str | None
    since: datetime | None
    call_id: int | None
    simulated: bool


@dataclass(frozen=True, slots=True)
class CallExport:
    """A finished call for results and comparisons; times are POSIX seconds (floats, NaN when absent)."""

    id: int
    campaign_id: int
    lead_id: int | None
    agent_id: int | None
    provider_ref: str | None
    placed: float
    answered: float
    answered_by: str | None
    connected: float
    ended: float
    outcome: str | None
    disposition: str | None


# gate(context, candidate, now) -> a decision with ``allowed``, ``reasons`` and ``opens_at``; the context is the
# store's open database session (SQL) or None (memory), so the gate's audit row commits with the claim.
Gate = Callable[[object, Candidate, datetime], object]


class LoopStore(Protocol):
    """Each method is one unit of work: on SQL one transaction, committed before it returns."""

    # campaigns and history
    def active_campaigns(self, now: datetime) -> list[CampaignView]: ...
    def campaign(self, campaign_id: int) -> CampaignView | None: ...
    def history(self, campaign_id: int, now: datetime) -> tuple[int, int]: ...  # live answers, abandons: 30 days
    def history_placed(self, campaign_id: int, now: datetime) -> tuple[list[float], list[float]]: ...

    # dispatch
    def live_lines(self, campaign_id: int) -> int: ...
    def claim(self, campaign: CampaignView, n: int, now: datetime, gate: Gate | None) -> list[Claim]: ...
    def placed(self, call_id: int, provider: str, ref: str, now: datetime) -> None: ...
    def place_failed(self, call_id: int, now: datetime) -> None: ...
    # the create went out at ``sent_at`` and its answer never came: kept as "unknown" (a live line, the lead not
    # due) until the carrier's call log says whether the call exists (``PlaceOutcomeUnknown``)
    def placed_unknown(self, call_id: int, sent_at: datetime) -> None: ...
    # not sent (refused at ``at``; it would have left at ``sends_at``): the gate's decision stopped covering it at
    # ``send_by``; the claim is released, on record
    def send_refused(self, call_id: int, at: datetime, send_by: datetime | None,
                     sends_at: datetime | None = None) -> None: ...

    # calls
    def call_by_ref(self, ref: str) -> CallView | None: ...
    def call(self, call_id: int) -> CallView | None: ...
    def live_calls(self, campaign_id: int) -> list[CallView]: ...
    def ringing(self, call_id: int, at: datetime) -> None: ...
    def answered(self, call_id: int, answered_by: str, at: datetime) -> None: ...
    def verdict(self, call_id: int, answered_by: str) -> None: ...
    def waiting_calls(self, campaign_id: int | None = None) -> list[CallView]: ...
    def set_outcome(self, call_id: int, outcome: str) -> None: ...
    def end(self, call_id: int, outcome: str, at: datetime) -> None: ...
    def preview_calls(self) -> list[CallView]: ...  # chosen by preview agents, not placed yet
    def connect_reserved(self, call_id: int, at: datetime) -> bool: ...
    def bridged(self, call_id: int) -> None: ...  # the carrier joined the connected call to its agent
    def pending_hangups(self) -> list[CallView]: ...
    def hangup_sent(self, call_id: int) -> None: ...

    # agents
    def agent(self, agent_id: int) -> AgentView | None: ...
    def campaign_agents(self, campaign_id: int) -> list[AgentView]: ...
    def agent_cursor(self, now: datetime) -> int: ...
    def agent_events_since(self, cursor: int, now: datetime) -> list[AgentEvent]: ...
    def leaving_after_call(self) -> frozenset[int]: ...  # on a call, said they pause or log out after it
    # ``skip``: agents not to choose (those whose shift is over, for a call dialed after it ended)
    def longest_idle_agent(self, campaign_id: int, call_id: int | None = None,
                           skip: frozenset[int] = frozenset()) -> int | None: ...
    def connect(self, call_id: int, agent_id: int, at: datetime) -> bool: ...
    def unconnect(self, call_id: int, agent_id: int, at: datetime) -> None: ...
    def free_agent(self, call_id: int, at: datetime) -> int | None: ...
    def set_agent_state(self, agent_id: int, state: str, at: datetime, reason: str | None = None) -> bool: ...
    def request_hangup(self, agent_id: int, at: datetime) -> CallView | None: ...
    def preview_dial(self, agent_id: int, lead_id: int, now: datetime, gate: Gate | None) -> CallView | None: ...
    def disposition(self, call_id: int, code: str, at: datetime, notes: str = "",
                    callback_at: datetime | None = None) -> None: ...

    # the console's view of pacing
    def save_pacing_status(self, campaign_id: int, status: dict, now: datetime) -> None: ...
