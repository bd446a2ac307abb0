"""``dialer bench funnel``: how long a refresh of the dialable funnel takes on a big campaign.

It generates a campaign of N leads spread over 40 real area codes and their ZIP codes (the demo's list
generator's geography) in the mix a working campaign has: final leads, retries due now and later, callbacks,
leads on a call; a national registry that lists 2 % of the campaign's numbers, a litigator list, internal DNC
entries, consent records and the RND answers about them. Then it times the first refresh (which looks every number
up in the registry and the lists), the next ones (the look-ups are cached: only the group query and the special
leads run), and one after a fresh batch of leads was loaded (looked up incrementally). The console polls the floor
every 3 s: the warm refresh must stay well under that.
"""

from __future__ import annotations

import random
import statistics
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import delete, select, text, update

from campaigns.campaign.models import Campaign, Disposition
from campaigns.campaign.service import create_campaign
from campaigns.db import make_engine, session_factory, session_scope
from campaigns.funnel.service import funnel
from campaigns.funnel.sources import forget
from campaigns.leadimport.store import BulkWriter
from campaigns.leads.models import Lead, LeadList
from dialer.demo.listgen import AREAS, zips_under
from dialer.schema.migrate import upgrade
from dnc import consent, internal
from dnc.lists import load_list
from dnc.reassigned import load_rnd
from dnc.registry import Store, load_full
from dnc.zones import candidate_zones


def _rows(n: int, seed: int, start_line: int = 0) -> tuple[list[tuple], list[str]]:
    rng = random.Random(seed)
    rows, phones = [], []
    seen: set[str] = set()
    while len(rows) < n:
        npa, state, zip3 = rng.choice(AREAS)
        phone = f"+1{npa}{rng.randrange(200, 1000)}{rng.randrange(10000):04d}"
        if phone in seen:
            continue
        seen.add(phone)
        zips = zips_under(zip3)  # real ones: a made-up ZIP code is an address the gate refuses (unknown_zone)
        postal = zips[rng.randrange(len(zips))]
        rows.append((start_line + len(rows) + 1, phone, None, "Lee", "Kim", state, postal,
                     ",".join(candidate_zones(phone, postal)), "{}", "new", None))
        phones.append(phone)
    return rows, phones


def _load_leads(sessions, campaign_id: int, list_id: int, now: datetime, rows: list[tuple]) -> None:
    with session_scope(sessions) as s:
        w = BulkWriter(s.connection(), now, campaign_id, list_id)
        for i in range(0, len(rows), 50_000):
            w.leads(rows[i:i + 50_000])


def _mix(sessions, campaign_id: int, now: datetime) -> None:
    """Give the leads the statuses a campaign has after a few days of dialing (by id, set-based)."""
    later, earlier = now + timedelta(hours=3), now - timedelta(minutes=20)
    plan = [(0, 15, {"status": "exhausted", "attempts": 5}), (15, 20, {"status": "closed", "attempts": 2}),
            (20, 35, {"status": "retry", "attempts": 1, "next_attempt_at": later}),
            (35, 45, {"status": "retry", "attempts": 2, "next_attempt_at": earlier}),
            (45, 48, {"status": "callback", "attempts": 1, "next_attempt_at": later, "callback_at": later})]
    with session_scope(sessions) as s:
        for lo, hi, values in plan:
            s.execute(update(Lead).where(Lead.campaign_id == campaign_id, Lead.id % 100 >= lo, Lead.id % 100 < hi)
                      .values(**values).execution_options(synchronize_session=False))


