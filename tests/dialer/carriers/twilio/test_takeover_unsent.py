"""A worker killed between claiming a call and sending its create leaves a claim without a SID. The worker taking
the campaign over settles it itself: adopted as soon as the call log or the attempt's callbacks show the call,
released (the lead as before its claim, a ``send_refused`` ledger record) once nobody can send it any more, that is
after the gate decision's send margin, and the call log still has nothing. Before, only the stale-call sweep
(every 60 s, calls older than 120 s) came back to it, and the lead waited two to three minutes.

The runtime in process with a manual clock, against the fake Twilio (``test_reconcile``'s world)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from campaigns.campaign.models import Campaign
from campaigns.dispatch.models import Call
from campaigns.leads.models import Lead
from dialer.carriers.twilio.runtime import TwilioRuntime
from dialer.carriers.twilio.unknown import UNKNOWN_SETTLE_S
from dialer.loop.ownership import CampaignOwnership
from dnc.rules import current_rules
from dnc.tables import LedgerRecord
from tests.dialer.carriers.twilio.support import seed_call
from tests.dialer.carriers.twilio.test_reconcile import world  # noqa: F401 - the fixture

PHONE = "+12125550177"


def test_a_dead_workers_claim_never_sent_is_settled_by_the_new_owner_once_nobody_can_send_it(world, sessions,  # noqa: F811
                                                                                          session, clock):
    tel = world["tel"]
    claimed = clock.now()
    call = seed_call(session, claimed, sid=None, phone=PHONE)
    call.status = "queued"  # claimed through the gate; the worker died before its create went out
    session.get(Campaign, call.campaign_id).status = "active"
    session.commit()
    call_id, lead_id = call.id, call.lead_id
    CampaignOwnership(sessions, "host:dead", "twilio").refresh(claimed)  # it held the campaign, then was killed
    clock.advance(9)  # its lease ran out
    runtime = TwilioRuntime(sessions, clock, tel.config, telephony=tel,
                            ownership=CampaignOwnership(sessions, "host:new", "twilio", adopts=True))
    runtime.start(lambda event: None, clock.now())
    deadline = claimed + timedelta(seconds=current_rules().send_margin_seconds)

    def present() -> bool:
        with sessions() as s:
            return s.get(Call, call_id) is not None

    settled_at = None
    while clock.now() < claimed + timedelta(seconds=100):
        clock.advance(1)
        runtime.maintain(clock.now())
        if clock.now() <= deadline:  # the dead worker (if only stalled) could still send it: kept, not released
            assert present(), f"released at +{(clock.now() - claimed).total_seconds():.0f} s, before the margin"
        elif settled_at is None and not present():
            settled_at = clock.now()
    runtime.close()
    assert settled_at is not None, "the claim never sent was still kept 100 s after it was made"
    after_s = (settled_at - claimed).total_seconds()
    confirm_s = tel.config.unknown_confirm_s
    margin_s = current_rules().send_margin_seconds
    assert after_s <= margin_s + UNKNOWN_SETTLE_S + confirm_s + 2, after_s
    with sessions() as s:
        lead = s.get(Lead, lead_id)
        assert (lead.status, lead.attempts) == ("new", 0)  # as before its claim, callable at once
        record = s.scalar(select(LedgerRecord).where(LedgerRecord.kind == "send_refused"))
        assert record is not None and record.e164 == PHONE
    assert not [c for c in world["fake"].calls.values() if c.to == PHONE]  # nobody was called
