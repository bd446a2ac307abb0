"""A campaign's lead-strategy, callback and abandon-alert settings, validated in one place.

They sit in their own table (one row per campaign, created on the first change) so the campaign row keeps the
settings every campaign needs and these stay optional: a campaign without a row dials with the defaults below,
which are the dial loop's behaviour before any of this existed (longest-due first, no caps, no interleave).
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime

from sqlalchemy.orm import Session

from campaigns.campaign.models import Campaign, DialSettings
from dnc.errors import UserError

LEAD_ORDERS = ("due", "oldest", "newest", "follow_sun")
DAY_S = 24 * 3600


@dataclass(frozen=True)
class Settings:
    """A copy of the settings (defaults when the campaign has no row), safe to hold outside a session."""

    lead_order: str = "due"
    new_lead_every: int = 0  # 0: off; N: one dial in N goes to a new lead while retries wait
    phone_switch_after: int = 0  # 0: off; N: the next phone of the lead after N failed attempts on this one
    min_recall_gap_s: int = 0  # never call a lead (or its number) again sooner than this
    lead_daily_cap: int | None = None  # attempts per lead per campaign day
    phone_daily_cap: int | None = None  # attempts per number per campaign day, across leads and campaigns
    retry_shift_s: int = 0  # each retry waits this much longer than the one before: the time of day rotates
    callbacks_personal: bool = True  # an agent's callback waits for that agent first
    callback_grace_s: int = 900  # how long a personal callback waits for its agent before anyone may take it
    callback_miss_s: int = 3600  # a callback not dialed this long after it was due is "missed" (listed)
    abandon_warn_1: float = 0.025
    abandon_warn_2: float = 0.028
    abandon_fallback: bool = True  # at the campaign's abandon target, pace progressive until back under warn 1
    alert_min_live_answers: int = 100  # no warning on fewer live answers than this (30 days)
    alert_webhook_url: str = ""
    callerid_min_answer_rate: float | None = None  # retire a pool number whose 7-day answer rate falls below
    callerid_min_dials: int = 200  # ... once it has at least this many dials in those 7 days

    def as_dict(self) -> dict:
        return {f.name: getattr(self, f.name) for f in fields(self)}


NAMES = tuple(f.name for f in fields(Settings))


def settings_of(session: Session, campaign_id: int) -> Settings:
    row = session.get(DialSettings, campaign_id)
    if row is None:
        return Settings()
    return Settings(**{n: getattr(row, n) for n in NAMES})


def _int(name: str, v, lo: int, hi: int, allow_none: bool = False) -> int | None:
    if v is None and allow_none:
        return None
    if isinstance(v, bool) or not isinstance(v, int):
        raise UserError(f"{name}: must be a whole number, got {v!r}")
    if not lo <= v <= hi:
        raise UserError(f"{name}: must be between {lo} and {hi}, got {v}")
    return v


def _pct(fraction: float) -> str:
    """A rate as the manager reads it (the settings keep fractions): 0.025 -> "2.5 %"."""
    return f"{fraction * 100:g} %"


def validate(s: Settings, abandon_target: float) -> None:
    """Every rule a setting must follow, each refusal naming the setting."""
    if s.lead_order not in LEAD_ORDERS:
        raise UserError(f"lead_order: must be one of {', '.join(LEAD_ORDERS)}, got {s.lead_order!r}")
    _int("new_lead_every", s.new_lead_every, 0, 100)
    _int("phone_switch_after", s.phone_switch_after, 0, 50)
    _int("min_recall_gap_s", s.min_recall_gap_s, 0, 7 * DAY_S)
    _int("lead_daily_cap", s.lead_daily_cap, 1, 100, allow_none=True)
    _int("phone_daily_cap", s.phone_daily_cap, 1, 100, allow_none=True)
    _int("retry_shift_s", s.retry_shift_s, 0, DAY_S)
    _int("callback_grace_s", s.callback_grace_s, 0, DAY_S)
    _int("callback_miss_s", s.callback_miss_s, 60, 7 * DAY_S)
    if s.callback_miss_s <= s.callback_grace_s:
        raise UserError(f"callback_miss_s: must be longer than callback_grace_s ({s.callback_grace_s // 60} min): a "
                        "personal callback is offered to everyone before it counts as missed")
    for name in ("abandon_warn_1", "abandon_warn_2"):
        v = getattr(s, name)
        if isinstance(v, bool) or not isinstance(v, int | float) or not 0 < v < abandon_target:
            raise UserError(f"{name}: must be above 0 % and below the campaign's abandon target "
                            f"{_pct(abandon_target)}, got {_pct(v) if isinstance(v, int | float) else repr(v)}")
    if s.abandon_warn_1 >= s.abandon_warn_2:
        raise UserError(f"abandon_warn_1 ({_pct(s.abandon_warn_1)}) must be below abandon_warn_2 "
                        f"({_pct(s.abandon_warn_2)})")
    _int("alert_min_live_answers", s.alert_min_live_answers, 0, 1_000_000)
    if s.alert_webhook_url:
        from campaigns.alerts.destinations import check_entered

        check_entered(s.alert_webhook_url)  # https to a public address (server-side request forgery)
    rate = s.callerid_min_answer_rate
    if rate is not None and (isinstance(rate, bool) or not isinstance(rate, int | float) or not 0 < rate < 1):
        raise UserError(f"callerid_min_answer_rate: must be between 0 % and 100 %, got "
                        f"{_pct(rate) if isinstance(rate, int | float) else repr(rate)}")
    _int("callerid_min_dials", s.callerid_min_dials, 1, 1_000_000)


def update(session: Session, campaign: Campaign, now: datetime, **changes) -> Settings:
    """Change some settings of ``campaign`` (validated together with the ones kept); returns the new settings."""
    unknown = sorted(set(changes) - set(NAMES))
    if unknown:
        raise UserError(f"unknown setting(s): {', '.join(unknown)} (known: {', '.join(NAMES)})")
    current = settings_of(session, campaign.id)
    new = Settings(**{**current.as_dict(), **changes})
    validate(new, campaign.abandon_target)
    row = session.get(DialSettings, campaign.id)
    if row is None:
        row = DialSettings(campaign_id=campaign.id, dial_seq=0, updated_at=now)
        session.add(row)
    for name in NAMES:
        setattr(row, name, getattr(new, name))
    row.updated_at = now
    session.flush()
    return new

