"""The simulated campaign's storage: a fresh in-memory store, or a fresh SQL database with the same campaign,
leads and agents (same ids, same order), so one scenario runs on either and gives the same calls.
"""

from __future__ import annotations

from datetime import datetime

from campaigns.campaign.service import DEFAULT_DISPOSITIONS
from campaigns.dispatch.rules import DispositionFlags, RetryRules
from dialer.demo.listgen import AREAS
from dialer.loop.memory import MemAgent, MemLead, MemoryStore, campaign_view
from dialer.loop.store import CampaignView
from dialer.sim.scenario import Scenario

CAMPAIGN_NAME = "simulation"
CALLER_ID = "+12125550100"
_AREA_CODES = [a for a, _, _ in AREAS]
_PER_AREA = 800 * 10_000


def phone_of(index: int) -> str:
    """The number of the list's ``index``-th lead (0-based): unique, and reversible by ``index_of``."""
    area = _AREA_CODES[(index // _PER_AREA) % len(_AREA_CODES)]
    rest = index % _PER_AREA
    return f"+1{area}{200 + rest // 10_000}{rest % 10_000:04d}"


def index_of(phone: str) -> int:
    """The lead index behind a simulated number (``KeyError`` for any other number)."""
    try:
        if len(phone) != 12 or not phone.startswith("+1"):
            raise ValueError
        area, exch, line = _AREA_CODES.index(phone[2:5]), int(phone[5:8]), int(phone[8:12])
    except ValueError:
        raise KeyError(phone) from None
    return area * _PER_AREA + (exch - 200) * 10_000 + line


def dispositions() -> dict[str, DispositionFlags]:
    return {code: DispositionFlags(code, close, cb, dnc, final)
            for code, _label, _contact, close, cb, dnc, final, _done in DEFAULT_DISPOSITIONS}


def campaign_of(scenario: Scenario, campaign_id: int = 1, status: str = "paused") -> CampaignView:
    c = scenario.campaign
    return campaign_view(campaign_id, CAMPAIGN_NAME, status=status, pacing_mode=c.pacing_mode,
                         abandon_target=c.abandon_target, max_lines=scenario.max_lines,
                         machine_action=c.machine_action,
                         voicemail_message="Sorry we missed you. Please call us back." if
                         c.machine_action == "voicemail" else "", caller_id=CALLER_ID,
                         rules=RetryRules(c.max_attempts, c.retry_no_answer_s, c.retry_busy_s, c.retry_machine_s))


def agent_name(i: int) -> str:
    return f"sim-agent-{i + 1:04d}"


class MemoryWorld:
    """The scenario's campaign in a ``MemoryStore``; an unbounded list grows as the loop dials it."""

    kind = "memory"

    def __init__(self, scenario: Scenario, t0: datetime) -> None:
        self.store = MemoryStore()
        self.campaign_id = 1
        self.store.add_campaign(campaign_of(scenario), dispositions())
        self.t0 = t0
        self.leads = 0
        if scenario.list_size is not None:
            self._add_leads(scenario.list_size)
        else:
            self.store.lead_source = lambda campaign_id, n: self._add_leads(n)
            self.store.lead_source_due = t0  # fresh leads come before retries, as in a list loaded at t0
        self.agent_ids = []
        for i in range(scenario.agents.max_count):
            self.store.add_agent(MemAgent(i + 1, agent_name(i), self.campaign_id, simulated=True))
            self.agent_ids.append(i + 1)

    def _add_leads(self, n: int) -> int:
        for i in range(self.leads, self.leads + n):
            self.store.add_lead(MemLead(i + 1, self.campaign_id, phone_of(i), self.t0, updated_at=self.t0))
        self.leads += n
        return n

    def set_active(self, active: bool) -> None:
        self.store.set_campaign_status(self.campaign_id, "active" if active else "paused")

    def export(self):
        return self.store.call_log.columns(), self.store.agent_log.columns()

    def close(self) -> None:
        pass
