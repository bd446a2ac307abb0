"""What happens to a lead after each dial, disposition or gate refusal: pure rules shared by every store.

The SQL store (the product) and the in-memory store (the simulator and the pacing benchmark) both apply these
functions, so a lead's life is the same in a benchmark as on the floor. Each returns a ``LeadChange``: the new
status (None keeps it), when the lead may be dialed next, and whether the attempt that was just made counts.

Attempts are counted when a lead is claimed (``attempts + 1`` goes on the call row); a call the carrier never
took, or one we cancelled ourselves, gives the attempt back (``attempts_delta = -1``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from dnc.errors import UserError
from dnc.reasons import Reason, stored

CALLABLE_STATUSES = ("new", "retry", "callback")
TEMPORARY_BLOCK_S = 15 * 60  # a refusal that may clear by itself but names no opening time: look again later
# ... sooner for what clears in seconds: the snapshot in force still being fetched on this host (a failed fetch is
# retried a minute later, dnc.registry.sync)
TEMPORARY_BLOCK_BY_CODE_S = {"registry_unavailable": 60}
PLACE_RETRY_S = 30  # a lead whose call the carrier refused for a passing reason waits this long
# How a call can end, as the loop decides it; stored in calls.outcome as campaigns.reports.metrics.CALL_OUTCOMES, except
# "canceled" (we cancelled it before anyone answered): stored as "failed", and the attempt is given back.
END_REASONS = ("completed", "abandoned", "no_answer", "busy", "failed", "machine", "canceled")


def stored_outcome(reason: str) -> str:
    return "failed" if reason == "canceled" else reason


@dataclass(frozen=True, slots=True)
class Candidate:
    """A lead about to be dialed, as the pre-dial gate needs it."""

    lead_id: int
    campaign_id: int
    phone: str
    state: str | None
    postal_code: str | None
    zones: tuple[str, ...]
    dialing: str = "predictive"  # "click_to_dial": an agent's preview dial (``dnc.gate.evaluate``'s ``dialing``)


@dataclass(frozen=True, slots=True)
class Claim:
    """A lead claimed for one dial: its call row exists (status ``queued``) and the lead is ``dialing``."""

    call_id: int
    lead_id: int
    phone: str
    attempt: int
    # the number shown (the campaign's pool, ``campaigns.callerid.service``); "" = the campaign's own
    caller_id: str = ""


@dataclass(frozen=True)
class RetryRules:
    """The campaign's retry settings (a copy, so rules never touch a mapped row)."""

    max_attempts: int = 5
    retry_no_answer_s: int = 4 * 3600
    retry_busy_s: int = 30 * 60
    retry_machine_s: int = 6 * 3600

    @classmethod
    def of(cls, campaign) -> RetryRules:
        return cls(campaign.max_attempts, campaign.retry_no_answer_s, campaign.retry_busy_s,
                   campaign.retry_machine_s)


@dataclass(frozen=True)
class LeadChange:
    status: str | None  # None: keep the current status
    next_attempt_at: datetime | None = None
    last_outcome: str | None = None
    attempts_delta: int = 0
    callback_at: datetime | None = None
    suppression: str | None = None


def after_outcome(rules: RetryRules, attempts: int, outcome: str, previous_outcome: str | None,
                  now: datetime, connected: bool = False) -> LeadChange | None:
    """The lead's next state when its call ends; None when an agent talked to the customer (the agent's
    disposition decides). ``attempts`` already counts the call that just ended. A live answer that ended before
    any agent took it (the person hung up within the 2 seconds) is tried again soon, like an abandon."""
    if outcome == "completed" and connected:
        return None
    if outcome == "canceled":  # we cancelled it before it reached anyone: the attempt does not count
        return LeadChange("retry" if attempts > 1 else "new", now, previous_outcome, attempts_delta=-1)
    if outcome == "failed" and previous_outcome == "failed":
        return LeadChange("done", None, "failed")  # the carrier refused the number twice in a row: invalid
    delay = {
        "no_answer": rules.retry_no_answer_s,
        "busy": rules.retry_busy_s,
        "failed": rules.retry_busy_s,
        "machine": rules.retry_machine_s,
        # the person was reachable a moment ago: try again soon, as for a busy line
        "abandoned": rules.retry_busy_s,
        "completed": rules.retry_busy_s,
    }.get(outcome)
    if delay is None:
        raise ValueError(f"unknown call outcome {outcome!r}")
    return _retry(rules, attempts, outcome, now, delay)


