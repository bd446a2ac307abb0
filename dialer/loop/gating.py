"""The pre-dial gate as the dial loop calls it: ``dnc.gate.gate`` for each claimed lead, inside the claim's
transaction, so the audit record commits (or rolls back) with the claim it justified."""

from __future__ import annotations

from datetime import datetime

from campaigns.dispatch_rules import Candidate


def dnc_gate(session, candidate: Candidate, now: datetime):
    """Ask the DNC engine whether ``candidate`` may be dialed now (all reasons, with ``opens_at`` when only time
    stands in the way). Needs the SQL store: the gate reads the lists and writes its ledger record."""
    from dnc.gate import gate

    return gate(session, candidate.phone, campaign=candidate.campaign_id, at=now, state=candidate.state,
                postal_code=candidate.postal_code, zones=candidate.zones or None,
                lead_ref=f"lead:{candidate.lead_id}")
