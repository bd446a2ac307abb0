"""Shared pieces of the rule-by-rule audit of the pre-dial gate (``test_rules_audit_*``).

Every question is asked exactly as the dial loop asks it: ``campaigns.dispatch.service.dnc_gate`` with a
``Candidate`` built from the lead (phone, state, ZIP; zones worked out afresh), inside the claim's session, with
the state caps counting the calls table. Each answer is checked twice: the decision, and the gate's ledger record
(allowed flag and reason codes) that a compliance officer reads afterwards.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta

from sqlalchemy import select

from campaigns.dispatch import service as dispatch
from campaigns.dispatch.rules import Candidate
from dnc import consent
from dnc.lists import load_list
from dnc.reassigned import load_rnd
from dnc.registry import generate, load_full
from dnc.rules import current_rules
from dnc.tables import LedgerRecord

# every area code the audit dials, so the national registry snapshot in force covers them all
AREA_CODES = ("201", "205", "206", "207", "210", "212", "305", "401", "405", "410", "502", "504", "601", "602",
              "605", "787", "800", "801", "808", "850", "907", "915", "416", "458", "208", "364", "317")


def load_registry(session, store, tmp_path, at: datetime, *numbers: str, age_days: int = 0,
                  area_codes=AREA_CODES, state_lists: bool = True, rnd: bool = True) -> None:
    """A national registry snapshot of ``at``'s date (minus ``age_days``) listing ``numbers`` among others, and
    (unless told not to) a version of every state's own DNC list and Reassigned Numbers Database data of ``at``,
    listing nobody."""
    path = generate(tmp_path / "registry.txt", 500, area_codes=area_codes, seed=5, include=numbers).path
    load_full(session, store, [path], version_date=(at - timedelta(days=age_days)).date(), loaded_by="audit",
              now=at - timedelta(days=age_days), area_codes=",".join(area_codes))
    if state_lists:
        load_state_lists(session, tmp_path, at, rnd=rnd)
    elif rnd:
        load_empty_rnd(session, tmp_path, at)
    session.flush()


def load_state_lists(session, tmp_path, at: datetime, rnd: bool = True) -> None:
    """A version of every state's own DNC list, naming nobody (until one is loaded, nobody there is called), and
    (unless told not to) RND data of ``at`` recording no disconnection (until some are, a call resting on consent
    waits)."""
    empty = tmp_path / "empty-state-list.txt"
    empty.write_text("", encoding="utf-8")
    for code, rule in current_rules().states.items():
        if rule.own_list:
            load_list(session, "state", empty, key=code, version_date=at.date(), loaded_by="test", now=at)
    if rnd:
        load_empty_rnd(session, tmp_path, at)


def load_empty_rnd(session, tmp_path, at: datetime) -> None:
    """Reassigned Numbers Database data of ``at``'s date recording no disconnection (a call resting on consent
    waits until some are loaded)."""
    empty = tmp_path / "empty-rnd.csv"
    empty.write_text("", encoding="utf-8")
    load_rnd(session, empty, version_date=at.date(), loaded_by="test", now=at)


def pewc(session, e164: str, at: datetime, **kw) -> consent.Consent:
    """Prior express written consent granted 30 days before ``at`` (unless told otherwise)."""
    kw.setdefault("granted_at", at - timedelta(days=30))
    return consent.add(session, e164, kind=kw.pop("kind", "pewc"), evidence_ref="signed form", added_by="audit",
                       recorded_at=kw["granted_at"], **kw)


def ask(session, phone: str, at: datetime, *, state: str | None = None, postal: str | None = None,
        campaign: int = 1, lead: int = 1, dialing: str = "predictive"):
    """The gate's decision for a claimed lead, as the dial loop asks for it."""
    return dispatch.dnc_gate(session, Candidate(lead, campaign, phone, state, postal, (), dialing), at)


def last_record(session, phone: str) -> LedgerRecord:
    return session.scalars(select(LedgerRecord).where(LedgerRecord.kind == "gate", LedgerRecord.e164 == phone)
                           .order_by(LedgerRecord.seq.desc()).limit(1)).one()


def check(session, decision, allowed: bool, codes=()) -> None:
    """The decision is as expected, carries every expected reason code, and its audit record says the same."""
    assert decision.allowed is allowed, (decision.codes, [r.text for r in decision.reasons])
    assert set(codes) <= set(decision.codes), (codes, decision.codes, [r.text for r in decision.reasons])
    if allowed:
        assert decision.codes == ()
    rec = last_record(session, decision.e164)
    assert rec.allowed is allowed and rec.at == decision.at
    assert set(rec.reasons.split(",") if rec.reasons else ()) == set(decision.codes)
    body = json.loads(rec.body)  # each reason says why in words, in the record too, with the zones and states used
    assert [(d["code"], d["text"]) for d in body["details"]] == [(r.code, r.text) for r in decision.reasons]
    assert all(r.text for r in decision.reasons)
    assert body["zones"] == list(decision.zones) and body["states"] == list(decision.states)
