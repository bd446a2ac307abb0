"""``dialer bench dnc``: the national registry at scale (speed and memory targets are measured here, not in tests).

Steps, each timed: generate a synthetic registry text file; load it into a snapshot (in a child process, so
its peak memory is reported apart); open the snapshot; bulk-scrub random numbers (vectorized lookups and the
full import scrubber); single-number gate lookups (registry + lists in memory) and full ``evaluate`` calls.
"""

from __future__ import annotations

import multiprocessing as mp
import resource
import shutil
import tempfile
import time
from datetime import date, datetime
from pathlib import Path

import numpy as np

from campaigns.db import make_engine, session_factory, session_scope
from dialer.schema.migrate import upgrade
from dnc.gate import evaluate
from dnc.lists import index_for
from dnc.registry import Store, generate, load_full
from dnc.scrub import DncScrubber


def _rss_mb(who=resource.RUSAGE_SELF) -> float:
    return resource.getrusage(who).ru_maxrss / 1024


def _child_generate(path: str, n: int, q) -> None:
    t0 = time.perf_counter()
    g = generate(path, n, seed=11)
    q.put({"count": g.count, "bytes": g.bytes, "area_codes": len(g.area_codes), "s": time.perf_counter() - t0,
           "rss_mb": _rss_mb()})


def _child_load(url: str, root: str, path: str, version: str, now: datetime, q) -> None:
    engine = make_engine(url)
    t0 = time.perf_counter()
    with session_scope(session_factory(engine)) as s:
        load = load_full(s, Store(root), [path], version_date=date.fromisoformat(version), loaded_by="bench",
                         now=now)
        out = {"count": load.count, "lines": load.lines}
    out.update(s=time.perf_counter() - t0, rss_mb=_rss_mb())
    engine.dispose()
    q.put(out)


def _in_child(target, *args) -> dict:
    ctx = mp.get_context("fork")
    q = ctx.Queue()
    p = ctx.Process(target=target, args=(*args, q))
    p.start()
    out = q.get()
    p.join()
    if p.exitcode:
        raise RuntimeError(f"benchmark step failed in a child process (exit {p.exitcode})")
    return out


def _pct(samples_ns: list[int], q: float) -> float:
    return float(np.percentile(np.array(samples_ns), q)) / 1000


class _Cand:
    __slots__ = ("e164", "state", "postal_code", "zones", "line")

    def __init__(self, e164: str) -> None:
        self.e164, self.state, self.postal_code, self.zones, self.line = e164, None, None, ("America/New_York",), 0


def run(numbers: int, now: datetime, workdir: Path | None = None, scrub_numbers: int = 20_000_000,
        lookups: int = 200_000) -> dict:
    """Run every step; returns the figures (seconds, numbers/s, microseconds, MB)."""
    tmp = Path(tempfile.mkdtemp(prefix="dialer-bench-dnc-", dir=workdir))
    out: dict = {"numbers": numbers}
    try:
        text = tmp / "registry.txt"
        g = _in_child(_child_generate, str(text), numbers)
        out.update(generated=g["count"], text_mb=round(g["bytes"] / 2**20), area_codes=g["area_codes"],
                   generate_s=round(g["s"], 1))
        url = f"sqlite:///{tmp / 'bench.sqlite3'}"
        engine = make_engine(url)
        upgrade(engine)
        ld = _in_child(_child_load, url, str(tmp / "dnc"), str(text), now.date().isoformat(), now)
        out.update(load_s=round(ld["s"], 1), load_peak_rss_mb=round(ld["rss_mb"]), snapshot_count=ld["count"],
                   load_numbers_per_s=round(ld["lines"] / ld["s"]))
        text.unlink()
        snap_file = next((tmp / "dnc" / "generations").glob("*/national.bits"))
        out["snapshot_mb"] = round(snap_file.stat().st_size / 2**20)

        t0 = time.perf_counter()
        store = Store(tmp / "dnc")
        snap = store.current()
        out["open_s"] = round(time.perf_counter() - t0, 4)

        rng = np.random.default_rng(5)
        npas = np.array(sorted(int(n) for n in snap.coverage), dtype=np.int64)
        sample = npas[rng.integers(0, len(npas), scrub_numbers)] * 10_000_000 + rng.integers(
            2_000_000, 10_000_000, scrub_numbers)
        listed = 0
        t0 = time.perf_counter()
        for i in range(0, len(sample), 1_000_000):
            listed += int(snap.lookup_many(sample[i:i + 1_000_000])[1].sum())
        dt = time.perf_counter() - t0
        out.update(scrub_lookup_numbers_per_s=round(len(sample) / dt), scrub_listed_share=round(listed / len(sample),
                                                                                                 3))
        sessions = session_factory(engine)
        cands = [_Cand(f"+1{n}") for n in sample[:200_000].tolist()]
        scrubber = DncScrubber(sessions, campaign=1, at=now, operator="bench", store=store)
        t0 = time.perf_counter()
        for i in range(0, len(cands), 5_000):
            scrubber(cands[i:i + 5_000])
        out["import_scrub_numbers_per_s"] = round(len(cands) / (time.perf_counter() - t0))

        with sessions() as s:
            index = index_for(s)
            samples = []
            numbers_ = sample[:lookups].tolist()
            clock = time.perf_counter_ns
            for n in numbers_:
                t = clock()
                snap.lookup(n)
                index.match(str(n))
                samples.append(clock() - t)
            out.update(gate_lookup_p50_us=round(_pct(samples, 50), 2), gate_lookup_p99_us=round(_pct(samples, 99), 2))
            full = []
            for n in numbers_[:2_000]:
                t = clock()
                evaluate(s, f"+1{n}", campaign=1, at=now, registry=store)
                full.append(clock() - t)
            out.update(evaluate_p50_us=round(_pct(full, 50)), evaluate_p99_us=round(_pct(full, 99)))
        out["serve_peak_rss_mb"] = round(_rss_mb())
        engine.dispose()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return out
