"""A claimed call that is not sent because the gate's decision no longer covers it, and how long a decision does.

The pre-dial gate decides when a lead is claimed and checks that the calling window stays open
``send_margin_seconds`` after that (``dnc/data/rules.toml``); the call itself leaves later (a send slot, a throttled
retry, a worker's next turn). A call whose moment comes after ``send_deadline`` is therefore not sent on that
decision: the carrier refuses to write it (``dialer.carriers.telephony.SendTooLate``) and ``send_refused`` releases
the claim here. Releasing, rather than asking the gate again at the socket, keeps one rule a compliance officer can
check in the ledger: every call was sent within the margin of an allowing gate record (``calls.placed_at`` against
the record's ``at``), and every claim that could not be is a ``send_refused`` record naming the decision it let go.
The lead goes back as it was, so its next claim is judged afresh by the gate, in the ledger like any other.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from campaigns.agents.service import release_after_call
from campaigns.callbacks.models import Callback
from campaigns.dispatch.models import Call
from campaigns.dispatch.rules import after_send_refused, apply
from campaigns.leads.models import Lead
from dnc import ledger
from dnc.rules import current_rules
from dnc.tables import LedgerRecord

REASON = "stale_decision"  # the ledger code of a send refused on an expired decision


def send_deadline(decided_at: datetime) -> datetime | None:
    """The last instant a call allowed by the gate at ``decided_at`` may be sent; None when the rules keep no
    margin (``send_margin_seconds = 0``: the reading that sending takes no time, so there is nothing to bound)."""
    margin = current_rules().send_margin_seconds
    return decided_at + timedelta(seconds=margin) if margin else None


def send_refused(session: Session, call_id: int, at: datetime, send_by: datetime | None,
                 sends_at: datetime | None = None, actor: str = "dialer") -> bool:
    """The call was not sent (refused at ``at``; its moment, ``sends_at``, came after ``send_by``): its row goes,
    the lead is as before its claim (status, attempts, when it was last called, when it is due, its callback open
    again), a preview agent is free, and one ledger record says why. False when the call is unknown or was placed
    after all (nothing is released)."""
    call = session.get(Call, call_id, with_for_update=True)
    if call is None or call.ended_at is not None or call.provider_sid is not None:
        return False
    decided_at = call.placed_at  # a queued call carries the instant it was claimed, which is when the gate decided
    lead = session.get(Lead, call.lead_id, with_for_update=True) if call.lead_id is not None else None
    gate_seq = session.scalar(select(LedgerRecord.seq).where(
        LedgerRecord.e164 == call.phone, LedgerRecord.at == decided_at, LedgerRecord.kind == "gate",
        LedgerRecord.allowed.is_(True), LedgerRecord.campaign_id == call.campaign_id)
        .order_by(LedgerRecord.seq.desc()).limit(1))
    release_after_call(session, call, at)
    session.execute(delete(Call).where(Call.id == call_id))
    if lead is not None and lead.status == "dialing":
        reopened = session.execute(update(Callback).where(
            Callback.lead_id == lead.id, Callback.status == "fired", Callback.closed_at == decided_at)
            .values(status="pending", closed_at=None).execution_options(synchronize_session=False)).rowcount
        apply(lead, after_send_refused(lead.attempts, lead.next_attempt_at, bool(reopened)), at)
        lead.last_called_at = session.scalar(select(func.max(Call.placed_at)).where(
            Call.lead_id == lead.id, Call.provider_sid.is_not(None)))  # the last call that was made
    margin = current_rules().send_margin_seconds
    sends_at = sends_at or at
    age = (sends_at - decided_at).total_seconds()
    ledger.append(session, "send_refused", at=at, actor=actor, e164=call.phone, campaign=call.campaign_id,
                  allowed=False, reasons=(REASON,),
                  payload={"lead_ref": f"lead:{call.lead_id}" if call.lead_id is not None else None,
                           "call_id": call_id, "decided_at": decided_at.isoformat(),
                           "send_by": send_by.isoformat() if send_by else None, "gate_seq": gate_seq,
                           "sends_at": sends_at.isoformat(),
                           "margin_s": margin,
                           "reason": f"not sent: it would have left {age:.1f} s after the gate's decision, which "
                                     f"covers {margin} s; the claim was released and the lead will be judged again"})
    session.flush()
    return True