def run(url: str, leads: int, now: datetime, workdir: Path, keep: bool = False, refreshes: int = 5,
        say: Callable[[str], None] | None = None) -> dict:
    say = say or (lambda _m: None)
    engine = make_engine(url)
    upgrade(engine)
    sessions = session_factory(engine)
    store = Store(workdir / "dnc")
    name = f"bench-funnel-{now:%Y%m%dT%H%M%S%f}"
    try:
        t0 = time.perf_counter()
        with session_scope(sessions) as s:
            c = create_campaign(s, name, "+12125550100", now)
            c.status = "active"
            lst = LeadList(campaign_id=c.id, name="bench", sha256="b" * 64, uploaded_at=now)
            s.add(lst)
            s.flush()
            cid, lid = c.id, lst.id
        rows, phones = _rows(leads, 11)
        _load_leads(sessions, cid, lid, now, rows)
        _mix(sessions, cid, now)
        if engine.dialect.name == "postgresql":
            with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.execute(text("VACUUM ANALYZE leads"))
        rng = random.Random(5)
        listed = rng.sample(phones, len(phones) // 50)
        reg = workdir / "registry.txt"
        reg.write_text("".join(p[2:] + "\n" for p in listed))
        lit = workdir / "litigator.txt"
        lit.write_text("".join(p[2:] + "\n" for p in rng.sample(phones, max(1, len(phones) // 1000))))
        with session_scope(sessions) as s:
            load_full(s, store, [reg], version_date=now.date(), loaded_by="bench", now=now,
                      area_codes=",".join(sorted({a for a, _, _ in AREAS})))
            load_list(s, "litigator", lit, version_date=now.date(), loaded_by="bench", now=now)
            for p in rng.sample(phones, min(1000, len(phones) // 100)):
                internal.add_request(s, p, scope="campaign", campaign=cid, channel="web",
                                     received_at=now - timedelta(days=1), added_by="bench")
            consented = rng.sample(phones, min(500, len(phones) // 200))
            for p in consented:
                consent.add(s, p, kind="pewc", granted_at=now - timedelta(days=9), evidence_ref="bench",
                            added_by="bench", recorded_at=now - timedelta(days=9), campaign=cid)
            rnd = workdir / "rnd.csv"  # the consented numbers asked of the RND: a tenth disconnected since consent
            rnd.write_text("".join(f"{p[2:]},{(now - timedelta(days=3 if i % 10 == 0 else 90)).date()}\n"
                                   for i, p in enumerate(consented)))
            load_rnd(s, rnd, version_date=now.date(), loaded_by="bench", now=now)
        load_s = time.perf_counter() - t0
        say(f"loaded {leads:,} leads and the lists in {load_s:.1f} s")
        forget()
        timings = []
        for _ in range(refreshes + 1):
            with session_scope(sessions) as s:
                t = time.perf_counter()
                f = funnel(s, s.get(Campaign, cid), now, registry=store)
                timings.append(time.perf_counter() - t)
        extra, _ = _rows(10_000, 12, leads)
        _load_leads(sessions, cid, lid, now, extra)
        with session_scope(sessions) as s:
            t = time.perf_counter()
            after = funnel(s, s.get(Campaign, cid), now, registry=store)
            incremental = time.perf_counter() - t
        assert f.adds_up and after.adds_up and after.total == f.total + 10_000
        return {"backend": engine.dialect.name, "leads": leads, "load_s": round(load_s, 1),
                "first_refresh_s": round(timings[0], 3), "refresh_s_median": round(statistics.median(timings[1:]), 3),
                "refresh_s_max": round(max(timings[1:]), 3), "after_10k_new_leads_s": round(incremental, 3),
                "final": sum(f.final.values()), "dialing": f.dialing, "blocked": f.blocked, "dialable": f.dialable,
                "window_groups": len(f.windows), "adds_up": f.adds_up}
    finally:
        if not keep:
            _drop(sessions, name)
        engine.dispose()


def _drop(sessions, name: str) -> None:
    with session_scope(sessions) as s:
        cid = s.scalar(select(Campaign.id).where(Campaign.name == name))
        if cid is None:
            return
        s.execute(delete(Lead).where(Lead.campaign_id == cid))
        s.execute(delete(LeadList).where(LeadList.campaign_id == cid))
        s.execute(delete(Disposition).where(Disposition.campaign_id == cid))
        s.execute(delete(Campaign).where(Campaign.id == cid))
