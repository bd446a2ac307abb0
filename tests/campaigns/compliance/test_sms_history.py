"""A text a person sent shows in the number's history as what it was and what it did, in words: the compliance
look-up (``dnc history``) names the text and its outcome, the lead's page calls it a text received."""

from __future__ import annotations

from datetime import UTC, datetime

from campaigns.campaign.service import create_campaign
from campaigns.compliance import sms
from campaigns.leads.models import Lead, LeadList
from campaigns.leads.search import history as lead_history
from dnc.reports import history

AT = datetime(2030, 1, 8, 17, 0, tzinfo=UTC)
SENDER = "+12125554111"


def test_a_text_reads_in_words_in_both_histories(session):
    c = create_campaign(session, "t", "+12125554100", AT)
    lst = LeadList(campaign_id=c.id, name="l", sha256="t" * 64, uploaded_at=AT)
    session.add(lst)
    session.flush()
    lead = Lead(campaign_id=c.id, list_id=lst.id, phone=SENDER, custom={}, created_at=AT, updated_at=AT)
    session.add(lead)
    session.flush()
    sms.receive(session, provider="twilio", message_sid="SM1", sender=SENDER, to="+12125554100",
                body="Who is this?", now=AT)
    stop, _ = sms.receive(session, provider="twilio", message_sid="SM2", sender=SENDER, to="+12125554100",
                          body="STOP", now=AT)
    texts = [r for r in history(session, SENDER) if r["kind"] == "sms_inbound"]
    assert [r["detail"] for r in texts] == ["texted 'Who is this?' to +12125554100: no revocation word, nothing done",
                                            f"texted 'STOP' to +12125554100: revocation (\"stop\"), internal DNC "
                                            f"entry #{stop.entry_id}"]
    labels = [d.kind for d in lead_history(session, lead).decisions]
    assert labels.count("Text received") == 2
