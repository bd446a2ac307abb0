"""``dialer bench jobs-contention``: a small history end to end, the dial loop's writes timed while every job runs."""

from __future__ import annotations

import json

from dialer.cli import main


def test_bench_jobs_contention_times_the_dial_loops_writes_while_the_jobs_run(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(["bench", "jobs-contention", "--calls", "3000", "--leads", "1000", "--seconds", "10", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["backend"] == "sqlite" and out["writes"] > 0 and out["write_p99_ms"] is not None
    assert "callbacks-due" in out["jobs"]  # the first job, due at the start: its transactions are timed
    assert all(j["transactions"] > 0 and j["max_ms"] >= j["p50_ms"] for j in out["jobs"].values())
