"""The floor's numbers, defined once.

Every report, the console, the pacing benchmark and the pacer's abandon budget compute their figures with these
functions, so a metric cannot mean two things in two places. They are pure: they take counts and durations (the
SQL aggregates in ``campaigns.reports`` produce them; the simulator counts them in memory) and return a fraction,
a number of seconds or a rate, or ``None`` when the denominator is zero (shown as "—", never a division error).

Rates are fractions (0.25, not 25 %). The one-line definitions in ``GLOSSARY`` are the words the README and the
console show next to the numbers; each function's docstring starts with the same line.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from decimal import ROUND_HALF_UP, Decimal

#: What a call's ``outcome`` can be (written by the dial loop and by ``dialer calls import``).
CALL_OUTCOMES = ("completed", "abandoned", "no_answer", "busy", "failed", "machine")

GLOSSARY: dict[str, str] = {
    "dials": "Calls placed.",
    "live_answers": "Calls a person answered: connected to an agent or abandoned (a person who hangs up within the "
                    "2 seconds counts too; answering machines do not).",
    "contacts": "Live answers that reached an agent (unless the agent's disposition is flagged as not a contact, "
                "e.g. dead air).",
    "abandoned": "Live answers that no agent took within 2 seconds of the greeting (the safe-harbor message played).",
    "machines": "Dials answered by an answering machine (detected by AMD).",
    "no_answers": "Dials nobody answered; busies and failures are the dials that got a busy or an error.",
    "closes": "Calls whose disposition is flagged as a close (a sale).",
    "callbacks": "Calls whose disposition is flagged as a callback (the lead is called again at an agreed time).",
    "handled": "Calls an agent took that have ended (never an abandoned one): the base of talk time, wrap time and "
               "AHT.",
    "first_contacts": "Leads whose first contact ever fell in the period.",
    "hit_rate": "Contacts ÷ dials: how many dials reached a person who spoke with an agent.",
    "answer_rate": "Live answers ÷ dials.",
    "first_call_close": "Leads closed on their first contact ÷ leads that had their first contact in the period.",
    "list_close_rate": "Leads of the list closed ÷ all prospects the list brought (rows accepted + suppressed + "
                       "rejected as invalid).",
    "prospects": "Rows a list brought: accepted + suppressed + rejected as invalid (duplicates are not counted).",
    "invalid": "Rows of the list file rejected at import (no valid phone number, malformed row).",
    "duplicate": "Rows of the list file that repeated a number already loaded (shown, not counted as prospects).",
    "suppressed": "Leads scrubbed at import (DNC registries, litigators …), by reason; never dialable.",
    "never_reached": "Dialable leads of the list that no contact has reached yet.",
    "reached_not_closed": "Leads of the list reached at least once but not closed.",
    "closed": "Leads of the list with a close on any of their calls.",
    "contact_rate": "Contacts ÷ dials on that pass (1st, 2nd, 3rd… attempt of each lead, or lifetime).",
    "conversion": "Closes ÷ contacts.",
    "abandon_rate": "Abandoned ÷ live answers, per campaign (the legal cap is 3 % over 30 days).",
    "abandon_rate_30d": "Abandoned ÷ live answers over the 30 days ending with the last day shown (the rolling reading "
                        "of the 3 % rule); while that day is today, the 30 days ending now, as the pacer reads them.",
    "talk_seconds": "Average talk time: from the agent's connect to the hang-up, per call an agent took.",
    "wrap_seconds": "Average wrap time: from the hang-up to the disposition, per call an agent took.",
    "aht_seconds": "Average handle time (AHT) = average talk time + average wrap time.",
    "occupancy": "(Talk + wrap time) ÷ staffed non-paused time (ready + talking + wrap).",
    "agent_wait_seconds": "Agent wait between calls: ready time ÷ calls the agents took.",
    "agent_hours": "Hours agents were logged in (ready, talking, wrap or paused).",
    "dials_per_agent_hour": "Dials ÷ agent-hours.",
    "contacts_per_agent_hour": "Contacts ÷ agent-hours.",
    "closes_per_agent_hour": "Closes ÷ agent-hours.",
    "talk_share": "Time talking ÷ time logged in (ready, talking, wrap or paused).",
    "wrap_share": "Time in wrap (after-call work) ÷ time logged in.",
    "penetration": "Leads with a final status (closed, done, exhausted, DNC, suppressed) ÷ leads.",
    "saturation": "Dials ÷ leads: how many times the average lead has been called.",
    "dnc_requests": "Calls whose disposition is flagged as a do-not-call request, plus keypress opt-outs.",
    "dnc_request_rate": "DNC requests ÷ contacts.",
    "completed": "Calls whose disposition is flagged completed (the agent reached the end of the script).",
    "completion_rate": "Completed calls ÷ contacts.",
    "refusals": "Contacts that ended without a close or a callback, by disposition (the prospect's reason: "
                "not interested, do not call …).",
    "keypress_optouts": "Abandoned calls where the person pressed 9 at the safe-harbor message (a DNC request).",
}


def percent(value: float, digits: int = 1) -> float:
    """A rate as a percentage rounded to ``digits`` decimals, a tie rounded up (13 of 400 -> 3.3, not 3.2).

    Every rounding of a shown rate goes through here, and ties go up because the floor's polled tiles
    (JavaScript's ``toFixed``) and a spreadsheet's ``0.0%`` format round them so: Python's own rounding sends a tie
    to the even digit, and the same 3.25 % read 3.2 % on the page as rendered and 3.3 % after the first poll.
    """
    exact = Decimal(value * 100)  # the percentage as the float holds it, as toFixed sees it
    return float(exact.quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_UP))


def whole_seconds(seconds: float) -> int:
    """A duration rounded to the second as every page and file shows it, half a second up (56.5 -> 57), as the
    floor's polled tiles (JavaScript's ``Math.round``) do; Python's ``round`` gave 56 on the page as rendered."""
    return int(Decimal(seconds).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def percent_text(value: float | None, digits: int = 1) -> str:
    """A measured rate as every page, message and CLI line shows it (``0.0909`` -> ``9.1 %``; "—" when there is
    nothing to measure), so the compliance pages and the floor never disagree in the second decimal."""
    return "—" if value is None else f"{percent(value, digits):.{digits}f} %"


def target_text(value: float | None) -> str:
    """A rate a manager sets (abandon target, alert levels) as they typed it: ``0.03`` -> ``3 %``, ``0.025`` ->
    ``2.5 %``."""
    return "—" if value is None else f"{round(value * 100, 4):g} %"


def ratio(numerator: float, denominator: float) -> float | None:
    """Numerator ÷ denominator, or None when the denominator is zero (a rate with nothing to measure)."""
    if not denominator:
        return None
    return numerator / denominator


def hit_rate(contacts: int, dials: int) -> float | None:
    """Contacts ÷ dials: how many dials reached a person who spoke with an agent."""
    return ratio(contacts, dials)


def answer_rate(live_answers: int, dials: int) -> float | None:
    """Live answers ÷ dials."""
    return ratio(live_answers, dials)


def first_call_close(closed_on_first_contact: int, first_contacts: int) -> float | None:
    """Leads closed on their first contact ÷ leads that had their first contact in the period.

    A lead's first contact is its earliest call that counts as a contact, ever (not just within the period);
    a lead whose first contact fell before the period is in neither count.
    """
    return ratio(closed_on_first_contact, first_contacts)


def prospects(accepted: int, suppressed: int, invalid: int) -> int:
    """Rows a list brought: accepted + suppressed + rejected as invalid (duplicates are not counted).

    ``accepted`` here means leads that can be dialed; a suppressed lead is stored but never dialable.
    """
    return accepted + suppressed + invalid


def list_close_rate(closed: int, list_prospects: int) -> float | None:
    """Leads of the list closed ÷ all prospects the list brought (rows accepted + suppressed + rejected as invalid).

    Counting the suppressed and invalid rows keeps a list of bad numbers from looking good: a sales lead judges
    what the list cost, not only what was dialable.
    """
    return ratio(closed, list_prospects)


def contact_rate(contacts: int, dials: int) -> float | None:
    """Contacts ÷ dials on that pass (1st, 2nd, 3rd… attempt of each lead, or lifetime)."""
    return ratio(contacts, dials)


def conversion(closes: int, contacts: int) -> float | None:
    """Closes ÷ contacts."""
    return ratio(closes, contacts)


def abandon_rate(abandoned: int, live_answers: int) -> float | None:
    """Abandoned ÷ live answers, per campaign (the legal cap is 3 % over 30 days).

    Live answers include the abandoned calls themselves (FTC TSR 310.4(b)(4), FCC 64.1200(a)(7)); answering
    machines are not live answers. The pacer's abandon budget uses this very function.
    """
    return ratio(abandoned, live_answers)


def average_talk(talk_seconds: float, handled: int) -> float | None:
    """Average talk time: from the agent's connect to the hang-up, per call an agent took."""
    return ratio(talk_seconds, handled)


def average_wrap(wrap_seconds: float, handled: int) -> float | None:
    """Average wrap time: from the hang-up to the disposition, per call an agent took."""
    return ratio(wrap_seconds, handled)


def aht(talk_seconds: float, wrap_seconds: float, handled: int) -> float | None:
    """Average handle time (AHT) = average talk time + average wrap time."""
    return ratio(talk_seconds + wrap_seconds, handled)


def occupancy(talk_seconds: float, wrap_seconds: float, staffed_non_paused_seconds: float) -> float | None:
    """(Talk + wrap time) ÷ staffed non-paused time (ready + talking + wrap).

    Paused and offline time are left out: an agent on a break is not available, so it neither helps nor hurts
    the dialer's occupancy.
    """
    return ratio(talk_seconds + wrap_seconds, staffed_non_paused_seconds)


def agent_wait(ready_seconds: float, calls_taken: int) -> float | None:
    """Agent wait between calls: ready time ÷ calls the agents took."""
    return ratio(ready_seconds, calls_taken)


def agent_hours(logged_in_seconds: float) -> float:
    """Hours agents were logged in (ready, talking, wrap or paused)."""
    return logged_in_seconds / 3600.0


def per_agent_hour(count: float, logged_in_seconds: float) -> float | None:
    """A count ÷ agent-hours (dials, contacts or closes per agent-hour)."""
    return ratio(count, agent_hours(logged_in_seconds))


def penetration(final_leads: int, leads: int) -> float | None:
    """Leads with a final status (closed, done, exhausted, DNC, suppressed) ÷ leads."""
    return ratio(final_leads, leads)


def saturation(dials: int, leads: int) -> float | None:
    """Dials ÷ leads: how many times the average lead has been called."""
    return ratio(dials, leads)


def dnc_request_rate(dnc_requests: int, contacts: int) -> float | None:
    """DNC requests ÷ contacts."""
    return ratio(dnc_requests, contacts)


def completion_rate(completed: int, contacts: int) -> float | None:
    """Completed calls ÷ contacts."""
    return ratio(completed, contacts)


# --- what a single call counts as -------------------------------------------------------------------------------

def is_live_answer(outcome: str | None, connected: bool) -> bool:
    """A person answered: the call ended ``completed`` or ``abandoned``, or is connected to an agent right now.

    Machines, no answer, busy and failed are not live answers, even when an agent briefly heard the machine
    (asynchronous AMD). A person who hung up before the 2 seconds ran out is a live answer, not an abandon.
    This is exactly what the pacer's 30-day ledger counts.
    """
    return outcome in ("completed", "abandoned") or (connected and outcome is None)


def is_contact(outcome: str | None, connected: bool, disposition_is_contact: bool | None) -> bool:
    """A live answer that reached an agent, unless its disposition is flagged as not a contact (dead air …).

    An undispositioned connected call counts: the agent spoke with someone even if wrap-up is still open.
    """
    return connected and outcome not in ("abandoned", "machine") and disposition_is_contact is not False


@dataclass
class FloorCounts:
    """The counts and durations one report row needs; ``rates()`` turns them into every metric above.

    The SQL aggregates fill one of these per group (campaign, list, agent, day, hour …); the simulator and the
    pacing benchmark can fill it from in-memory records. Durations are seconds.
    """

    dials: int = 0
    live_answers: int = 0
    contacts: int = 0
    abandoned: int = 0
    machines: int = 0
    no_answers: int = 0
    busies: int = 0
    failures: int = 0
    closes: int = 0
    callbacks: int = 0
    dnc_requests: int = 0
    keypress_optouts: int = 0
    completed: int = 0
    refusals: int = 0
    first_contacts: int = 0
    first_contact_closes: int = 0
    handled: int = 0
    talk_seconds: float = 0.0
    wrap_seconds: float = 0.0
    ready_seconds: float = 0.0
    agent_talk_seconds: float = 0.0
    agent_wrap_seconds: float = 0.0
    paused_seconds: float = 0.0

    def __add__(self, other: FloorCounts) -> FloorCounts:
        return FloorCounts(**{f.name: getattr(self, f.name) + getattr(other, f.name) for f in fields(self)})

    def counts(self) -> dict[str, float]:
        """The raw counts and summed durations, keyed by field name."""
        return {f.name: getattr(self, f.name) for f in fields(self)}

    @property
    def staffed_non_paused_seconds(self) -> float:
        return self.ready_seconds + self.agent_talk_seconds + self.agent_wrap_seconds

    @property
    def logged_in_seconds(self) -> float:
        return self.staffed_non_paused_seconds + self.paused_seconds

    def rates(self) -> dict[str, float | None]:
        """Every derived metric of these counts, keyed by its GLOSSARY name."""
        logged = self.logged_in_seconds
        return {
            "hit_rate": hit_rate(self.contacts, self.dials),
            "answer_rate": answer_rate(self.live_answers, self.dials),
            "first_call_close": first_call_close(self.first_contact_closes, self.first_contacts),
            "conversion": conversion(self.closes, self.contacts),
            "abandon_rate": abandon_rate(self.abandoned, self.live_answers),
            "talk_seconds": average_talk(self.talk_seconds, self.handled),
            "wrap_seconds": average_wrap(self.wrap_seconds, self.handled),
            "aht_seconds": aht(self.talk_seconds, self.wrap_seconds, self.handled),
            "occupancy": occupancy(self.agent_talk_seconds, self.agent_wrap_seconds,
                                   self.staffed_non_paused_seconds),
            "agent_wait_seconds": agent_wait(self.ready_seconds, self.handled),
            "agent_hours": agent_hours(logged) if logged else None,
            "dials_per_agent_hour": per_agent_hour(self.dials, logged),
            "contacts_per_agent_hour": per_agent_hour(self.contacts, logged),
            "closes_per_agent_hour": per_agent_hour(self.closes, logged),
            "talk_share": ratio(self.agent_talk_seconds, logged),
            "wrap_share": ratio(self.agent_wrap_seconds, logged),
            "dnc_request_rate": dnc_request_rate(self.dnc_requests, self.contacts),
            "completion_rate": completion_rate(self.completed, self.contacts),
        }
