"""A campaign's lists for its manager: enable or disable a list, the list mix, and a reset for another pass.

Every change is recorded in the campaign's history (``campaigns.campaign.history``, subject ``list:ID``: who, when,
old -> new), the same history the dialing settings use. The mix is either an **order** (lists of a lower rank are
dialed first, ``campaigns.dispatch.strategy.list_mix``) or **weights** (each active list gets its share of the
dials, ``campaigns.dispatch.listmix``), or neither (the campaign's lead order alone decides).

A **reset** puts finished leads back in the queue for another pass: leads that ran out of attempts, and leads closed
by a final disposition the manager picks (not interested, wrong person ...). Their attempts start again from 0 (the
calls already made stay in the lead's history). Leads that asked not to be called, were sold, were suppressed by
the DNC and consent rules, whose number the carrier refused as invalid, or whose number is on the internal DNC list
now are never reset, whatever is asked: ``plan`` counts both sides so the confirmation can say how many.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import and_, func, insert, literal, or_, select, update
from sqlalchemy.orm import Session

from campaigns.campaign.history import record
from campaigns.campaign.models import Campaign, Disposition
from campaigns.dispatch.models import Call
from campaigns.leads.models import Lead, LeadList, LeadReset
from dnc.errors import UserError
from dnc.sqltypes import UTCDateTime
from dnc.tables import InternalEntry

MIX_MODES = {"none": "No preference (the lead order alone decides)", "order": "In order (first list first)",
             "weights": "By weights (each list gets its share of the dials)"}
MAX_WEIGHT = 1000
EXHAUSTED = "exhausted"
INVALID_OUTCOME = "failed"  # a "done" lead whose number the carrier refused twice: an invalid number
KEPT = {"dnc": "asked not to be called", "closed": "closed (sold)",
        "suppressed": "suppressed by the DNC and consent rules", "invalid": "invalid number (the carrier refused it)",
        "blocked": "number on the internal DNC list now, or refused by the DNC rules before"}


def lists(session: Session, campaign: Campaign) -> list[LeadList]:
    return list(session.scalars(select(LeadList).where(LeadList.campaign_id == campaign.id).order_by(LeadList.id)))


def list_of(session: Session, campaign: Campaign, ref: str | int) -> LeadList:
    """A list of ``campaign`` by id or by name (the CLI takes either)."""
    rows = lists(session, campaign)
    for lst in rows:
        if str(lst.id) == str(ref) or lst.name == str(ref):
            return lst
    hint = f" (lists: {', '.join(x.name for x in rows)})" if rows else " (it has no lists yet)"
    raise UserError(f"campaign {campaign.name!r} has no list {str(ref)!r}{hint}")


def mix_mode(rows: list[LeadList]) -> str:
    if any(x.mix_weight is not None for x in rows):
        return "weights"
    return "order" if len({x.mix_rank for x in rows}) > 1 else "none"


def mix_text(lst: LeadList, mode: str) -> str:
    """How the history and the pages name a list's place in the mix."""
    if mode == "weights":
        return f"weight {lst.mix_weight}" if lst.mix_weight is not None else "no weight"
    if mode == "order":
        return f"order {lst.mix_rank}" if lst.mix_rank > 0 else "after the ordered lists"
    return "no preference"


def shares(rows: list[LeadList]) -> dict[int, float]:
    """Each active weighted list's share of the dials (a fraction), as the claim draws them."""
    w = {x.id: x.mix_weight for x in rows if x.active and x.mix_weight}
    total = sum(w.values())
    return {i: v / total for i, v in w.items()} if total else {}


CALLABLE = ("new", "retry", "callback")


def overview(session: Session, campaign: Campaign) -> list[dict]:
    """Each list with its place in the mix and its leads by status (what the lists page and ``dialer lists show``
    print)."""
    rows = lists(session, campaign)
    mode, share = mix_mode(rows), shares(rows)
    counts: dict[int, Counter] = {x.id: Counter() for x in rows}
    for lid, status, n in session.execute(select(Lead.list_id, Lead.status, func.count())
                                          .where(Lead.campaign_id == campaign.id).group_by(Lead.list_id, Lead.status)):
        if lid in counts:
            counts[lid][status] += n
    out = []
    for x in rows:
        c = counts[x.id]
        out.append({"id": x.id, "name": x.name, "enabled": bool(x.active), "mix": mix_text(x, mode),
                    "rank": x.mix_rank, "weight": x.mix_weight,
                    "share": round(share[x.id], 4) if x.id in share else None, "leads": sum(c.values()),
                    "callable": sum(c[s] for s in CALLABLE), "dialing": c["dialing"], "exhausted": c["exhausted"],
                    "done": c["done"], "closed": c["closed"], "dnc": c["dnc"], "suppressed": c["suppressed"]})
    return out