def _retry(rules: RetryRules, attempts: int, outcome: str, now: datetime, delay_s: int) -> LeadChange:
    if attempts >= rules.max_attempts:
        return LeadChange("exhausted", None, outcome)
    return LeadChange("retry", now + timedelta(seconds=delay_s), outcome)


@dataclass(frozen=True)
class DispositionFlags:
    code: str
    is_close: bool = False
    is_callback: bool = False
    is_dnc: bool = False
    is_final: bool = False

    @classmethod
    def of(cls, row) -> DispositionFlags:
        return cls(row.code, row.is_close, row.is_callback, row.is_dnc, row.is_final)


def after_disposition(rules: RetryRules, attempts: int, flags: DispositionFlags, callback_at: datetime | None,
                      now: datetime) -> LeadChange:
    """The lead's next state from the agent's disposition: DNC, callback, final (closed/done) or retry later."""
    if flags.is_dnc:
        return LeadChange("dnc", None, flags.code,
                          suppression=stored([Reason("internal_dnc", "asked not to be called (agent)")]))
    if flags.is_callback:
        if callback_at is None:
            raise UserError(f"disposition {flags.code} schedules a callback: give the callback time")
        if callback_at <= now:
            raise UserError(f"callback time {callback_at.isoformat()} is not in the future")
        return LeadChange("callback", callback_at, flags.code, callback_at=callback_at)
    if flags.is_final:
        return LeadChange("closed" if flags.is_close else "done", None, flags.code)
    return _retry(rules, attempts, flags.code, now, rules.retry_no_answer_s)


def after_place_failure(attempts: int, previous_outcome: str | None, retryable: bool, now: datetime) -> LeadChange:
    """The carrier did not take the call: the attempt does not count. A passing failure (throttling, an outage)
    puts the lead back shortly; a refusal of the number itself (e.g. Twilio 21211, invalid "To") ends it."""
    if not retryable:
        return LeadChange("done", None, "failed", attempts_delta=-1)
    return LeadChange("retry" if attempts > 1 else "new", now + timedelta(seconds=PLACE_RETRY_S), previous_outcome,
                      attempts_delta=-1)


def after_send_refused(attempts: int, due: datetime | None, callback: bool) -> LeadChange:
    """A claimed call that was never sent (the gate's decision expired before its moment): the lead as if it had
    not been claimed, the attempt given back, callable as before (its callback again when it had one), due as it
    was; its next claim asks the gate again."""
    status = "callback" if callback else "retry" if attempts > 1 else "new"
    return LeadChange(status, due, None, attempts_delta=-1)


def apply(lead, change: LeadChange, now: datetime) -> None:
    """Write a change onto a lead (an ORM ``Lead`` or the memory store's record: same attribute names)."""
    if change.status is not None:
        lead.status = change.status
    lead.next_attempt_at = change.next_attempt_at
    if change.last_outcome is not None:
        lead.last_outcome = change.last_outcome
    if change.attempts_delta:
        lead.attempts = max(0, lead.attempts + change.attempts_delta)
    if change.callback_at is not None:
        lead.callback_at = change.callback_at
    if change.suppression is not None:
        lead.suppression = change.suppression
    lead.updated_at = now


def after_refusal(reasons, opens_at: datetime | None, now: datetime) -> LeadChange:
    """A lead the pre-dial gate refused. Time-based refusals (window closed, daily cap, stale registry) wait for
    ``opens_at``, or for a while that depends on what may clear (``TEMPORARY_BLOCK_BY_CODE_S``); any other
    reason (a DNC list, no consent...) closes the lead: ``dnc`` for the internal list, else
    ``suppressed``, with the reasons written on the lead (``dnc.reasons.stored``; consent reads them back with
    ``dnc.reasons.stored_codes``). Refusals never count as attempts."""
    codes = [getattr(r, "code", str(r)) for r in reasons]
    temporary = bool(codes) and all(getattr(r, "temporary", False) for r in reasons)
    if temporary:
        wait = max(TEMPORARY_BLOCK_BY_CODE_S.get(c, TEMPORARY_BLOCK_S) for c in codes)  # until every one may clear
        when = opens_at if opens_at is not None and opens_at > now else now + timedelta(seconds=wait)
        return LeadChange(None, when)
    text = stored(Reason(c, getattr(r, "text", "")) for c, r in zip(codes, reasons, strict=True))
    status = "dnc" if "internal_dnc" in codes else "suppressed"
    return LeadChange(status, None, "blocked", suppression=text or "refused by the pre-dial gate")
