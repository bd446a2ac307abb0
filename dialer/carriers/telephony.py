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
    # the gate's decision holds until then (it checked the window ``send_margin_seconds`` ahead): a carrier must not
    # send the call later, by the worker's clock, and raises ``SendTooLate`` instead; None: no gate decided
    send_by: datetime | None = None


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


class PlaceOutcomeUnknown(PlaceFailed):
    """The create was written but its answer never came (a read timeout, a connection dropped after the write): the
    carrier may have made the call. It is neither placed nor failed: the caller keeps the claim without a reference
    (``LoopStore.placed_unknown``), dials nobody again meanwhile, and asks the carrier's call log which it was (a
    lead released on a call that exists would be dialed twice, and the call would have no row for its callbacks)."""

    def __init__(self, message: str, sent_at: datetime) -> None:
        super().__init__(message, retryable=False)
        self.sent_at = sent_at  # when the create went out: the call's placed time if the carrier made it


class SendTooLate(PlaceFailed):
    """The call was not sent: its moment came after the request's ``send_by``, so the gate's decision no longer
    covers it. The caller releases the claim (``LoopStore.send_refused``); nothing reached the carrier."""

    def __init__(self, at: datetime, send_by: datetime, why: str = "") -> None:
        late = (at - send_by).total_seconds()
        super().__init__(f"not sent at {at.isoformat()}: {late:.3f} s after {send_by.isoformat()}, when the gate's "
                         f"decision stopped covering it{': ' + why if why else ''}", retryable=True)
        self.at, self.send_by = at, send_by


def check_send_by(request_send_by: datetime | None, at: datetime, why: str = "") -> None:
    """Raise ``SendTooLate`` when a call would be sent at ``at``, after its ``send_by``."""
    if request_send_by is not None and at > request_send_by:
        raise SendTooLate(at, request_send_by, why)


class Telephony(Protocol):
    """What the dial loop needs from a carrier."""

    name: str

    def place(self, request: DialRequest) -> str:
        """Start the call; return the carrier's reference (e.g. a Twilio CallSid). Raise ``PlaceFailed`` when the
        carrier did not take it, ``PlaceOutcomeUnknown`` when it may have, and ``SendTooLate`` rather than send it
        after ``request.send_by``."""

    def connect(self, provider_ref: str, agent_id: int) -> None:
        """Bridge an answered call into the agent's (nailed-up) conference."""

    def abandon(self, provider_ref: str) -> None:
        """No agent within 2 s: play the safe-harbor message with the press-9 opt-out, then hang up."""

    def hangup(self, provider_ref: str) -> None:
        """End the call (machine without voicemail, or cancel while ringing)."""
