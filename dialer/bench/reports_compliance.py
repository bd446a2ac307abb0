"""The auditor's two heavy reports in ``dialer bench reports``: zero-violation reconciliation and calling-window
exceptions over the same 30 days, timed as the console runs them (``campaigns.compliance.auditor``).

Reconciliation needs the registry generations that were in force when each call was placed, so the benchmark loads
a generated 212 registry twice into a scratch snapshot directory, once before the first call and once three weeks in
(each at most 31 days old at every call, as the law wants). It lists 20,000 numbers nobody on the lists has and 50
of the leads, whose calls show up as violations, as a real audit would find them.
"""

from __future__ import annotations

import statistics
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
from sqlalchemy import delete, select
from sqlalchemy.orm import Session, sessionmaker

from campaigns.compliance import verdicts
from campaigns.compliance.auditor import Span, reconciliation
from campaigns.compliance.models import CallVerdict, VerdictDay
from campaigns.db import session_scope
from campaigns.dispatch.models import Call
from dialer.bench.reports_gen import phone_of
from dnc.registry import Store, load_full

RUNS = 3


def load_registry(sessions: sessionmaker[Session], root: Path, first_day, days: int) -> Store:
    """Two national loads of a generated 212 registry, in force from the day before the first call."""
    store = Store(root / "dnc")
    path = root / "registry.txt"
    rng = np.random.default_rng(11)
    others = 2129_000_000 + rng.choice(1_000_000, 20_000, replace=False)  # 212-9xx: nobody on the lists
    listed = [int(phone_of(i)[2:]) for i in range(0, 5_000, 100)]  # 50 leads the registry lists
    path.write_text("\n".join(str(n) for n in sorted({*others.tolist(), *listed})) + "\n", encoding="ascii")
    for offset in range(-1, days, 21):
        at = datetime.combine(first_day + timedelta(days=offset), datetime.min.time(), UTC)
        with session_scope(sessions) as s:
            load_full(s, store, [path], version_date=at.date(), loaded_by="bench", now=at, area_codes="212")
    return store


def build(sessions: sessionmaker[Session], store: Store, now: datetime) -> dict:
    """Judge every call once (what the first start after the upgrade or a new rules file costs), from nothing."""
    t0 = time.perf_counter()
    with session_scope(sessions) as s:
        r = verdicts.refresh(s, store, now, rebuild=True)
    seconds = time.perf_counter() - t0
    return {"judged": r.judged, "findings": r.findings, "seconds": round(seconds, 1),
            "calls_per_s": round(r.judged / seconds) if seconds else None}


def time_reports(sessions: sessionmaker[Session], store: Store, now: datetime, first, last) -> dict:
    """Reconciliation and window exceptions over first..last, three times each (refresh included)."""
    out = {}
    for name, window in (("reconcile", False), ("window-exceptions", True)):
        seconds, rows, checked = [], 0, ""
        for _ in range(RUNS):
            t0 = time.perf_counter()
            with session_scope(sessions) as s:
                sheet = reconciliation(s, store, now, Span(first, last), None, window)
            seconds.append(time.perf_counter() - t0)
            rows, checked = len(sheet.rows), sheet.summary[0][1]
        out[name] = {"max_s": round(max(seconds), 3), "median_s": round(statistics.median(seconds), 3),
                     "rows": rows, "calls_checked": checked}
    return out


def absorb(sessions: sessionmaker[Session], store: Store, now: datetime, first, last) -> dict:
    """After a busy hour of new calls: the first reconciliation judges them, then reads as before."""
    t0 = time.perf_counter()
    with session_scope(sessions) as s:
        reconciliation(s, store, now, Span(first, last), None, False)
    return {"reconcile_after_s": round(time.perf_counter() - t0, 3)}


def drop(conn, campaign_id: int) -> None:
    conn.execute(delete(CallVerdict).where(CallVerdict.call_id.in_(
        select(Call.id).where(Call.campaign_id == campaign_id))))
    conn.execute(delete(VerdictDay).where(VerdictDay.campaign_id == campaign_id))
