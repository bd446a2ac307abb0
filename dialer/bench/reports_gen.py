"""A large, self-consistent floor history for the reports benchmark: leads, lists, agents, calls, agent states.

Agents work 09:00-12:00 and 12:30-17:00 (New York) in cycles of waiting, talking and wrap-up, so every connected
call fits its agent's state history; the other dials (no answer, busy, failed, machine, abandoned) fall at
random inside the same hours. Numbers are drawn with numpy and bulk-loaded (``COPY`` on PostgreSQL,
``executemany`` on SQLite); a million rows take seconds, ten million a few minutes.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
from sqlalchemy import Connection, Table

from campaigns.agents.models import Agent, AgentStateEvent
from campaigns.dispatch.models import Call
from campaigns.leads.models import Lead, LeadList, RejectedRow

TZ = "America/New_York"
SHIFTS = ((9 * 3600, 12 * 3600), (12 * 3600 + 1800, 17 * 3600))  # seconds after local midnight
DAY_OPEN, DAY_CLOSE = 9 * 3600, 17 * 3600
CONNECTED_SHARE = 0.245
ABANDON_OF_LIVE = 0.025
OTHER_OUTCOMES = (("no_answer", 0.60), ("busy", 0.10), ("failed", 0.03), ("machine", 0.27))
DISPOSITIONS = (("SALE", 0.08), ("CALLBK", 0.10), ("NI", 0.55), ("DNC", 0.03), ("WRONG", 0.09), ("NOANS", 0.15))
SUPPRESSION = (("national_dnc", 0.6), ("internal_dnc", 0.25), ("litigator", 0.15))
CYCLE_S = 20 + 105 + 17  # mean wait + talk + wrap: sizes the team
CHUNK = 200_000


def phone_of(lead: int) -> str:
    """The lead's number: 212-200-0000 on, exchanges in service (212-000… is no number: reconciliation says so)."""
    return f"+1212{2_000_000 + lead:07d}"


@dataclass
class Plan:
    calls: int
    leads: int
    days: int
    lists: int
    first_day: date
    seed: int = 7

    @property
    def agents(self) -> int:
        """Enough agents to take the connected share of the dials in the working hours."""
        per_agent_day = (sum(b - a for a, b in SHIFTS)) / CYCLE_S
        return max(1, math.ceil(self.calls * CONNECTED_SHARE / (self.days * per_agent_day * 0.97)))


@dataclass
class Generated:
    calls: int
    connected: int
    abandoned: int
    leads: int
    agents: int
    agent_events: int


def _day_starts(plan: Plan) -> np.ndarray:
    """Local midnight of each day as UTC epoch seconds (DST-correct)."""
    zone = ZoneInfo(TZ)
    return np.array([datetime.combine(plan.first_day + timedelta(days=i), datetime.min.time(), tzinfo=zone)
                     .timestamp() for i in range(plan.days)], dtype=np.float64)


def stamp(seconds: np.ndarray) -> np.ndarray:
    """Epoch seconds to the text both databases store naive UTC as: ``YYYY-MM-DD HH:MM:SS.ffffff``."""
    us = np.round(seconds * 1e6).astype("int64").astype("datetime64[us]")
    return np.char.replace(np.datetime_as_string(us, unit="us"), "T", " ")


