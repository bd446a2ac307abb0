"""Call scripts: the words an agent reads, one per campaign, with the lead's details filled in.

The manager writes the script on the campaign's page; the agent sees it when a call pops, with placeholders such as
``{first_name}`` or ``{seller}`` replaced (unknown placeholders stay as written, so a typo shows instead of
silently vanishing). Plain text only: the console escapes it, nothing in a script can run.
"""

from __future__ import annotations

import re
from datetime import datetime

from sqlalchemy.orm import Session

from campaigns.campaign.models import CampaignScript
from dnc.errors import UserError

MAX_SCRIPT = 20_000
PLACEHOLDERS = ("first_name", "last_name", "name", "phone", "state", "agent", "seller", "campaign", "callback_number")
_TOKEN = re.compile(r"\{([A-Za-z_][A-Za-z0-9_ .-]{0,60})\}")


def get_script(session: Session, campaign_id: int) -> str:
    row = session.get(CampaignScript, campaign_id)
    return row.text if row is not None else ""


def set_script(session: Session, campaign_id: int, text: str, by: str, now: datetime) -> None:
    text = text.replace("\r\n", "\n").strip()
    if len(text) > MAX_SCRIPT:
        raise UserError(f"the script is {len(text):,} characters; at most {MAX_SCRIPT:,}")
    row = session.get(CampaignScript, campaign_id)
    if row is None:
        session.add(CampaignScript(campaign_id=campaign_id, text=text, updated_at=now, updated_by=by[:120]))
    else:
        row.text, row.updated_at, row.updated_by = text, now, by[:120]
    session.flush()


def render_script(text: str, values: dict[str, str], custom: dict[str, str] | None = None) -> str:
    """Fill ``{placeholder}``s from ``values`` and the lead's custom fields (``{Company}`` by column name)."""
    custom = {k.lower(): v for k, v in (custom or {}).items()}

    def fill(m: re.Match) -> str:
        key = m.group(1)
        if key in values:
            return values[key] or ""
        return str(custom.get(key.lower(), m.group(0)))

    return _TOKEN.sub(fill, text)
