"""The Reassigned Numbers Database (RND, F15): which consent and EBR records still speak for the number's holder.

A consent or EBR was given by whoever held the number that day. The RND records each number's permanent
disconnections; asked with a number and the date of consent it answers "yes" (disconnected on or after that date:
the number may have been reassigned since), "no", or "no data" (a date before its data begin and no disconnection
recorded). A caller that asked the latest RND, got "no", and still reached a new subscriber has a safe harbor
(47 CFR 64.1200(m)).

The operator loads what it gets from the RND (the disconnections of the numbers it calls on consent, or a bulk
disconnect file) as CSV ``number,disconnected_on`` (``rnd_load``): each load a version, full or changes added to
the one before, like the other lists. Here each record's answer is worked out (``screen``); a call that rests on a
record the RND voids is refused (``reassigned_number``, ``rnd_no_data``), and one that rests on records no recent
enough data have checked waits (``rnd_stale``), as ``rules.toml`` ``[reassigned]`` says. A call that needs no
consent, and a number without any, are not affected. The gate, the import scrub, the reconciliation and the funnel
all decide through ``screen`` and ``rests_on``.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from dnc.days import earliest_us_date
from dnc.reasons import Reason
from dnc.rnd_load import MODES, RND, load_rnd
from dnc.rules import Rules
from dnc.tables import Consent, ListLoad, RndEntry

__all__ = ["MODES", "RND", "RndData", "RndHistory", "Screen", "disconnections", "in_force", "load_rnd",
           "rests_on", "screen"]
BATCH = 1_000  # numbers per lookup query


@dataclass(frozen=True)
class RndData:
    """The RND data in force: its newest load and the loads it is made of (ids ``first_id`` to ``load_id``: the
    full load it builds on and the change loads after it)."""

    load_id: int
    first_id: int
    version_date: date

    def age_days(self, at: datetime) -> int:
        return (at.date() - self.version_date).days

    @property
    def label(self) -> str:
        return f"RND data of {self.version_date} (load #{self.load_id})"


def _chain(rows: Sequence) -> RndData | None:
    """The data a list of loads (id, mode, version date; in id order, the last one newest) amounts to."""
    if not rows:
        return None
    newest = rows[-1]
    first = next((r[0] for r in reversed(rows) if r[1] == "full"), 0)
    return RndData(newest[0], first, newest[2])


def in_force(session: Session) -> RndData | None:
    """The RND data in force now (the newest load and what it builds on); None when none was ever loaded."""
    newest = session.execute(select(ListLoad.id, ListLoad.mode, ListLoad.version_date)
                             .where(ListLoad.source == RND).order_by(ListLoad.id.desc()).limit(1)).first()
    if newest is None:
        return None
    if newest[1] == "full":
        return RndData(newest[0], newest[0], newest[2])
    first = session.scalar(select(func.max(ListLoad.id)).where(ListLoad.source == RND, ListLoad.mode == "full",
                                                              ListLoad.id < newest[0]))
    return RndData(newest[0], first or 0, newest[2])


def disconnections(session: Session, data: RndData | None, e164s: Iterable[str]) -> dict[str, date]:
    """The latest permanent disconnection ``data`` records for each of the numbers that has one."""
    wanted = sorted({e[2:] for e in e164s if len(e) == 12 and e.startswith("+1")})
    out: dict[str, date] = {}
    if data is None:
        return out
    for i in range(0, len(wanted), BATCH):
        q = (select(RndEntry.value, func.max(RndEntry.disconnected_on))
             .where(RndEntry.value.in_(wanted[i:i + BATCH]), RndEntry.load_id >= data.first_id,
                    RndEntry.load_id <= data.load_id).group_by(RndEntry.value))
        out.update({"+1" + v: d for v, d in session.execute(q)})
    return out


class RndHistory:
    """Every RND load in time order and the disconnections of a batch of numbers in all of them: the data in force
    at any past instant (the reconciliation judges each call by what was loaded when it was placed)."""

    def __init__(self, session: Session) -> None:
        self.session = session
        rows = session.execute(select(ListLoad.loaded_at, ListLoad.id, ListLoad.mode, ListLoad.version_date)
                               .where(ListLoad.source == RND).order_by(ListLoad.loaded_at, ListLoad.id)).all()
        self.times = [r[0] for r in rows]
        self.loads = [(r[1], r[2], r[3]) for r in rows]
        self.entries: dict[str, list[tuple[int, date]]] = {}

    def prefetch(self, e164s: Iterable[str]) -> None:
        self.entries = {}
        wanted = sorted({e[2:] for e in e164s if len(e) == 12 and e.startswith("+1")})
        if not self.loads:
            return
        for i in range(0, len(wanted), BATCH):
            for v, load, day in self.session.execute(select(RndEntry.value, RndEntry.load_id, RndEntry.disconnected_on)
                                                     .where(RndEntry.value.in_(wanted[i:i + BATCH]))):
                self.entries.setdefault("+1" + v, []).append((load, day))

    def at(self, when: datetime) -> RndData | None:
        return _chain(self.loads[:bisect.bisect_right(self.times, when)])

    def disconnected(self, data: RndData | None, e164: str) -> date | None:
        if data is None:
            return None
        return max((d for load, d in self.entries.get(e164, ()) if data.first_id <= load <= data.load_id),
                   default=None)


@dataclass
class Screen:
    """The consent and EBR records in force for a call, sorted by what the RND says of each."""

    standing: list[Consent] = field(default_factory=list)  # not checked by rule, or the RND answered "no"
    void: list[tuple[Consent, Reason]] = field(default_factory=list)  # "yes", or "no data" when that refuses
    unchecked: list[Consent] = field(default_factory=list)  # no RND data recent enough to ask
    stale: str = ""  # why they are unchecked

    @property
    def usable(self) -> list[Consent]:
        """The records the rest of the rules may rely on (an unchecked one waits, it is not voided)."""
        return [*self.standing, *self.unchecked]


def _granted(c: Consent) -> date:
    """The date of consent the RND is asked about: its earliest US day (``dnc.days``)."""
    return earliest_us_date(c.granted_at)


def answer(c: Consent, disconnected: date | None, rules: Rules) -> str:
    """The RND's answer for the record's number and date: yes, no or no_data (as the FCC's guidance reads it)."""
    granted = _granted(c)
    if disconnected is not None and disconnected >= granted:
        return "yes"
    if disconnected is None and granted < rules.reassigned.data_start:
        return "no_data"
    return "no"


def screen(consents: Sequence[Consent], data: RndData | None, disconnected: date | None, at: datetime,
           rules: Rules, sources: dict | None = None) -> Screen:
    """Sort the records by the RND answer; ``sources`` (the decision's) gets the data used and each answer."""
    rr, out = rules.reassigned, Screen()
    if not consents:
        return out
    fresh = data is not None and data.age_days(at) <= rr.max_age_days
    if data is None:
        out.stale = "no Reassigned Numbers Database data are loaded"
    elif not fresh:
        out.stale = (f"the Reassigned Numbers Database data are {data.age_days(at)} days old (version "
                     f"{data.version_date}; at most {rr.max_age_days} allowed)")
    answers = {}
    for c in consents:
        if c.kind not in rr.checks:
            out.standing.append(c)
            continue
        said = answer(c, disconnected, rules) if data is not None else "unchecked"
        answers[str(c.id)] = said
        what = f"{c.kind} #{c.id} (granted {_granted(c)})"
        if said == "yes":  # a disconnection is a fact: data too old to say "no" still say this
            out.void.append((c, Reason("reassigned_number", f"{what} predates the number's permanent disconnection "
                                       f"on {disconnected} ({data.label}): a previous subscriber gave it, so it does "
                                       "not cover the person who has the number now", data.label)))
        elif not fresh and rr.required:
            out.unchecked.append(c)
        elif said == "no_data" and rr.no_data_refuses:
            out.void.append((c, Reason("rnd_no_data", f"{what} is older than the Reassigned Numbers Database's data "
                                       f"(from {rr.data_start}), which records no disconnection of the number: it "
                                       f"answers \"no data\", which gives no safe harbor ({data.label})",
                                       data.label)))
        else:
            out.standing.append(c)
    if sources is not None and answers:
        sources["rnd"] = {"load": data.load_id if data else None,
                          "version_date": str(data.version_date) if data else None,
                          "disconnected_on": str(disconnected) if disconnected else None,
                          "fresh": fresh, "answers": answers}
    return out


def rests_on(s: Screen, codes_with: Callable[[Sequence[Consent]], set[str]]) -> list[Reason]:
    """The RND reasons of a call: only if the call rests on the records the RND voids or could not check, i.e.
    without them the rules would refuse it for a reason they lift (``codes_with(records)`` gives the codes of the
    decision taken with those records). A call that needs no consent is not refused for a voided one."""
    out: list[Reason] = []
    usable = s.usable
    if s.void:
        lost = codes_with(usable) - codes_with([*usable, *(c for c, _ in s.void)])
        if lost:
            out += [Reason(r.code, f"{r.text}; without it: {', '.join(sorted(lost))}", r.source) for _, r in s.void]
    if s.unchecked:
        lost = codes_with(s.standing) - codes_with(usable)
        if lost:
            out.append(Reason("rnd_stale", f"the call rests on consent or an EBR (it lifts {', '.join(sorted(lost))}) "
                                           f"and {s.stale}: it is not called until the RND has been asked again"))
    return out
