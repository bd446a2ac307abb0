"""The in-memory store's lead lists: enabled or disabled, and the list mix, as the SQL claim applies them.

The console and ``dialer lists`` disable lists and set a mix (``campaigns.leads.listadmin``); the SQL claim skips
a disabled list's leads and draws the others in the mix (``campaigns.dispatch.listmix``). The simulator and the
pacing benchmark must dial the same leads, so the memory store keeps one heap of due leads per list and picks the
next lead across them by the same rules:

- no mix: priority, then due time, then id, over every enabled list (the one-heap order);
- **order**: a hot lead first whatever its list, then a list of a lower place first (no place: after the placed
  ones), then due time and id;
- **weights**: a hot lead first; among the weighted lists whose next lead has the top priority, the one with the
  most credit (a smooth weighted round robin: every lead claimed adds each taking-part list's weight to its
  credit and takes the total from the list it came from, clamped to the total); an enabled list without a weight
  only when the weighted lists have nothing due, or for a hotter lead.

A disabled list's heap is kept as it is and skipped; enabling it again puts its leads back in the draw.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable
from dataclasses import dataclass, field

MIX_MODES = ("none", "order", "weights")

#: a due lead in a heap: (-priority, due, lead id, version)
Entry = tuple


@dataclass(slots=True)
class MemList:
    id: int
    campaign_id: int
    active: bool = True
    rank: int = 0  # place in an ordered mix (0: none)
    weight: int | None = None  # share in a weighted mix
    credit: float = 0.0


@dataclass
class ReadyLeads:
    """The due leads of one campaign, a heap per list (``None``: leads without a list, e.g. the simulator's)."""

    valid: Callable[[Entry], bool]  # False: the lead changed since it was queued (dropped when seen)
    heaps: dict[int | None, list] = field(default_factory=dict)
    lists: dict[int, MemList] = field(default_factory=dict)
    mode: str = "none"
    _place: dict[int | None, int] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return self.peek() is not None

    def add_list(self, lst: MemList) -> None:
        self.lists[lst.id] = lst
        self.heaps.setdefault(lst.id, [])
        self.remix()

    def remix(self) -> None:
        """Read the lists' flags again (after a list is enabled, disabled or the mix is set)."""
        active = [x for x in self.lists.values() if x.active]
        if any(x.weight for x in active):
            self.mode = "weights"
        elif len({x.rank for x in active}) > 1:
            self.mode = "order"
            ranked = sorted(active, key=lambda x: (x.rank <= 0, x.rank, x.id))
            self._place = {x.id: i for i, x in enumerate(ranked)}
        else:
            self.mode = "none"

    def push(self, entry: Entry, list_id: int | None) -> None:
        heapq.heappush(self.heaps.setdefault(list_id, []), entry)

    def _head(self, list_id: int | None) -> Entry | None:
        heap = self.heaps[list_id]
        while heap and not self.valid(heap[0]):
            heapq.heappop(heap)
        return heap[0] if heap else None

    def _open(self) -> list[tuple[int | None, Entry]]:
        """Each enabled list's next valid lead."""
        out = []
        for lid in self.heaps:
            lst = self.lists.get(lid) if lid is not None else None
            if lst is not None and not lst.active:
                continue
            head = self._head(lid)
            if head is not None:
                out.append((lid, head))
        return out

    def _pick(self) -> tuple[int | None, Entry] | None:
        heads = self._open()
        if not heads:
            return None
        if len(heads) == 1 or self.mode == "none":
            return min(heads, key=lambda h: h[1])
        if self.mode == "order":
            last = len(self._place)
            return min(heads, key=lambda h: (h[1][0], self._place.get(h[0], last), *h[1][1:]))
        weighted = [h for h in heads if h[0] is not None and self.lists[h[0]].weight]
        others = [h for h in heads if h not in weighted]
        best_other = min(others, key=lambda h: h[1]) if others else None
        if not weighted or (best_other is not None and best_other[1][0] < min(h[1][0] for h in weighted)):
            return best_other
        top = min(h[1][0] for h in weighted)
        return max((h for h in weighted if h[1][0] == top), key=lambda h: (self.lists[h[0]].credit, -h[0]))

    def peek(self) -> Entry | None:
        pick = self._pick()
        return None if pick is None else pick[1]

    def pop(self) -> tuple[Entry, int | None] | None:
        """The next lead to try and its list (no credit moves until ``took``: a refused lead takes no share)."""
        pick = self._pick()
        if pick is None:
            return None
        return heapq.heappop(self.heaps[pick[0]]), pick[0]

    def took(self, list_id: int | None) -> None:
        """A lead of ``list_id`` was claimed: move the weighted mix's credits (``WeightedMix.finish``)."""
        if self.mode != "weights" or list_id is None or not self.lists[list_id].weight:
            return
        part = {lid for lid, _ in self._open() if lid is not None and self.lists[lid].weight} | {list_id}
        total = sum(self.lists[lid].weight or 0 for lid in part)
        for lid in part:
            x = self.lists[lid]
            x.credit += x.weight or 0
            if lid == list_id:
                x.credit -= total
            x.credit = max(-total, min(total, x.credit))


class MemoryLists:
    """The store's list set-up, as ``campaigns.leads.listadmin`` does it on the SQL store (``set_active``,
    ``set_mix``); needs ``self.campaigns`` (campaign id -> an object with a ``ready: ReadyLeads``)."""

    campaigns: dict

    def add_list(self, lst: MemList) -> None:
        self.campaigns[lst.campaign_id].ready.add_list(lst)

    def _list(self, list_id: int) -> tuple[ReadyLeads, MemList]:
        for c in self.campaigns.values():
            if list_id in c.ready.lists:
                return c.ready, c.ready.lists[list_id]
        raise KeyError(f"no list {list_id}")

    def set_list_active(self, list_id: int, active: bool) -> None:
        """Enable or disable a list: a disabled list's leads are not dialed."""
        ready, lst = self._list(list_id)
        lst.active = bool(active)
        ready.remix()

    def set_list_mix(self, campaign_id: int, mode: str, values: dict[int, int]) -> None:
        """``order``: each list's place (1 first; lists left out after, in id order); ``weights``: each list's
        weight (a list left out has none); ``none``: no preference. Credits start even, as in ``set_mix``."""
        if mode not in MIX_MODES:
            raise ValueError(f"list mix: must be one of {', '.join(MIX_MODES)}, got {mode!r}")
        ready = self.campaigns[campaign_id].ready
        rows = sorted(ready.lists.values(), key=lambda x: x.id)
        ranked = sorted(rows, key=lambda x: (values.get(x.id, len(rows) + 1), x.id))
        for i, x in enumerate(ranked, 1):
            x.weight = values.get(x.id) if mode == "weights" else None
            x.rank = i if mode == "order" else 0
            x.credit = 0.0
        ready.remix()
