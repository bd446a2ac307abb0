"""The telephony-adapter interface every carrier implements (simulated carrier, Twilio).

The dial loop asks an adapter to ``place`` a call and later to ``connect`` the answered leg to an agent, play the
safe-harbor message (``abandon``) or ``hangup``. What the carrier reports back (ringing, answered, ended) reaches
the loop as ``CarrierEvent``s through ``DialLoop.handle``: from the simulator's event queue, or from the Twilio
webhooks in ``web/``. Adapters never touch the database and never decide anything about pacing or compliance.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal, Protocol

CarrierEventKind = Literal["initiated", "ringing", "answered", "ended", "dtmf"]
AnsweredBy = Literal["human", "machine", "unknown"]
Outcome = Literal["completed", "abandoned", "no_answer", "busy", "failed", "machine", "canceled"]


@dataclass(frozen=True)
class DialRequest:
    """Everything a carrier needs to place one call."""

    call_id: int  # our calls.id
    to: str  # E.164
    caller_id: str  # E.164
    campaign_id: int
    ring_timeout_s: int = 25  # the law needs >= 15 s or 4 rings
    machine_detection: bool = True
    voicemail: bool = False  # the campaign leaves a message on machines: detection waits for the beep


@dataclass(frozen=True)
class CarrierEvent:
    """A fact reported by the carrier about one call, stamped with the carrier's time."""

    kind: CarrierEventKind
    provider_ref: str
    at: datetime
    answered_by: AnsweredBy | None = None
    outcome: Outcome | None = None
    digits: str | None = None
    sequence: int | None = None  # carrier sequence number, for order-tolerant handling
    extra: dict = field(default_factory=dict)


class PlaceFailed(Exception):
    """The carrier did not accept the call; the lead goes back to the queue with the attempt not counted."""

    def __init__(self, message: str, retryable: bool = True) -> None:
        super().__init__(message)
        self.retryable = retryable


class Telephony(Protocol):
    """What the dial loop needs from a carrier."""

    name: str

    def place(self, request: DialRequest) -> str:
        """Start the call; return the carrier's reference (e.g. a Twilio CallSid). Raise ``PlaceFailed``."""

    def connect(self, provider_ref: str, agent_id: int) -> None:
        """Bridge an answered call into the agent's (nailed-up) conference."""

    def abandon(self, provider_ref: str) -> None:
        """No agent within 2 s: play the safe-harbor message with the press-9 opt-out, then hang up."""

    def hangup(self, provider_ref: str) -> None:
        """End the call (machine without voicemail, or cancel while ringing)."""
