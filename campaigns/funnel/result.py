"""What the dialable funnel answers: the codes a lead can be counted under, their labels, and the ``Funnel`` value.

The order of the codes is the funnel's rule, not a presentation choice: a lead blocked for several reasons is counted
under the first of ``NUMBER_CODES``, then its own timing, then ``RULE_CODES``, then ``CAMPAIGN_CODES``
(``campaigns.funnel.classify.primary``), so the counts add up to the campaign's leads. The console, the CLI, the
reports and the bench read these names; the counting itself is ``campaigns.funnel.service.funnel``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

DNC_CODES = ("internal_dnc", "national_dnc", "state_dnc", "litigator", "wireless_no_consent",
             "wireless_restricted_state", "autodialer_no_consent", "prefix_block")
NUMBER_CODES = ("invalid_number", "unknown_zone", "reassigned_number", "rnd_no_data", *DNC_CODES,  # the cause first:
                "registry_stale", "registry_unavailable", "state_list_missing", "rnd_stale")  # the lifts it undoes
TIMING_CODES = ("callback_pending", "callback_reserved", "retry_not_due", "recall_gap")
WINDOW_CODES = ("outside_window", "sunday_ban", "saturday_ban", "holiday", "emergency_ban")
RULE_CODES = (*WINDOW_CODES, "state_cap")
CAMPAIGN_CODES = ("campaign_paused", "no_caller_id", "list_disabled")
STATUS_WORDS = {"draft": "a draft"}  # "the campaign is a draft", "the campaign is paused"
BLOCKED = (*NUMBER_CODES, *TIMING_CODES, "daily_cap", *RULE_CODES, *CAMPAIGN_CODES)
LABELS = {
    "invalid_number": "invalid number", "unknown_zone": "unknown time zone",
    "internal_dnc": "internal do-not-call list", "national_dnc": "National DNC Registry",
    "state_dnc": "state DNC list", "litigator": "litigator list", "wireless_no_consent": "wireless, no consent",
    "wireless_restricted_state": "wireless in a restricted state", "autodialer_no_consent": "autodialer, no consent",
    "prefix_block": "blocked area code/prefix", "registry_stale": "national registry missing or too old",
    "registry_unavailable": "national registry not yet on this server",
    "state_list_missing": "a state's own DNC list not loaded",
    "reassigned_number": "consent given before the number was reassigned",
    "rnd_no_data": "consent older than the reassigned-numbers data",
    "rnd_stale": "reassigned-numbers data missing or old",
    "callback_pending": "callback not due yet", "callback_reserved": "callback waiting for its agent",
    "retry_not_due": "retry not due yet", "recall_gap": "minimum re-call gap", "daily_cap": "daily attempt cap",
    "outside_window": "outside the calling window", "sunday_ban": "no calls on Sundays there",
    "saturday_ban": "no calls on Saturdays there", "holiday": "holiday there", "emergency_ban": "declared emergency",
    "state_cap": "state call cap (24 h)", "campaign_paused": "campaign not running",
    "no_caller_id": "every caller ID used up or retired", "list_disabled": "list disabled",
    "closed": "closed (sale)", "done": "done", "exhausted": "max attempts", "dnc": "asked not to be called",
    "suppressed": "suppressed at import", "dialing": "on a call now", "dialable": "dialable now",
}
HORIZON_MIN = 240  # how far ahead "runs dry" looks, in minutes


def dry_text(minutes: int) -> str:
    return f"the queue runs dry in about {minutes} minute{'' if minutes == 1 else 's'} at the current pace"


@dataclass
class WindowGroup:
    zones: tuple[str, ...]
    states: tuple[str, ...]
    reason: str
    leads: int
    opens_at: datetime | None

    def as_dict(self) -> dict:
        return {"zones": list(self.zones), "states": list(self.states), "reason": self.reason, "leads": self.leads,
                "opens_at": self.opens_at.isoformat() if self.opens_at else None}


@dataclass
class Funnel:
    campaign: str
    campaign_id: int
    status: str
    at: datetime
    total: int = 0
    final: dict[str, int] = field(default_factory=dict)
    dialing: int = 0
    blocked: dict[str, int] = field(default_factory=dict)
    dialable: int = 0
    windows: list[WindowGroup] = field(default_factory=list)
    agents_ready: int = 0
    pace_per_min: float = 0.0
    runs_dry_in_min: int | None = None  # None: not dialing, or more than the horizon
    due_next_hour: int = 0
    callbacks: dict[str, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    @property
    def adds_up(self) -> bool:
        return self.total == sum(self.final.values()) + self.dialing + sum(self.blocked.values()) + self.dialable

    def as_dict(self) -> dict:
        return {"campaign": self.campaign, "campaign_id": self.campaign_id, "status": self.status,
                "at": self.at.isoformat(), "total": self.total, "final": self.final,
                "final_total": sum(self.final.values()), "dialing": self.dialing, "blocked": self.blocked,
                "blocked_total": sum(self.blocked.values()), "dialable": self.dialable,
                "windows": [w.as_dict() for w in self.windows], "agents_ready": self.agents_ready,
                "pace_per_min": self.pace_per_min, "runs_dry_in_min": self.runs_dry_in_min,
                "horizon_min": HORIZON_MIN, "due_next_hour": self.due_next_hour, "callbacks": self.callbacks,
                "notes": self.notes, "adds_up": self.adds_up, "labels": {k: LABELS[k] for k in
                                                                          (*self.final, *self.blocked)}}

    def runway_text(self) -> str:
        if self.status != "active":  # its leads wait for a start, not for the pace of the dials before it stopped
            return f"not dialing now: the campaign is {STATUS_WORDS.get(self.status, self.status)}"
        if self.dialable == 0 and self.pace_per_min == 0:
            return "nothing is dialable now"
        if self.pace_per_min == 0:
            return "not dialing now"
        if self.runs_dry_in_min is None:
            return f"enough leads for more than {HORIZON_MIN // 60} hours at the current pace"
        return dry_text(self.runs_dry_in_min)
