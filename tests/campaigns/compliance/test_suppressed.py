"""Consent that arrives for a lead suppressed for lack of it makes the lead dialable, with the change in the ledger;
a lead with another lasting reason keeps that one; the suppressed-leads listing counts a lead once however many
reasons it has."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import select

from campaigns.campaign.models import Campaign
from campaigns.campaign.service import create_campaign
from campaigns.compliance.feed import leads_with_number
from campaigns.compliance.suppressed import add_consent, codes_of, load_consents, suppressed_leads
from campaigns.dispatch.rules import after_refusal, apply
from campaigns.leadimport.service import import_leads
from campaigns.leads.models import Lead
from campaigns.reports.lists import suppression_reasons
from dnc import internal, lists
from dnc.gate import evaluate
from dnc.reassigned import load_rnd
from dnc.registry import Store, load_full
from dnc.scrub import DncScrubber
from dnc.tables import LedgerRecord

LISTED, BOTH, MIAMI, CLEAN = "+12127364425", "+12127364426", "+13052345678", "+12127364421"


@pytest.fixture
def imported(sessions, clock, tmp_path, setenv):
    root = tmp_path / "dnc"
    setenv(DIALER_DNC_DIR=str(root))
    store = Store(root)
    reg, leads = tmp_path / "reg.txt", tmp_path / "leads.csv"
    reg.write_text("2127364425\n2127364426\n")
    leads.write_text(f"First,Phone,State\nAnn,{LISTED},NY\nBea,{BOTH},NY\nCal,{MIAMI},FL\nDee,{CLEAN},NY\n")
    now = clock.now()
    with sessions.begin() as s:
        load_full(s, store, [reg], version_date=now.date(), loaded_by="ops", now=now, area_codes="212,305")
        cid = create_campaign(s, "Spring", "+12125550100", now).id
        internal.add_request(s, BOTH, channel="web", received_at=now, added_by="web")
        empty = tmp_path / "rnd.csv"  # RND data of the day: consent recorded later is checked against them
        empty.write_text("")
        load_rnd(s, empty, version_date=now.date(), loaded_by="ops", now=now)
    import_leads(sessions, "Spring", leads, now=now,
                 scrubber=DncScrubber(sessions, campaign=cid, at=now, operator="mia", store=store))
    return store


def _lead(s, phone: str) -> Lead:
    return s.scalar(select(Lead).where(Lead.phone == phone))


def test_consent_makes_a_lead_suppressed_for_lack_of_it_dialable(session, imported, clock, tmp_path):
    s, now = session, clock.now()
    assert [codes_of(_lead(s, p)) for p in (LISTED, BOTH, MIAMI)] == \
        [["national_dnc"], ["internal_dnc", "national_dnc"], ["autodialer_no_consent"]]
    assert _lead(s, LISTED).suppression == "national_dnc: On the National DNC Registry"  # the scrub's words
    page = suppressed_leads(s)
    assert page.total == 3 and page.several == 1  # Bea counts once, under both of her reasons
    assert dict((c, n) for c, _, n in page.by_reason) == {"national_dnc": 2, "internal_dnc": 1,
                                                          "autodialer_no_consent": 1}

    later = now + timedelta(hours=1)
    r = add_consent(s, LISTED, kind="pewc", granted_at=later, evidence_ref="signed web form 77", added_by="cara",
                    now=later, store=imported)
    assert len(r.dialable) == 1 and _lead(s, LISTED).status == "new" and _lead(s, LISTED).suppression is None
    assert evaluate(s, LISTED, campaign=_lead(s, LISTED).campaign_id, at=later, state="NY", registry=imported).allowed
    rec = s.scalar(select(LedgerRecord).where(LedgerRecord.kind == "lead_reevaluated"))
    body = json.loads(rec.body)
    assert rec.e164 == LISTED and rec.allowed is True and body["before"] == ["national_dnc"] and body["after"] == []
    assert "signed web form 77" in body["because"]

    r = add_consent(s, BOTH, kind="pewc", granted_at=later, evidence_ref="form 78", added_by="cara", now=later,
                    store=imported)
    assert r.narrowed == [_lead(s, BOTH).id] and _lead(s, BOTH).status == "suppressed"
    # the person's own DNC request is not lifted by consent; it stays in the gate's words
    assert _lead(s, BOTH).suppression.startswith("internal_dnc: on the company internal DNC list")
    assert codes_of(_lead(s, BOTH)) == ["internal_dnc"]

    f = tmp_path / "consents.csv"
    f.write_text(f"number,kind,granted_at,evidence_ref\n{MIAMI},pewc,{later.isoformat()},contract 9\n")
    n, r = load_consents(s, f, added_by="cara", now=later, store=imported)
    assert n == 1 and len(r.dialable) == 1 and _lead(s, MIAMI).status == "new"
    assert suppressed_leads(s).total == 1
    assert s.scalar(select(LedgerRecord.id).where(LedgerRecord.kind == "lead_reevaluated",
                                                  LedgerRecord.e164 == MIAMI)) is not None


def test_consent_for_a_number_nobody_suppressed_changes_no_lead(session, imported, clock):
    r = add_consent(session, CLEAN, kind="pewc", granted_at=clock.now(), evidence_ref="x", added_by="cara",
                    now=clock.now(), store=imported)
    assert (r.leads, r.dialable, r.narrowed) == (0, [], [])


def test_consent_reopens_a_lead_the_gate_closed_at_dial_time(session, sessions, imported, clock, tmp_path):
    """The dial-time gate stores 'code: words; ...' on the lead it closes; consent must read the same codes: a
    lead closed for the National DNC Registry alone becomes dialable, one also on the litigator list stays closed."""
    s, now, sued = session, clock.now(), "+13052345679"
    lit, leads = tmp_path / "lit.txt", tmp_path / "summer.csv"
    lit.write_text("3052345679,plaintiff\n")
    with sessions.begin() as w:
        lists.load_list(w, "litigator", lit, version_date=now.date(), loaded_by="ops", now=now)
        cid = create_campaign(w, "Summer", "+12125550100", now).id
    leads.write_text(f"First,Phone,State\nAnn,{LISTED},NY\nEve,{sued},FL\n")
    import_leads(sessions, "Summer", leads, now=now)  # no scrub at import: the gate decides at dial time
    summer = {lead.phone: lead for lead in s.scalars(select(Lead).where(Lead.campaign_id == cid))}
    for lead in summer.values():  # what the dial loop does with a lead the gate refuses
        d = evaluate(s, lead.phone, campaign=cid, at=now, state=lead.state, postal_code=lead.postal_code,
                     zones=lead.timezones or None, registry=imported)
        apply(lead, after_refusal(d.reasons, getattr(d, "opens_at", None), now), now)
    assert summer[LISTED].status == summer[sued].status == "suppressed"
    assert summer[LISTED].suppression.startswith("national_dnc: ")
    s.flush()  # the list report and the compliance lookup count and show codes, not the gate's words
    assert suppression_reasons(s, s.get(Campaign, cid))[summer[sued].list_id] == \
        {"national_dnc": 1, "state_list_missing": 1, "litigator": 1, "autodialer_no_consent": 1}
    assert [r["suppression"] for r in leads_with_number(s, sued)] == \
        [["state_list_missing", "litigator", "autodialer_no_consent"]]

    later = now + timedelta(hours=1)
    add_consent(s, LISTED, kind="pewc", granted_at=later, evidence_ref="form 80", added_by="cara", now=later,
                store=imported)
    assert summer[LISTED].status == "new" and summer[LISTED].suppression is None
    closed = summer[sued].suppression
    r = add_consent(s, sued, kind="ebr_inquiry", granted_at=later, evidence_ref="call-in 3", added_by="cara",
                    now=later, store=imported)  # an EBR lifts neither the suit nor the need for written consent
    assert (r.narrowed, r.dialable, summer[sued].suppression) == ([], [], closed)
    assert s.scalar(select(LedgerRecord.id).where(LedgerRecord.kind == "lead_reevaluated",
                                                  LedgerRecord.e164 == sued)) is None
    r = add_consent(s, sued, kind="pewc", granted_at=later, evidence_ref="form 81", added_by="cara", now=later,
                    store=imported)
    assert r.narrowed == [summer[sued].id] and summer[sued].status == "suppressed"  # consent does not lift a suit
    assert summer[sued].suppression.startswith("litigator: on the ")  # the gate's words for what is left
    assert "autodialer" not in summer[sued].suppression


def test_a_number_a_manual_dial_added_and_the_gate_refused_keeps_the_gates_words(session, imported, clock):
    """A number an agent typed, new to the campaign and refused, is kept suppressed as the dial loop keeps a lead
    it closes: each reason with the gate's words for this number (``dnc.reasons.stored``); consent re-opens it."""
    from campaigns.agents import service as agents
    from campaigns.agents.manual import manual_dial
    from campaigns.campaign.service import set_status
    from dnc.reasons import Reason, stored, stored_codes

    s, now = session, clock.now()
    summer = create_campaign(s, "Summer", "+12125550100", now)
    set_status(s, summer, "active", now)
    ann = agents.create_agent(s, "Ann", now, campaign=summer)
    agents.go_ready(s, ann.id, now)
    out = manual_dial(s, ann.id, LISTED, now)
    assert out.call is None and "national_dnc" in out.refused
    lead = s.scalar(select(Lead).where(Lead.campaign_id == summer.id))
    assert lead.status == "suppressed"
    assert lead.suppression == stored(Reason(c, t) for c, t in zip(out.refused, out.why, strict=True))
    assert stored_codes(lead.suppression) == list(out.refused)

    later = now + timedelta(hours=1)
    r = add_consent(s, LISTED, kind="pewc", granted_at=later, evidence_ref="form 82", added_by="cara", now=later,
                    store=imported)
    assert lead.id in r.dialable and lead.status == "new" and lead.suppression is None