def set_active(session: Session, campaign: Campaign, lst: LeadList, active: bool, by: str, now: datetime) -> bool:
    """Enable or disable ``lst``: a disabled list's leads are not dialed (the claim skips them). Returns whether
    anything changed."""
    if lst.campaign_id != campaign.id:
        raise UserError(f"list {lst.id} is not a list of campaign {campaign.name!r}")
    if bool(lst.active) == bool(active):
        return False
    record(session, campaign.id, now, by, "enabled", "yes" if lst.active else "no", "yes" if active else "no",
           subject=f"list:{lst.id}")
    lst.active = bool(active)
    session.flush()
    return True


def set_mix(session: Session, campaign: Campaign, mode: str, values: dict[int, int], by: str,
            now: datetime) -> list[int]:
    """Set the list mix. ``order``: ``values`` gives each list its place (1 first; lists left out go last, in
    the order they were uploaded); ``weights``: each list's weight (1 to 1000; a list left out has no weight and
    is dialed only when the weighted lists have nothing due); ``none``: no preference. Returns the lists changed."""
    if mode not in MIX_MODES:
        raise UserError(f"list mix: must be one of {', '.join(MIX_MODES)}, got {mode!r}")
    rows = lists(session, campaign)
    ids = {x.id for x in rows}
    unknown = sorted(set(values) - ids)
    if unknown:
        raise UserError(f"list mix: campaign {campaign.name!r} has no list {unknown[0]}")
    names = {x.id: x.name for x in rows}
    for lid, v in values.items():
        if isinstance(v, bool) or not isinstance(v, int):
            raise UserError(f"list mix: give whole numbers, got {v!r} for {names[lid]}")
        if mode == "weights" and not 1 <= v <= MAX_WEIGHT:
            raise UserError(f"list mix: a weight is a whole number from 1 to {MAX_WEIGHT}, got {v} for {names[lid]}")
        if mode == "order" and not 1 <= v <= len(rows):
            raise UserError(f"list mix: a place in the order is from 1 to {len(rows)}, got {v} for {names[lid]}")
    if mode == "weights" and not any(x.active and x.id in values for x in rows):
        raise UserError("list mix: give a weight to at least one enabled list")
    before = mix_mode(rows)
    old = {x.id: mix_text(x, before) for x in rows}
    if mode == "order":  # places given first (ties: upload order), then the others in upload order
        ranked = sorted(rows, key=lambda x: (values.get(x.id, len(rows) + 1), x.id))
        ranks = {x.id: i for i, x in enumerate(ranked, 1)}
    for x in rows:
        x.mix_weight = values.get(x.id) if mode == "weights" else None
        x.mix_rank = ranks[x.id] if mode == "order" else 0
        x.mix_credit = 0.0  # a new mix starts even
    changed = []
    for x in rows:
        new = mix_text(x, mode)
        if new != old[x.id]:
            record(session, campaign.id, now, by, "list mix", old[x.id], new, subject=f"list:{x.id}")
            changed.append(x.id)
    session.flush()
    return changed


# --- reset for another pass ------------------------------------------------------------------------------------------
@dataclass
class ResetPlan:
    """What a reset would do: how many leads come back per choice, and how many finished leads stay as they are."""

    choices: dict[str, int] = field(default_factory=dict)  # "exhausted" / "done:CODE" -> leads that may come back
    labels: dict[str, str] = field(default_factory=dict)
    chosen: tuple[str, ...] = ()
    kept: dict[str, int] = field(default_factory=dict)  # KEPT key -> finished leads that never come back

    @property
    def total(self) -> int:
        return sum(self.choices.get(c, 0) for c in self.chosen)

    def describe(self) -> str:
        parts = [f"{self.labels[c][:1].lower()}{self.labels[c][1:]}: {self.choices.get(c, 0):,}" for c in self.chosen]
        return "; ".join(parts) or "nothing"


def _on_internal_dnc(campaign_id: int, now: datetime):
    """Numbers on the internal DNC list in force now for this campaign (company-wide or its own)."""
    in_scope = or_(InternalEntry.scope == "company", InternalEntry.campaign_id == campaign_id)
    return select(InternalEntry.e164).where(InternalEntry.effective_at <= now, in_scope,
                                            or_(InternalEntry.removed_at.is_(None), InternalEntry.removed_at > now))


def _eligible(campaign: Campaign, lst: LeadList, now: datetime) -> list:
    return [Lead.list_id == lst.id, or_(Lead.suppression.is_(None), Lead.suppression == ""),
            Lead.phone.not_in(_on_internal_dnc(campaign.id, now))]


def _choice(status: str, outcome: str | None) -> str | None:
    if status == EXHAUSTED:
        return EXHAUSTED
    if status == "done" and outcome != INVALID_OUTCOME:
        return f"done:{outcome or ''}"
    return None


