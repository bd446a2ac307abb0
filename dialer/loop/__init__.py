"""The dial loop: pacing decisions to dials, carrier events to call, lead, agent and pacer state.

``DialLoop`` (``core``) runs on a ``LoopStore``: ``SqlStore`` (``sql``, the product) or ``MemoryStore``
(``memory``, the simulator and the benchmark).
"""

from dialer.loop.core import DialLoop, LoopStats, PacerSlot
from dialer.loop.gating import dnc_gate
from dialer.loop.memory import MemoryStore
from dialer.loop.sql import SqlStore
from dialer.loop.store import CallView, CampaignView, Candidate, Claim, LoopStore

__all__ = ["CallView", "CampaignView", "Candidate", "Claim", "DialLoop", "LoopStats", "LoopStore", "MemoryStore",
           "PacerSlot", "SqlStore", "dnc_gate"]
