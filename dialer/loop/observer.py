"""What the dial loop tells whoever watches it (metrics, the decision log), without knowing who that is.

``LoopObserver`` does nothing; the worker passes one that counts (``dialer.observe.metrics.LoopMetrics``) and logs
its decisions. The simulator and the benchmarks keep the default, so they pay nothing for it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from dialer.loop.core import PacerSlot


class LoopObserver:
    """Every method is a no-op; override the ones you need. They run inside the loop: keep them cheap."""

    def placed(self, campaign_id: int) -> None:
        """A call reached the carrier."""

    def place_failed(self, campaign_id: int) -> None:
        """The carrier did not take a call."""

    def answered(self, campaign_id: int, answered_by: str) -> None:
        """First answer of a call (``human``, ``machine``, ``unknown``)."""

    def connected(self, campaign_id: int) -> None:
        """An answered call went to an agent."""

    def abandoned(self, campaign_id: int) -> None:
        """Nobody free within the grace: the safe-harbor message, an abandon."""

    def ended(self, campaign_id: int, outcome: str) -> None:
        """A call ended with its final outcome."""

    def decided(self, campaign_id: int, slot: PacerSlot) -> None:
        """One pacing decision (every turn, per campaign): ``slot`` has what the pacer asked (``planned``), what the
        caps allowed, what was placed, which cap bound and when; ``slot.pacer.explain()`` costs, call it sparingly."""