class Loader:
    """Appends plain tuples to a table on one connection: COPY on PostgreSQL, executemany on SQLite."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.postgres = conn.dialect.name == "postgresql"

    def load(self, table: Table, columns: Sequence[str], rows: Iterator[tuple]) -> int:
        extra = [c for c in table.columns if not c.nullable and c.name not in columns and c.name != "id"
                 and c.server_default is None]
        names = list(columns) + [c.name for c in extra]
        fill = tuple(c.default.arg if c.default is not None and not callable(c.default.arg) else None for c in extra)
        cols = ", ".join(f'"{n}"' for n in names)
        n = 0
        if self.postgres:
            raw = self.conn.connection.driver_connection
            with raw.cursor() as cur, cur.copy(f"COPY {table.name} ({cols}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row + fill)
                    n += 1
            return n
        marks = ", ".join("?" * len(names))
        sql = f"INSERT INTO {table.name} ({cols}) VALUES ({marks})"
        batch: list[tuple] = []
        for row in rows:
            batch.append(row + fill)
            if len(batch) >= CHUNK:
                self.conn.exec_driver_sql(sql, batch)
                n += len(batch)
                batch = []
        if batch:
            self.conn.exec_driver_sql(sql, batch)
            n += len(batch)
        return n


def generate(conn: Connection, campaign_id: int, name: str, plan: Plan, now: datetime) -> Generated:
    rng = np.random.default_rng(plan.seed)
    load = Loader(conn)
    loaded_s = stamp(_day_starts(plan)[:1] - 86400.0)[0]  # the lists were uploaded the day before the first call
    list_ids = _lists(conn, load, campaign_id, name, plan, loaded_s)
    lead_list = np.sort(rng.integers(0, plan.lists, plan.leads)).astype(np.int64)
    suppressed = rng.random(plan.leads) < 0.02
    agent_ids = _agents(conn, load, campaign_id, name, plan.agents)
    starts = _day_starts(plan)
    # connected calls from the agents' cycles, and their state events
    c_agent, c_conn, c_end, c_dispo, events = _agent_cycles(rng, plan, starts, agent_ids)
    n_conn = len(c_conn)
    n_abandon = int(round(n_conn * ABANDON_OF_LIVE / (1 - ABANDON_OF_LIVE)))
    # a small history still has one whole agent's connected calls and their abandons
    n_total = max(plan.calls, n_conn + n_abandon)
    n_other = n_total - n_conn - n_abandon
    day = rng.integers(0, plan.days, n_other + n_abandon)
    o_placed = starts[day] + rng.uniform(DAY_OPEN, DAY_CLOSE - 60, n_other + n_abandon)
    # every call needs a lead: callable (not suppressed) leads, some dialed far more often than others
    callable_ids = np.flatnonzero(~suppressed)
    weights = rng.pareto(2.5, len(callable_ids)) + 1.0
    weights /= weights.sum()
    placed = np.concatenate([c_conn - rng.uniform(4, 20, n_conn), o_placed])
    lead_idx = callable_ids[rng.choice(len(callable_ids), n_total, p=weights)]
    order = np.lexsort((placed, lead_idx))
    ranks = np.empty(n_total, dtype=np.int64)
    sorted_leads = lead_idx[order]
    first_of_run = np.r_[0, np.flatnonzero(np.diff(sorted_leads)) + 1]
    run_start = np.repeat(first_of_run, np.diff(np.r_[first_of_run, n_total]))
    ranks[order] = np.arange(n_total) - run_start + 1
    kinds = np.empty(n_total, dtype=object)
    kinds[:n_conn] = "completed"
    kinds[n_conn:n_conn + n_abandon] = "abandoned"
    names, probs = zip(*OTHER_OUTCOMES, strict=True)
    kinds[n_conn + n_abandon:] = rng.choice(np.array(names, dtype=object), n_other, p=np.array(probs))
    dnames, dprobs = zip(*DISPOSITIONS, strict=True)
    dispo = rng.choice(np.array(dnames, dtype=object), n_conn, p=np.array(dprobs))
    ring_end = placed[n_conn:] + rng.uniform(3, 30, n_total - n_conn)
    cid = int(campaign_id)
    lead_db = _leads(conn, load, campaign_id, list_ids, lead_list, suppressed, rng, lead_idx, kinds, dispo, loaded_s)
    lists_of = list_ids[lead_list]

    def call_rows() -> Iterator[tuple]:
        """Rows in chunks, timestamps formatted per chunk (10 M formatted at once would take gigabytes)."""
        for lo in range(0, n_total, CHUNK):
            hi = min(n_total, lo + CHUNK)
            t_placed = stamp(placed[lo:hi])
            c_hi = min(hi, n_conn)
            t_conn, t_end, t_dispo = (stamp(a[lo:c_hi]) if lo < c_hi else [] for a in (c_conn, c_end, c_dispo))
            r_lo, r_hi = max(lo, n_conn) - n_conn, hi - n_conn
            t_ring = stamp(ring_end[r_lo:r_hi]) if r_hi > r_lo else []
            for i in range(lo, hi):
                li = int(lead_idx[i])
                k = kinds[i]
                base = (cid, int(lead_db[li]), int(lists_of[li]), phone_of(li), int(ranks[i]), "bench",
                        "completed", t_placed[i - lo])
                if i < n_conn:
                    j = i - lo
                    yield base + (t_conn[j], "human", t_conn[j], int(c_agent[i]), t_end[j], k, dispo[i],
                                  t_dispo[j], False)
                else:
                    ring = t_ring[i - max(lo, n_conn)]
                    answered = ring if k in ("abandoned", "machine") else None
                    by = {"abandoned": "human", "machine": "machine"}.get(k)
                    yield base + (answered, by, None, None, ring, k, None, None, False)

    columns = ("campaign_id", "lead_id", "list_id", "phone", "attempt", "provider", "status", "placed_at",
               "answered_at", "answered_by", "connected_at", "agent_id", "ended_at", "outcome", "disposition_code",
               "dispositioned_at", "imported")
    load.load(Call.__table__, columns, call_rows())
    ev_agent, ev_at, ev_state, ev_reason = events

    def event_rows() -> Iterator[tuple]:
        for lo in range(0, len(ev_at), CHUNK):
            text = stamp(ev_at[lo:lo + CHUNK])
            for j, at in enumerate(text):
                i = lo + j
                yield int(ev_agent[i]), cid, ev_state[i], ev_reason[i], at

    n_events = load.load(AgentStateEvent.__table__, ("agent_id", "campaign_id", "state", "reason", "at"),
                         event_rows())
    return Generated(n_total, n_conn, n_abandon, plan.leads, len(agent_ids), n_events)


def _lists(conn, load: Loader, campaign_id: int, name: str, plan: Plan, uploaded_s: str) -> np.ndarray:
    rows = ((int(campaign_id), f"{name} list {i + 1}", f"{i:064d}", uploaded_s, True) for i in range(plan.lists))
    load.load(LeadList.__table__, ("campaign_id", "name", "sha256", "uploaded_at", "active"), rows)
    ids = conn.exec_driver_sql(f"SELECT id FROM lead_lists WHERE campaign_id = {int(campaign_id)} ORDER BY id")
    return np.array([r[0] for r in ids], dtype=np.int64)


def _agents(conn, load: Loader, campaign_id: int, name: str, n: int) -> np.ndarray:
    load.load(Agent.__table__, ("name", "campaign_id", "state"),
              ((f"{name} agent {i + 1}", int(campaign_id), "offline") for i in range(n)))
    ids = conn.exec_driver_sql(f"SELECT id FROM agents WHERE campaign_id = {int(campaign_id)} ORDER BY id")
    return np.array([r[0] for r in ids], dtype=np.int64)


def _agent_cycles(rng, plan: Plan, starts: np.ndarray, agent_ids: np.ndarray):
    """Wait, talk, wrap cycles per agent and shift; only cycles that finish inside the shift are kept."""
    agents = len(agent_ids)
    c_agent, c_conn, c_end, c_dispo = [], [], [], []
    e_agent, e_at, e_state, e_reason = [], [], [], []
    for day0 in starts:
        for s_i, (a, b) in enumerate(SHIFTS):
            length = b - a
            k = int(length / CYCLE_S * 1.6) + 8
            wait = rng.exponential(20.0, (agents, k))
            talk = np.minimum(rng.lognormal(math.log(90), 0.6, (agents, k)), 1800.0)
            wrap = rng.uniform(5, 30, (agents, k))
            cycle_end = np.cumsum(wait + talk + wrap, axis=1)
            keep = cycle_end <= length
            conn_t = day0 + a + cycle_end - talk - wrap
            end_t = conn_t + talk
            dispo_t = end_t + wrap
            rows, cols = np.nonzero(keep)
            ag = agent_ids[rows]
            c_agent.append(ag)
            c_conn.append(conn_t[rows, cols])
            c_end.append(end_t[rows, cols])
            c_dispo.append(dispo_t[rows, cols])
            e_agent += [ag, ag, ag]
            e_at += [conn_t[rows, cols], end_t[rows, cols], dispo_t[rows, cols]]
            e_state += [np.full(len(rows), "talking", dtype=object), np.full(len(rows), "wrap", dtype=object),
                        np.full(len(rows), "ready", dtype=object)]
            e_reason += [np.full(len(rows), None, dtype=object)] * 3
            # shift edges: ready at the start, lunch pause or offline at the end
            e_agent += [agent_ids, agent_ids]
            e_at += [np.full(agents, day0 + a), np.full(agents, day0 + b)]
            e_state += [np.full(agents, "ready", dtype=object),
                        np.full(agents, "paused" if s_i == 0 else "offline", dtype=object)]
            e_reason += [np.full(agents, None, dtype=object),
                         np.full(agents, "lunch" if s_i == 0 else None, dtype=object)]
    ev_at = np.concatenate(e_at)
    order = np.argsort(ev_at, kind="stable")
    events = (np.concatenate(e_agent)[order], ev_at[order], np.concatenate(e_state)[order],
              np.concatenate(e_reason)[order])
    return np.concatenate(c_agent), np.concatenate(c_conn), np.concatenate(c_end), np.concatenate(c_dispo), events


def _leads(conn, load: Loader, campaign_id: int, list_ids: np.ndarray, lead_list: np.ndarray,
           suppressed: np.ndarray, rng, lead_idx: np.ndarray, kinds: np.ndarray, dispo: np.ndarray,
           loaded_s: str) -> np.ndarray:
    """Insert the leads with the status their calls left them in, created and last written when their lists were
    uploaded (before the first call: a past range's list close takes out the leads created after it, and a lead
    stamped with the generation's time would look created after every range); returns database ids by index."""
    n = len(lead_list)
    status = np.full(n, "new", dtype=object)
    dialed = np.bincount(lead_idx, minlength=n)
    status[dialed > 0] = "retry"
    status[dialed >= 5] = "exhausted"
    conn_leads = lead_idx[:len(dispo)]
    for code, final in (("NI", "done"), ("WRONG", "done"), ("DNC", "dnc"), ("SALE", "closed")):
        status[conn_leads[dispo == code]] = final
    status[suppressed] = "suppressed"
    rnames, rprobs = zip(*SUPPRESSION, strict=True)
    reasons = rng.choice(np.array(rnames, dtype=object), n, p=np.array(rprobs))
    cid = int(campaign_id)
    rows = ((cid, int(list_ids[lead_list[i]]), i + 2, phone_of(i), str(status[i]),
             reasons[i] if suppressed[i] else None, "America/New_York", "{}", int(min(dialed[i], 32767)), loaded_s,
             loaded_s) for i in range(n))
    load.load(Lead.__table__, ("campaign_id", "list_id", "line", "phone", "status", "suppression", "timezones",
                               "custom", "attempts", "created_at", "updated_at"), rows)
    # rejected rows: ~3 % invalid and ~2 % duplicates of each list's file
    per_list = np.bincount(lead_list, minlength=len(list_ids))
    rejects = []
    for li, count in enumerate(per_list):
        rejects += [(int(list_ids[li]), j, "phone", "rejected", "invalid phone number", '["x"]')
                    for j in range(int(count * 0.03))]
        rejects += [(int(list_ids[li]), j, "phone", "duplicate", "duplicates an earlier line", '["y"]')
                    for j in range(int(count * 0.02))]
    load.load(RejectedRow.__table__, ("list_id", "line", "column", "kind", "reason", "raw"), iter(rejects))
    ids = conn.exec_driver_sql(f"SELECT id FROM leads WHERE campaign_id = {cid} ORDER BY line")
    return np.array([r[0] for r in ids], dtype=np.int64)
