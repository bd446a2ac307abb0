"""Suppressed leads: who they are and why (for the manager and the compliance officer), and what consent changes.

A lead suppressed at import keeps its reasons (``leads.suppression``). Some of them only hold for lack of consent:
the National DNC Registry and state lists (prior express consent lifts them), a wireless number or a state that
treats predictive dialing as automated (written consent lifts them), consent the Reassigned Numbers Database says a
previous holder of the number gave (the present one's lifts it). When consent for the number arrives, every
such lead is judged again by the gate's own rules at that instant; a lead with no lasting reason left becomes
dialable (``new``), one with other reasons keeps them, and each change leaves a ``lead_reevaluated`` ledger record
(lead, before, after, the consent that caused it). Time-based refusals (calling hours, caps) are not suppressions:
the dial loop waits for those.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from campaigns.campaign.models import Campaign
from campaigns.leads.models import Lead, LeadList
from dnc import consent as consent_mod
from dnc import ledger
from dnc.gate import evaluate
from dnc.reasons import stored, stored_codes, words
from dnc.registry.snapshot import Store
from dnc.tables import Consent

# reasons that exist only for lack of consent: consent may lift them, so a new consent re-opens the question
FOR_LACK_OF_CONSENT = frozenset({"national_dnc", "state_dnc", "wireless_no_consent", "autodialer_no_consent",
                                 "reassigned_number", "rnd_no_data"})


def codes_of(lead: Lead) -> list[str]:
    """The lead's reason codes, whether the import scrub or the dial-time gate wrote them (``dnc.reasons``)."""
    return stored_codes(lead.suppression)


@dataclass
class Reevaluated:
    leads: int = 0  # suppressed leads of the numbers looked at again
    dialable: list[int] = field(default_factory=list)  # lead ids now dialable
    narrowed: list[int] = field(default_factory=list)  # still suppressed, for fewer reasons
    consent: Consent | None = None  # the record that caused it (one consent added)


def reevaluate(session: Session, numbers: Iterable[str], now: datetime, store: Store | None = None,
               because: str = "") -> Reevaluated:
    """Judge again, at ``now``, the suppressed leads of ``numbers`` whose reasons consent may lift."""
    out = Reevaluated()
    wanted = sorted(set(numbers))
    for k in range(0, len(wanted), 1000):
        leads = session.scalars(select(Lead).where(Lead.phone.in_(wanted[k:k + 1000]), Lead.status == "suppressed")
                                .order_by(Lead.id)).all()
        for lead in leads:
            before = codes_of(lead)
            if not before or not set(before) & FOR_LACK_OF_CONSENT:
                continue
            out.leads += 1
            d = evaluate(session, lead.phone, campaign=lead.campaign_id, at=now, state=lead.state,
                         postal_code=lead.postal_code, zones=lead.timezones or None, registry=store)
            after = [c for c in d.codes if c not in _PASSING]
            if set(after) == set(before) - _PASSING:  # a waiting reason the gate wrote is not the consent's to drop
                continue
            if after:
                lead.suppression = stored(r for r in d.reasons if r.code in after)  # the gate's words for them
                out.narrowed.append(lead.id)
            else:
                lead.status, lead.suppression, lead.next_attempt_at = "new", None, None
                out.dialable.append(lead.id)
            lead.updated_at = now
            ledger.append(session, "lead_reevaluated", at=now, actor="consent", e164=lead.phone,
                          campaign=lead.campaign_id, allowed=not after, reasons=after,
                          payload={"lead_id": lead.id, "before": before, "after": after, "because": because,
                                   "details": [r.as_dict() for r in d.reasons if r.code in after]})
    session.flush()
    return out


# refusals that time clears or that belong to this host, not to the lead: never a suppression
_PASSING = frozenset({"outside_window", "sunday_ban", "saturday_ban", "holiday", "emergency_ban", "state_cap",
                      "registry_stale", "registry_unavailable", "state_list_missing", "rnd_stale"})


def add_consent(session: Session, e164: str, *, kind: str, granted_at: datetime, evidence_ref: str, added_by: str,
                now: datetime, campaign: int | None = None, expires_at: datetime | None = None,
                store: Store | None = None) -> Reevaluated:
    """Record consent (``dnc.consent.add``) and judge the number's suppressed leads again."""
    c = consent_mod.add(session, e164, kind=kind, granted_at=granted_at, evidence_ref=evidence_ref,
                        added_by=added_by, recorded_at=now, campaign=campaign, expires_at=expires_at)
    out = reevaluate(session, [e164], now, store, because=f"consent #{c.id} ({kind}: {evidence_ref})")
    out.consent = c
    return out


def load_consents(session: Session, path, *, added_by: str, now: datetime, store: Store | None = None
                  ) -> tuple[int, Reevaluated]:
    """A consent file (``dnc.consent.load_file``, all or nothing), then its numbers' suppressed leads again."""
    first = session.scalar(select(func.max(Consent.id))) or 0
    n = consent_mod.load_file(session, path, added_by=added_by, recorded_at=now)
    numbers = session.scalars(select(Consent.e164).where(Consent.id > first)).all()
    return n, reevaluate(session, numbers, now, store, because=f"consent file {getattr(path, 'name', path)}")


# --- what the manager and the compliance officer see ---------------------------------------------------------------
@dataclass
class SuppressedPage:
    rows: list[dict]
    total: int
    by_reason: list[tuple[str, str, int]]  # (code, words, leads)
    several: int  # leads with more than one reason


def suppressed_leads(session: Session, campaign_id: int | None = None, list_id: int | None = None,
                     limit: int | None = None) -> SuppressedPage:
    q = (select(Lead, Campaign.name, LeadList.name).join(Campaign, Campaign.id == Lead.campaign_id)
         .join(LeadList, LeadList.id == Lead.list_id).where(Lead.status == "suppressed"))
    if campaign_id is not None:
        q = q.where(Lead.campaign_id == campaign_id)
    if list_id is not None:
        q = q.where(Lead.list_id == list_id)
    counts: Counter[str] = Counter()
    several, total, rows = 0, 0, []
    for lead, cname, lname in session.execute(q.order_by(Lead.campaign_id, Lead.list_id, Lead.id)):
        codes = codes_of(lead)
        total += 1
        counts.update(dict.fromkeys(codes, 1))
        several += len(set(codes)) > 1
        if limit is None or len(rows) < limit:
            rows.append({"lead": lead.id, "name": f"{lead.first_name} {lead.last_name}".strip(),
                         "number": lead.phone, "campaign": cname, "list": lname, "line": lead.line,
                         "state": lead.state or "", "postal_code": lead.postal_code or "",
                         "reasons": [{"code": c, "words": words(c)} for c in codes],
                         "since": lead.created_at})
    by_reason = [(c, words(c), n) for c, n in counts.most_common()]
    return SuppressedPage(rows, total, by_reason, several)


def reasons_text(reasons: Sequence[dict]) -> str:
    return "; ".join(f"{r['words']} ({r['code']})" for r in reasons)
