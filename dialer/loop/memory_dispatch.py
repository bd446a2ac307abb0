"""The dispatch half of the in-memory store: leads queued by due time, claimed in the SQL store's order, placed or
given back.

Part of ``MemoryStore`` (``dialer.loop.memory``), which inherits it and owns the data it works on (``campaigns``,
``leads``, ``calls``, ``live_phones``...). The lead rules are the shared pure ones of ``campaigns.dispatch.rules``,
so a seeded scenario claims the same leads in the same order as ``campaigns.dispatch.service`` does in SQL.
"""

from __future__ import annotations

import heapq
from datetime import datetime

from campaigns.dispatch.rules import (
    CALLABLE_STATUSES,
    after_place_failure,
    after_refusal,
    after_send_refused,
    apply,
)
from dialer.loop.memory_records import MemCall, MemLead
from dialer.loop.store import CampaignView, Candidate, Claim, Gate


class MemoryDispatch:
    """Dispatch operations of ``MemoryStore`` (see ``dialer.loop.store.LoopStore``)."""

    def _due(self, entry: tuple) -> bool:
        """A queued entry still stands for its lead (not changed or finished since)."""
        lead = self.leads.get(entry[2])
        return lead is not None and lead.version == entry[3] and lead.status in CALLABLE_STATUSES

    def _queue(self, lead: MemLead) -> None:
        if lead.status not in CALLABLE_STATUSES:
            return
        c = self.campaigns[lead.campaign_id]
        due = lead.next_attempt_at or lead.created_at
        heapq.heappush(c.pending, (due, lead.id, lead.version))

    def live_lines(self, campaign_id: int) -> int:
        return self.campaigns[campaign_id].lines

    def claim(self, campaign: CampaignView, n: int, now: datetime, gate: Gate | None) -> list[Claim]:
        c = self.campaigns[campaign.id]
        pending, ready, leads = c.pending, c.ready, self.leads
        while pending and pending[0][0] <= now:
            due, lead_id, version = heapq.heappop(pending)
            ready.push((-leads[lead_id].priority, due, lead_id, version), leads[lead_id].list_id)
        chosen: list[MemLead] = []
        skipped = []
        refills = 0
        fresh = None if self.lead_source is None else (0, self.lead_source_due)
        while len(chosen) < n:
            # an endless list holds fresh leads ahead of anything due later (as a SQL list loaded at the start
            # would): make more of them before a retry is taken
            head = ready.peek()  # the next lead by the list mix; none of a disabled list
            if head is None or (fresh is not None and head[:2] > fresh):
                refills += 1
                if self.lead_source is None or refills > 8 or not self.lead_source(campaign.id, max(256, 2 * n)):
                    if head is None:
                        break
                    fresh = None
                    continue
                while pending and pending[0][0] <= now:
                    due, lead_id, version = heapq.heappop(pending)
                    ready.push((-leads[lead_id].priority, due, lead_id, version), leads[lead_id].list_id)
                continue
            entry, list_id = ready.pop()
            lead = leads[entry[2]]  # a valid entry (ReadyLeads drops the stale ones)
            if lead.phone in self.live_phones:
                skipped.append((entry, list_id))  # the number is on a live call (another lead or campaign): later
                continue
            if gate is not None:
                decision = gate(None, Candidate(lead.id, lead.campaign_id, lead.phone, lead.state,
                                                lead.postal_code, lead.zones), now)
                if not decision.allowed:
                    apply(lead, after_refusal(decision.reasons, getattr(decision, "opens_at", None), now), now)
                    self._bump(lead)
                    continue
            lead.status = "dialing"
            lead.attempts += 1
            lead.last_called_at = now
            lead.updated_at = now
            lead.version += 1
            self.live_phones[lead.phone] = 0
            ready.took(list_id)
            chosen.append(lead)
        for entry, list_id in skipped:
            ready.push(entry, list_id)
        # call ids in number order, as the SQL store inserts them (campaigns.dispatch.service: no crossed waits)
        ids = {}
        for lead in sorted(chosen, key=lambda x: x.phone):
            call_id = ids[lead.id] = self._next_call
            self._next_call += 1
            self.calls[call_id] = MemCall(call_id, campaign.id, lead.id, lead.phone, lead.attempts, "queued", now)
            self.live_phones[lead.phone] = call_id
        c.lines += len(chosen)
        return [Claim(ids[lead.id], lead.id, lead.phone, lead.attempts) for lead in chosen]

    def _bump(self, lead: MemLead) -> None:
        lead.version += 1
        if self.lead_source is not None and lead.status != "dialing":
            # an endless list: fresh leads always come first, so a lead past its call is never dialed again
            self.leads.pop(lead.id, None)
            return
        self._queue(lead)

    def placed(self, call_id: int, provider: str, ref: str, now: datetime) -> None:
        call = self.calls[call_id]
        call.provider_ref = ref
        call.status = "dialing"
        self.by_ref[ref] = call_id

    def placed_unknown(self, call_id: int, sent_at: datetime) -> None:
        """Kept as it is, line and lead included (no simulated carrier leaves a create unanswered)."""
        call = self.calls[call_id]
        call.status, call.placed_at = "unknown", sent_at

    def place_failed(self, call_id: int, now: datetime, retryable: bool = True, refused: bool = False) -> None:
        """The carrier never took the call (``refused``: it was never sent): no call is kept (the SQL store deletes
        the row)."""
        call = self.calls.pop(call_id)
        self.waiting.pop(call_id, None)
        if self.live_phones.get(call.phone) == call_id:
            del self.live_phones[call.phone]
        self.campaigns[call.campaign_id].lines -= 1
        self._release(call, now)  # a preview agent waiting on it is free again
        lead = self.leads.get(call.lead_id)
        if lead is not None and lead.status == "dialing":
            apply(lead, after_send_refused(lead.attempts, lead.next_attempt_at, False) if refused else
                  after_place_failure(lead.attempts, lead.last_outcome, retryable, now), now)
            self._bump(lead)

    def send_refused(self, call_id: int, at: datetime, send_by: datetime | None,
                     sends_at: datetime | None = None) -> None:
        """Not sent (the gate's decision expired first): the lead goes back as it was (no gate here, no record)."""
        self.place_failed(call_id, at, refused=True)
