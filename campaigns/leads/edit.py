"""A manager's changes to one lead: its fields (validated as the import validates them, each change recorded:
who, when, old -> new) and a do-not-call request taken for it.

The number is not editable: it is what the lead was scrubbed, deduplicated and counted under. A changed ZIP code
moves the lead's candidate time zones with it; a changed state or ZIP is judged by the pre-dial gate at the next
dial like any other (a lead suppressed at import stays suppressed). Marking a lead DNC goes through
``campaigns.compliance.dnc_requests.record_request`` like every other DNC request (the internal list, its audit
record in the ledger, the number's callbacks cancelled and its waiting leads closed), then closes this lead too.
"""

from __future__ import annotations

import re
from datetime import datetime

from sqlalchemy.orm import Session

from campaigns.campaign.history import record
from campaigns.campaign.models import Campaign
from campaigns.compliance.dnc_requests import record_request
from campaigns.leadimport.mapping import US_STATES, clean_postal, clean_state
from campaigns.leads.models import Lead
from dnc import internal
from dnc.errors import UserError
from dnc.reasons import Reason, stored
from dnc.zones import candidate_zones

LABELS = {"first_name": "First name", "last_name": "Last name", "state": "State", "postal_code": "ZIP code"}
STATE_CODES = frozenset(US_STATES.values()) | {"PR", "GU", "VI", "AS", "MP"}
MAX_NAME = 200
MAX_CUSTOM = 500
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
DNC_CHANNELS = {"phone": "On the phone", "mail": "By letter", "email": "By e-mail", "web": "On the web site",
                "sms": "By text message", "agent": "Told an agent"}


def label(key: str) -> str:
    return LABELS.get(key) or key.removeprefix("custom.").replace("_", " ")


def _text(key: str, raw: str, most: int) -> str:
    value = (raw or "").strip()
    if CONTROL.search(value):
        raise UserError(f"{label(key)}: remove the control characters")
    if len(value) > most:
        raise UserError(f"{label(key)}: at most {most:,} characters")
    return value


def _state(raw: str, region: str) -> str | None:
    if not (raw or "").strip():
        return None
    code = clean_state(raw)
    if code is None or (region == "US" and code not in STATE_CODES):
        raise UserError(f"State: give a two-letter state code such as NY (or the state's name), got {raw.strip()!r}")
    return code


def _postal(raw: str, region: str) -> str | None:
    if not (raw or "").strip():
        return None
    code = clean_postal(raw, region)
    if code is None:
        raise UserError(f"ZIP code: give 5 digits (or ZIP+4 such as 10001-1234), got {raw.strip()!r}")
    return code


def edit(session: Session, campaign: Campaign, lead: Lead, values: dict[str, str], by: str,
         now: datetime) -> list[str]:
    """Change ``lead``'s fields from ``values`` (``first_name``, ``last_name``, ``state``, ``postal_code`` and
    ``custom.NAME`` for the file's other columns); everything is checked before anything changes. Returns the keys
    changed."""
    if lead.campaign_id != campaign.id:
        raise UserError(f"campaign {campaign.name!r} has no lead {lead.id}")
    custom = dict(lead.custom or {})
    new: dict[str, object] = {}
    for key, raw in values.items():
        if key in ("first_name", "last_name"):
            new[key] = _text(key, raw, MAX_NAME)
        elif key == "state":
            new[key] = _state(raw, campaign.region)
        elif key == "postal_code":
            new[key] = _postal(raw, campaign.region)
        elif key.startswith("custom.") and key[7:] in custom:
            new[key] = _text(key, raw, MAX_CUSTOM)
        elif key.startswith("custom."):
            raise UserError(f"{label(key)}: this lead has no such field (its fields: "
                            f"{', '.join(custom) or 'none besides the name, state and ZIP code'})")
        else:
            raise UserError(f"{key}: not a field that can be edited (the number is the lead's identity; "
                            f"editable: {', '.join(LABELS)} and the file's other columns)")
    changed = []
    for key, value in new.items():
        old = custom.get(key[7:]) if key.startswith("custom.") else getattr(lead, key)
        if (old or "") == (value or ""):
            continue
        record(session, campaign.id, now, by, label(key), str(old or ""), str(value or ""), subject=f"lead:{lead.id}")
        if key.startswith("custom."):
            custom[key[7:]] = value
        else:
            setattr(lead, key, value)
        changed.append(key)
    if any(k.startswith("custom.") for k in changed):
        lead.custom = custom  # a new dict: JSON columns notice assignment, not mutation
    if "postal_code" in changed:
        lead.timezones = ",".join(candidate_zones(lead.phone, lead.postal_code))
    if changed:
        lead.updated_at = now
    session.flush()
    return changed


def mark_dnc(session: Session, campaign: Campaign, lead: Lead, *, by: str, channel: str, reason: str,
             now: datetime, scope: str = "company") -> str:
    """The person asked not to be called: the number goes on the internal DNC list (company-wide, or this
    campaign's) with its audit record, and the lead is closed as ``dnc``. A lead on a call now keeps its call; the
    gate refuses its number from now on. Returns what was done, in words."""
    if lead.campaign_id != campaign.id:
        raise UserError(f"campaign {campaign.name!r} has no lead {lead.id}")
    if channel not in DNC_CHANNELS:
        raise UserError(f"How the request came: one of {', '.join(DNC_CHANNELS)}, got {channel!r}")
    reason = _text("reason", reason, 400)
    if not reason:
        raise UserError("Reason: say what the person asked (it is kept with the DNC record)")
    if scope not in ("company", "campaign"):
        raise UserError(f"Scope: company or campaign, got {scope!r}")
    cid = campaign.id if scope == "campaign" else None
    old = lead.status
    existing = [e for e in internal.active(session, lead.phone, cid, now)
                if e.scope == "company" or scope == "campaign"]
    if existing:
        done = f"already on the internal DNC list (entry #{existing[0].id})"
    else:
        entry = record_request(session, lead.phone, scope=scope, campaign=cid, channel=channel, received_at=now,
                               added_by=by or "console", source_ref=f"lead:{lead.id}", reason=reason)
        done = f"added to the internal DNC list (entry #{entry.id}, {scope})"
    if lead.status not in ("dnc", "dialing", "closed"):
        lead.status, lead.last_outcome, lead.next_attempt_at, lead.updated_at = "dnc", "dnc", None, now
        lead.callback_at, lead.callback_agent_id = None, None
        lead.suppression = stored([Reason("internal_dnc", f"marked by {by or 'console'}: {reason}")])
    record(session, campaign.id, now, by, "do not call", old, f"{lead.status}; {done}", subject=f"lead:{lead.id}")
    session.flush()
    return done
