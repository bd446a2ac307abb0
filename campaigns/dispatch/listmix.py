"""The list mix in the claim: lists in an order, or leads drawn from each list in the share the manager set.

Both read each list's own candidates (``ix_leads_list_due`` walks one list's callable leads in claim order), so a
small list behind a large one is found at once and nothing sorts the whole queue.

- **Order** (``lead_lists.mix_rank``): a list of a lower place first; a list with no place (0: uploaded after the
  order was set) after the placed ones. Only as many lists are read as the claim needs, then only the hot leads of
  the others.
- **Weights** (``lead_lists.mix_weight``): 60/40 means 3 dials in 5 from the first list. The draw is a smooth
  weighted round robin: every draw adds each list's weight to its credit and takes the lead from the list with the
  most credit, which then gives back the total. The credits are kept on the lists (``lead_lists.mix_credit``)
  because a claim takes one to a few leads at a time: without them every claim would start from zero and the
  heaviest list would win every time. Only lists that had a callable lead take part in a draw, so a list with
  nothing due neither builds up credit nor, when its leads come due, floods the dialer; credits are clamped to the
  total weight for the same reason. An active list without a weight is dialed only when the weighted lists have
  nothing due.

Either way a hot lead (higher priority) goes first, whatever its list (also the campaign's hot-lead and manual
lists, which have no place or weight).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from campaigns.leads.models import Lead, LeadList


def mix_of(session: Session, campaign_id: int) -> OrderedMix | WeightedMix | None:
    """The campaign's list mix as the claim applies it; None when its lists have no order and no weights."""
    rows = session.execute(select(LeadList.id, LeadList.mix_rank, LeadList.mix_weight, LeadList.mix_credit).where(
        LeadList.campaign_id == campaign_id, LeadList.active.is_(True))).all()
    weighted = {i: int(w) for i, _, w, _ in rows if w is not None and w > 0}
    if weighted:
        return WeightedMix(weighted, {i: float(c or 0.0) for i, _, w, c in rows if i in weighted})
    if len({r for _, r, _, _ in rows}) > 1:
        return OrderedMix([i for i, _ in sorted(((i, r) for i, r, _, _ in rows), key=lambda x: (x[1] <= 0, x[1],
                                                                                              x[0]))])
    return None


class OrderedMix:
    """Lists in their order: every lead of a list before the next list's, a hot lead first whatever its list."""

    weighted = False

    def __init__(self, lists: list[int]) -> None:
        self.lists = lists  # active lists, first to last

    def merge(self, pools: dict[int, Sequence[Lead]], rest: Sequence[Lead]) -> list[Lead]:
        place = {lid: i for i, lid in enumerate(self.lists)}
        ranked = [(-lead.priority, place.get(lid, len(place)), i, lead) for lid, p in pools.items()
                  for i, lead in enumerate(p)]
        return [lead for *_, lead in sorted(ranked, key=lambda x: x[:3])] + list(rest)

    def finish(self, session: Session, lead_ids: Sequence[int]) -> None:
        """Nothing to keep between claims."""


class WeightedMix:
    """Read once per claim: the active lists' weights and credits; merges per-list candidates and, at the end of
    the claim, moves the credits by the leads really claimed."""

    weighted = True

    def __init__(self, weights: dict[int, int], credits: dict[int, float]) -> None:
        self.weights, self.credits = weights, credits
        self.lists = sorted(weights)
        self.took_part: set[int] = set()
        self.list_of: dict[int, int] = {}

    def merge(self, pools: dict[int, Sequence[Lead]], rest: Sequence[Lead]) -> list[Lead]:
        """The order to try the leads in: weighted lists drawn by credit (a higher priority first), then the
        leads of lists without a weight."""
        queues = {lid: deque(p) for lid, p in pools.items() if p}
        self.took_part |= set(queues)
        for p in queues.values():
            self.list_of.update((lead.id, lead.list_id) for lead in p)
        credits = dict(self.credits)
        out: list[Lead] = []
        others = deque(rest)
        while queues:
            top = max(q[0].priority for q in queues.values())
            if others and others[0].priority > top:  # a hot lead of a list without a weight
                out.append(others.popleft())
                continue
            contenders = [lid for lid, q in queues.items() if q[0].priority == top]
            total = sum(self.weights[lid] for lid in contenders)
            for lid in contenders:
                credits[lid] = credits.get(lid, 0.0) + self.weights[lid]
            pick = max(contenders, key=lambda lid: (credits[lid], -lid))
            credits[pick] -= total
            out.append(queues[pick].popleft())
            if not queues[pick]:
                del queues[pick]
        return out + list(others)

    def finish(self, session: Session, lead_ids: Sequence[int]) -> None:
        """Move the credits by the leads claimed (in claim order) and store them."""
        drawn = [self.list_of[i] for i in lead_ids if i in self.list_of]
        part = sorted(self.took_part)
        if not drawn or not part:
            return
        total = sum(self.weights[lid] for lid in part)
        credits = {lid: self.credits.get(lid, 0.0) for lid in part}
        for lid in drawn:
            for p in part:
                credits[p] += self.weights[p]
            credits[lid] -= total
        for lid, c in credits.items():
            c = max(-total, min(total, c))
            if c != self.credits.get(lid):
                session.execute(update(LeadList).where(LeadList.id == lid).values(mix_credit=c)
                                .execution_options(synchronize_session=False))