def plan(session: Session, campaign: Campaign, lst: LeadList, chosen: list[str] | tuple[str, ...],
         now: datetime) -> ResetPlan:
    """Count what a reset of ``lst`` for ``chosen`` (``exhausted``, ``done:CODE``) would bring back."""
    out = ResetPlan()
    labels = {d.code: d.label for d in session.scalars(select(Disposition)
                                                       .where(Disposition.campaign_id == campaign.id))}
    finals = ("exhausted", "done", "dnc", "closed", "suppressed")
    all_final = Counter()
    for status, outcome, n in session.execute(
            select(Lead.status, Lead.last_outcome, func.count()).where(Lead.list_id == lst.id,
                                                                       Lead.status.in_(finals))
            .group_by(Lead.status, Lead.last_outcome)):
        all_final[(status, outcome)] += n
    for status, outcome, n in session.execute(
            select(Lead.status, Lead.last_outcome, func.count()).where(*_eligible(campaign, lst, now),
                                                                       Lead.status.in_(("exhausted", "done")))
            .group_by(Lead.status, Lead.last_outcome)):
        c = _choice(status, outcome)
        if c is not None:
            out.choices[c] = out.choices.get(c, 0) + n
            all_final[(status, outcome)] -= n
    for c in out.choices:
        code = c.partition(":")[2]
        out.labels[c] = ("Ran out of attempts" if c == EXHAUSTED
                         else f"Final disposition {labels.get(code, code or 'none')}")
    for (status, outcome), n in all_final.items():
        if n <= 0:
            continue
        key = status if status in ("dnc", "closed", "suppressed") else \
            "invalid" if outcome == INVALID_OUTCOME else "blocked"
        out.kept[key] = out.kept.get(key, 0) + n
    unknown = [c for c in chosen if c != EXHAUSTED and not c.startswith("done:")]
    if unknown:
        raise UserError(f"reset: choose leads that ran out of attempts ({EXHAUSTED}) or by final disposition "
                        f"(done:CODE), not {unknown[0]!r}")
    out.chosen = tuple(dict.fromkeys(chosen))
    for c in out.chosen:
        out.labels.setdefault(c, "Ran out of attempts" if c == EXHAUSTED else
                              f"Final disposition {labels.get(c[5:], c[5:] or 'none')}")
    return out


def reset(session: Session, campaign: Campaign, lst: LeadList, chosen: list[str] | tuple[str, ...], by: str,
          now: datetime, expected: int | None = None) -> ResetPlan:
    """Put the chosen finished leads of ``lst`` back in the queue (due now, attempts from 0). ``expected`` is the
    count the person confirmed: when the list changed since (a call finished, a DNC request came in), nothing is
    done and the refusal gives the new count, so nobody confirms one number and gets another."""
    if lst.campaign_id != campaign.id:
        raise UserError(f"list {lst.id} is not a list of campaign {campaign.name!r}")
    p = plan(session, campaign, lst, chosen, now)
    if not p.chosen:
        raise UserError("reset: choose which leads to reset")
    if expected is not None and expected != p.total:
        raise UserError(f"reset: the list changed since you looked: {p.total:,} leads would be reset now, not "
                        f"{expected:,}; check and confirm again")
    if p.total == 0:
        return p
    which = []
    if EXHAUSTED in p.chosen:
        which.append(Lead.status == EXHAUSTED)
    codes = [c[5:] for c in p.chosen if c.startswith("done:")]
    if codes:
        outcome = Lead.last_outcome.in_([c for c in codes if c])
        if "" in codes:  # a final lead with no disposition code recorded
            outcome = or_(outcome, Lead.last_outcome.is_(None), Lead.last_outcome == "")
        which.append(and_(Lead.status == "done", or_(Lead.last_outcome.is_(None),
                                                     Lead.last_outcome != INVALID_OUTCOME), outcome))
    _remember(session, campaign, lst, or_(*which), now)
    session.execute(update(Lead).where(*_eligible(campaign, lst, now), or_(*which))
                    .values(status="retry", attempts=0, next_attempt_at=now, updated_at=now, callback_at=None,
                            callback_agent_id=None, reserved_agent_id=None, reserved_until=None)
                    .execution_options(synchronize_session=False))
    record(session, campaign.id, now, by, "reset for another pass", p.describe(),
           f"{p.total:,} leads back in the queue", subject=f"list:{lst.id}")
    session.flush()
    return p


def _remember(session: Session, campaign: Campaign, lst: LeadList, which, now: datetime) -> None:
    """One ``LeadReset`` per lead the reset brings back, written in the database (a reset may bring back a whole
    list): the status it loses and when the lead got it (its last settled call, as the report rollups date it; else
    its last write), which a past range's list close needs once the lead's own row says ``retry``."""
    settled = (select(func.max(func.coalesce(Call.dispositioned_at, Call.ended_at, Call.placed_at)))
               .where(Call.lead_id == Lead.id).scalar_subquery())
    rows = select(Lead.id, Lead.campaign_id, literal(now, UTCDateTime()), Lead.status,
                  func.coalesce(settled, Lead.updated_at)).where(*_eligible(campaign, lst, now), which)
    session.execute(insert(LeadReset).from_select(["lead_id", "campaign_id", "at", "status", "final_at"], rows))
