"""Why a number may not be called: stable snake_case codes with a human sentence.

Codes are part of the interface (stored on suppressed leads, counted in reports, matched by the dial loop), so
they never change meaning. A reason is *temporary* when waiting alone can clear it (a closed window, a cap, a
stale registry, a registry this host has not fetched yet, a state's own list or recent Reassigned Numbers Database
data not loaded yet); every other reason needs a change in the data (a removal, new consent) before a call is legal.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

# time-based: cleared by time passing (the gate's caller reschedules the lead instead of closing it)
WINDOW_CODES = frozenset({"outside_window", "sunday_ban", "saturday_ban", "holiday", "emergency_ban", "state_cap"})
TEMPORARY_CODES = WINDOW_CODES | {"registry_stale", "registry_unavailable", "state_list_missing", "rnd_stale"}

CODES = (
    "invalid_number", "unknown_zone", "internal_dnc", "national_dnc", "state_dnc", "litigator",
    "wireless_no_consent", "wireless_restricted_state", "autodialer_no_consent", "prefix_block", "reassigned_number",
    "rnd_no_data", "registry_stale", "registry_unavailable", "state_list_missing", "rnd_stale", "outside_window",
    "sunday_ban", "saturday_ban", "holiday", "emergency_ban", "state_cap",
)


@dataclass(frozen=True, slots=True)
class Reason:
    """One rule that forbids the call; ``source`` names the matched list and its version when there is one."""

    code: str
    text: str
    source: str = ""

    @property
    def temporary(self) -> bool:
        return self.code in TEMPORARY_CODES

    def as_dict(self) -> dict:
        d = {"code": self.code, "text": self.text}
        if self.source:
            d["source"] = self.source
        return d

# Each code in plain words, for the auditor's pages and exports (the code is shown beside them, never instead).
WORDS = {
    "invalid_number": "Invalid number", "unknown_zone": "Unknown time zone",
    "internal_dnc": "On the internal do-not-call list", "national_dnc": "On the National DNC Registry",
    "state_dnc": "On a state do-not-call list", "litigator": "On the litigator list",
    "wireless_no_consent": "Wireless number without written consent",
    "wireless_restricted_state": "Wireless number in a state that forbids calling it",
    "autodialer_no_consent": "Automated dialing without written consent", "prefix_block": "Blocked area code or prefix",
    "registry_stale": "National registry missing or too old",
    "registry_unavailable": "National registry not on the server",
    "state_list_missing": "State do-not-call list not loaded",
    "reassigned_number": "Consent given before the number was reassigned",
    "rnd_no_data": "Consent older than the reassigned-numbers data",
    "rnd_stale": "Reassigned-numbers data missing or too old",
    "outside_window": "Outside the calling hours", "sunday_ban": "Sunday calling ban",
    "saturday_ban": "Saturday calling ban",
    "holiday": "Holiday calling ban", "emergency_ban": "Declared emergency", "state_cap": "Over the state's call cap",
    "evidence_missing": "Evidence missing (registry snapshot pruned)",
    "stale_decision": "Not sent in time after the check (call released)",
}


def words(code: str) -> str:
    """``outside_window`` -> "Outside the calling hours" (an unknown code is shown as it is)."""
    return WORDS.get(code, code.replace("_", " "))


# --- the reasons stored on a closed lead (``leads.suppression``, at most 400 characters) ---------------------------
STORED_MAX = 400
_KNOWN = frozenset(CODES).union(WORDS)


def stored(reasons: Iterable[Reason | str]) -> str:
    """``national_dnc: on the registry; litigator: on the list``: each code with the gate's words for this number
    (what the manager reads on the lead), cut to fit the column; ``stored_codes`` reads it back. A bare code (a
    scrub finds codes, not words about one number) is stored with its words (``words``). The words are free text (a
    manager's note, a list's label), so a ';' in them is stored as ',': only ``stored`` itself separates reasons, and
    no note ("litigator; national_dnc") can read back as a code the lead does not have."""
    parts = ((r, words(r)) if isinstance(r, str) else (r.code, r.text) for r in reasons)
    return "; ".join(f"{code}: {text.replace(';', ',')}".rstrip(": ") for code, text in parts)[:STORED_MAX]


def stored_codes(text: str | None) -> list[str]:
    """The codes in a lead's stored reasons, as written by ``stored`` (``code: words; ...``) or as a comma list of bare
    codes (rows imports and manual dials wrote before every writer used ``stored``); the words after a colon are
    skipped whatever they contain, and what is not a known code (a note, a code cut off by the column) is dropped, so
    callers compare and re-judge codes only."""
    out: list[str] = []
    for part in (text or "").split(";"):
        code, colon, _ = part.partition(":")
        for c in [code.strip()] if colon else (p.strip() for p in part.split(",")):
            if c in _KNOWN and c not in out:
                out.append(c)
    return out
