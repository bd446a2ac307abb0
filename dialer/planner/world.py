"""The list as a plan starts from: every callable lead in the order the dial loop will take it, with its attempts so
far, whether its last attempt failed and when it is due; and the simulated world built from it.

A list five days into a campaign is not a list of fresh leads: its retries answer less (the retry decay), have
fewer tries left, wait out their retry delays, and the numbers that failed once will most likely fail again (the
product ends a lead after two failures in a row). Planning it as fresh leads overstated the next day by half.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

import numpy as np
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from campaigns.leads.models import Lead, LeadList
from dialer.loop.memory import MemLead
from dialer.sim.customers import Customers
from dialer.sim.scenario import Scenario
from dialer.sim.world import MemoryWorld, phone_of

CALLABLE = ("new", "retry", "callback")


@dataclass(frozen=True)
class ListQueue:
    """Callable leads in dial order (priority, then due time, then id — the stores' order)."""

    attempts: np.ndarray  # attempts made so far
    failed_last: np.ndarray  # the last attempt failed (the number may be out of service)
    due: np.ndarray  # epoch seconds the lead is due (a fresh lead: when it was loaded)
    callback: np.ndarray  # a callback an agent promised (due at its time)
    priority: np.ndarray

    def __len__(self) -> int:
        return len(self.attempts)

    @classmethod
    def fresh(cls, n: int, loaded: datetime) -> ListQueue:
        """``n`` untried leads loaded at ``loaded``."""
        return cls(np.zeros(n, dtype=np.int16), np.zeros(n, dtype=bool), np.full(n, loaded.timestamp()),
                   np.zeros(n, dtype=bool), np.zeros(n, dtype=np.int16))

    def resized(self, n: int, loaded: datetime) -> ListQueue:
        """The first ``n`` leads, or these followed by fresh ones (a manager's "what if the list held n")."""
        if n <= len(self):
            return ListQueue(*(a[:n] for a in self._arrays()))
        more = ListQueue.fresh(n - len(self), loaded)
        return ListQueue(*(np.concatenate([a, b]) for a, b in zip(self._arrays(), more._arrays(), strict=True)))

    def _arrays(self) -> tuple[np.ndarray, ...]:
        return self.attempts, self.failed_last, self.due, self.callback, self.priority


def read_queue(session: Session, campaign_id: int) -> ListQueue:
    """The campaign's callable leads now, in the order the loop would claim them (a disabled list's leads are not
    dialed, so they are left out, as ``inputs`` counts them)."""
    due = func.coalesce(Lead.next_attempt_at, Lead.created_at)
    off = select(LeadList.id).where(LeadList.campaign_id == campaign_id, LeadList.active.is_(False))
    rows = session.execute(select(Lead.attempts, Lead.last_outcome, due, Lead.status, Lead.priority)
                           .where(Lead.campaign_id == campaign_id, Lead.status.in_(CALLABLE),
                                  Lead.list_id.not_in(off))
                           .order_by(Lead.priority.desc(), due, Lead.id)).all()
    return ListQueue(np.array([int(r[0] or 0) for r in rows], dtype=np.int16),
                     np.array([r[1] == "failed" for r in rows], dtype=bool),
                     np.array([_epoch(r[2]) for r in rows], dtype=float),
                     np.array([r[3] == "callback" for r in rows], dtype=bool),
                     np.array([int(r[4] or 0) for r in rows], dtype=np.int16))


def _epoch(t: datetime) -> float:
    return (t if t.tzinfo else t.replace(tzinfo=UTC)).timestamp()


@dataclass(frozen=True)
class Start:
    """What a plan starts from besides its scenario: the list as it stands, how its dead numbers behave, and the
    live answers and abandons of the last 30 days by placement time (the pacer's abandon budget, as the
    product's loop seeds it from the database)."""

    queue: ListQueue
    refail: float = 1.0
    fail_later: float = 0.0
    history_live: np.ndarray = field(default_factory=lambda: np.zeros(0))
    history_abandoned: np.ndarray = field(default_factory=lambda: np.zeros(0))
    attempt_factors: tuple[float, ...] = ()  # attempt k's live share ÷ a first attempt's (``Inputs.attempt_factors``)


class PlanWorld(MemoryWorld):
    """The simulator's in-memory campaign holding the list as it stands (same ids as the queue's order)."""

    def __init__(self, scenario: Scenario, t0: datetime, queue: ListQueue) -> None:
        self.queue = queue
        super().__init__(scenario, t0)

    def _add_leads(self, n: int) -> int:
        q = self.queue
        for i in range(len(q)):
            due = datetime.fromtimestamp(float(q.due[i]), UTC)
            tried = int(q.attempts[i])
            status = "callback" if q.callback[i] else "retry" if tried else "new"
            lead = MemLead(i + 1, self.campaign_id, phone_of(i), due if not tried else self.t0,
                           priority=int(q.priority[i]), status=status, attempts=tried,
                           next_attempt_at=due if tried or q.callback[i] else None,
                           callback_at=due if q.callback[i] else None,
                           last_outcome=("failed" if q.failed_last[i] else "no_answer") if tried else None,
                           updated_at=self.t0)
            self.store.add_lead(lead)
        self.leads = len(q)
        return len(q)


class PlanCustomers(Customers):
    """The scenario's customers, with dead numbers where the list says they are: a fresh number is dead at the
    history's first-attempt failure share, one whose last attempt failed at the re-failure share, any other at
    the (small) share of numbers that failed after answering before. Attempt ``k`` answers live at the share the
    history measured for it (``attempt_factors``); attempts beyond those measured at the last one's × the retry
    decay for each attempt more: a list days into a campaign is dialed on its third and fourth attempts, and a
    decay fitted from the first attempt on missed those by its error compounded (−11 % on a fourth attempt)."""

    def __init__(self, scenario: Scenario, seed: int, queue: ListQueue, refail: float, fail_later: float,
                 attempt_factors: tuple[float, ...] = ()) -> None:
        super().__init__(scenario, seed)
        self.queue, self.refail, self.fail_later = queue, refail, fail_later
        self._dead: dict[int, bool] = {}
        self.attempt_factors = attempt_factors

    def live_share(self, day: int, hour: float, attempt: int) -> float:
        f = self.attempt_factors
        if not f:
            return super().live_share(day, hour, attempt)
        last = len(f)
        factor = f[attempt - 1] if attempt <= last else f[-1] * self.sc.answering.retry_decay ** (attempt - last)
        return super().live_share(day, hour, 1) * factor

    def dead(self, lead_index: int) -> bool:
        known = self._dead.get(lead_index)
        if known is None:
            q = self.queue
            if lead_index >= len(q) or q.attempts[lead_index] == 0:
                share = self.sit_share
            else:
                share = self.refail if q.failed_last[lead_index] else self.fail_later
            u = self._seeded(self._rng_dead, lead_index).random()
            known = self._dead[lead_index] = bool(u < share)
        return known
