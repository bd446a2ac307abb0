"""Consent and established-business-relationship records: what lifts national and state DNC blocks.

PEWC (prior express written consent) lifts the national and state lists and is the only thing that makes a
wireless number dialable by the predictive dialer; an EBR lifts the national list (a state's own list only where
the rules file says it yields to one) for 18 months after a purchase or 3 months after an inquiry (F10). Neither
ever lifts the internal DNC, and a DNC request revokes them (the internal module calls ``revoke``).
"""

from __future__ import annotations

import calendar
from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from dnc import ledger
from dnc.errors import UserError
from dnc.numbers import check_e164
from dnc.rules import CONSENT_KINDS, current_rules
from dnc.tables import Consent

KINDS = CONSENT_KINDS


def add_months(t: datetime, months: int) -> datetime:
    m = t.month - 1 + months
    year, month = t.year + m // 12, m % 12 + 1
    return t.replace(year=year, month=month, day=min(t.day, calendar.monthrange(year, month)[1]))


def add(session: Session, e164: str, *, kind: str, granted_at: datetime, evidence_ref: str, added_by: str,
        recorded_at: datetime, campaign: int | None = None, expires_at: datetime | None = None) -> Consent:
    """Record consent or an EBR; an EBR's expiry follows from its kind unless an earlier one is given."""
    check_e164(e164)
    if kind not in KINDS:
        raise UserError(f"consent kind must be one of {', '.join(KINDS)}, not {kind!r}")
    if not evidence_ref.strip():
        raise UserError("consent needs an evidence reference (where the signed agreement or transaction is kept)")
    rules = current_rules()
    if kind != "pewc":
        months = rules.ebr_purchase_months if kind == "ebr_purchase" else rules.ebr_inquiry_months
        limit = add_months(granted_at, months)
        expires_at = min(expires_at, limit) if expires_at else limit
    if expires_at is not None and expires_at <= granted_at:
        raise UserError("consent expires before it is granted")
    row = Consent(e164=e164, kind=kind, campaign_id=campaign, granted_at=granted_at, expires_at=expires_at,
                  evidence_ref=evidence_ref.strip()[:400], added_by=added_by[:120], recorded_at=recorded_at)
    session.add(row)
    session.flush()
    ledger.append(session, "consent_add", at=recorded_at, actor=added_by, e164=e164, campaign=campaign,
                  payload={"consent_id": row.id, "kind": kind, "granted_at": ledger._iso(granted_at),
                           "expires_at": ledger._iso(expires_at) if expires_at else None,
                           "evidence_ref": row.evidence_ref})
    return row


def revoke(session: Session, e164: str, *, at: datetime, by: str, reason: str, campaign: int | None = None,
           missing_ok: bool = False) -> list[Consent]:
    """Revoke consent/EBR in force at ``at`` (all of the number's, or only one campaign's when given)."""
    found = [c for c in session.scalars(_in_force(e164, at).order_by(Consent.id))
             if campaign is None or c.campaign_id == campaign]
    if not found and not missing_ok:
        raise UserError(f"{e164} has no consent or EBR in force")
    for c in found:
        c.revoked_at, c.revoked_by, c.revoked_reason = at, by[:120], reason[:400]
        ledger.append(session, "consent_revoke", at=at, actor=by, e164=e164, campaign=c.campaign_id,
                      payload={"consent_id": c.id, "kind": c.kind, "reason": c.revoked_reason})
    session.flush()
    return found


def active(session: Session, e164: str, campaign: int | None, at: datetime) -> list[Consent]:
    """Consent and EBR records in force at ``at`` for a call of ``campaign``."""
    q = _in_force(e164, at)
    q = q.where(or_(Consent.campaign_id.is_(None), Consent.campaign_id == campaign)) if campaign is not None \
        else q.where(Consent.campaign_id.is_(None))
    return list(session.scalars(q.order_by(Consent.id)))


def _in_force(e164: str, at: datetime):
    return select(Consent).where(Consent.e164 == e164, Consent.granted_at <= at,
                                 or_(Consent.expires_at.is_(None), Consent.expires_at > at),
                                 or_(Consent.revoked_at.is_(None), Consent.revoked_at > at))


def load_file(session: Session, path, *, added_by: str, recorded_at: datetime) -> int:
    """Bulk-record consent/EBR from CSV ``number,kind,granted_at,evidence_ref[,campaign_id]`` (header optional).

    All or nothing: any bad line is a UserError naming it, and nothing is recorded.
    """
    import csv

    from dnc.numbers import to_e164
    from dnc.parsing import Malformed

    bad, rows = Malformed(str(path)), []
    try:
        with open(path, newline="", encoding="utf-8-sig") as f:
            for n, row in enumerate(csv.reader(f), 1):
                if not row or not any(c.strip() for c in row) or (n == 1 and row[0].strip().lower() in
                                                                  ("number", "phone", "e164")):
                    continue
                try:
                    if len(row) < 4:
                        raise UserError("needs number,kind,granted_at,evidence_ref[,campaign_id]")
                    granted = datetime.fromisoformat(row[2].strip().replace("Z", "+00:00"))
                    if granted.tzinfo is None:
                        raise UserError("granted_at needs an offset (Z or +HH:MM)")
                    camp = int(row[4]) if len(row) > 4 and row[4].strip() else None
                    if row[1].strip() not in KINDS:
                        raise UserError(f"kind must be one of {', '.join(KINDS)}")
                    rows.append((to_e164(row[0]), row[1].strip(), granted, row[3], camp))
                except (UserError, ValueError) as e:
                    bad.add(n, ",".join(row), f"({e})")
    except OSError as e:
        raise UserError(f"{path}: cannot read ({e.strerror})") from None
    except UnicodeDecodeError:
        raise UserError(f"{path}: not UTF-8 text") from None
    bad.check(0, "consent records")
    for e164, kind, granted, evidence, camp in rows:
        add(session, e164, kind=kind, granted_at=granted, evidence_ref=evidence, added_by=added_by,
            recorded_at=recorded_at, campaign=camp)
    return len(rows)
