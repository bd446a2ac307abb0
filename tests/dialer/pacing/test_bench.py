"""``dialer bench pacing`` end to end on a tiny configuration, and the pieces it is built from."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from dialer.bench import pacing as bench
from dialer.bench.pacing_report import check_targets
from dialer.sim import load_scenario


def test_every_shipped_scenario_loads_and_they_cover_pacing_md_section_4() -> None:
    names = [load_scenario(f).name for f in bench.scenario_files()]
    for prefix in ("S1-", "S2-", "S3-", "S4-", "S5-", "S6-", "S7-", "S8-", "S9-", "S10-"):
        assert any(n.startswith(prefix) for n in names), prefix
    assert load_scenario(bench.scenario_files(["S10"])[0]).campaign.abandon_target == 0.01
    assert [load_scenario(f).name for f in bench.scenario_files(["S1"])] == ["S1-base-20"]
    assert len(bench.scenario_files(["S5"])) == 3 and len(bench.scenario_files(["S5-talk-short"])) == 1


def test_scenario_selection_errors_name_the_shipped_ones() -> None:
    from dnc.errors import UserError

    with pytest.raises(UserError, match="S1-base-20"):
        bench.scenario_files(["S99"])


def test_daily_step_is_repeated_every_day() -> None:
    sc = load_scenario(bench.scenario_files(["S6"])[0])
    three = bench.with_days(sc, 3, None)
    assert three.run.days == 3
    steps = [(s.day, s.hour, s.live) for s in three.answering.steps]
    assert (1, 13.0, 0.12) in steps and (2, 0.0, 0.30) in steps and (3, 13.0, 0.12) in steps


def test_bench_runs_end_to_end_and_reports_json(dialer, tmp_path: Path) -> None:
    res = dialer("bench", "pacing", "--scenario", "S2-small-3", "--pacer", "progressive", "--pacer",
                 "predictive", "--seeds", "1", "--hours", "0.25", "--workers", "1", "--no-latency",
                 "--plot", str(tmp_path / "p.png"), "--save", str(tmp_path / "all.json"), "--json")
    assert res.code == 0, res.err
    out = json.loads(res.out)
    assert {r["pacer"] for r in out["rows"]} == {"progressive", "predictive"}
    for row in out["rows"]:
        assert 0 < row["occupancy"] <= 1 and row["dials_per_agent_hour"] > 0
        assert 0 <= row["abandon_rate"] <= 1
    assert (tmp_path / "p.png").read_bytes()[:4] == b"\x89PNG"
    saved = json.loads((tmp_path / "all.json").read_text())
    assert len(saved["runs"]) == 2 and saved["runs"][0]["scenario"] == "S2-small-3"


def test_unknown_pacer_is_a_user_error(dialer) -> None:
    res = dialer("bench", "pacing", "--pacer", "psychic", "--no-latency")
    assert res.code == 2 and "psychic" in res.err


def test_targets_are_checked_against_the_rows() -> None:
    rows = [{"scenario": "S1-base-20", "pacer": "predictive", "occupancy": 0.90, "abandon_rate": 0.027},
            {"scenario": "S1-base-20", "pacer": "vicidial-adaptive", "occupancy": 0.75, "abandon_rate": 0.03}]
    runs = [{"scenario": "S1-base-20", "pacer": "predictive", "seed": 1, "abandon_rate": 0.031, "over_target": True}]
    checks = {c["target"]: c for c in check_targets(rows, runs, {"mean_ms": 0.4, "p50_ms": 0.2, "p99_ms": 3.0})}
    assert checks["base mix, 20 agents: occupancy >= 90%"]["ok"] is True
    assert checks["base mix, 5 agents: occupancy >= 80%"]["ok"] is None
    assert checks["predictive keeps abandon <= target in every scenario and seed"]["ok"] is False
    gap = next(c for t, c in checks.items() if t.startswith("20 agents"))
    assert gap["ok"] is True


def test_predictive_is_checked_against_the_threshold_reference_on_every_scenario() -> None:
    rows = [{"scenario": "A", "pacer": "predictive", "occupancy": 0.90, "abandon_rate": 0.025},
            {"scenario": "A", "pacer": "threshold", "occupancy": 0.89, "abandon_rate": 0.026},
            {"scenario": "B", "pacer": "predictive", "occupancy": 0.95, "abandon_rate": 0.027},
            {"scenario": "B", "pacer": "threshold", "occupancy": 0.96, "abandon_rate": 0.024}]
    (c,) = [c for c in check_targets(rows, [], None) if "threshold" in c["target"]]
    assert c["ok"] is False and c["value"] == "1/2 scenarios" and c["detail"][0].startswith("B: 95.0 %")
    rows[2]["abandon_rate_worst_running"], rows[3]["abandon_rate_worst_running"] = 0.028, 0.051
    (c,) = [c for c in check_targets(rows, [], None) if "threshold" in c["target"]]
    assert c["detail"][0].endswith("(worst running 2.80 % vs 5.10 %)")


def test_worst_running_rate_sees_an_early_overshoot_the_day_rate_hides() -> None:
    from dialer.bench.pacing_metrics import worst_running_rate

    placed = np.arange(200.0)
    early = np.zeros(200, dtype=bool)
    early[[40, 45]] = True  # 2 abandons in the first 46 live answers: 4.3 % then; 1 % by the end of the day
    assert worst_running_rate(placed, early, 0.03) == pytest.approx(2 / 46)
    assert early.sum() / len(early) < 0.03
    late = np.zeros(200, dtype=bool)
    late[[150, 199]] = True  # the same two abandons late: the running rate never passes the day's 1 %
    assert worst_running_rate(placed, late, 0.03) == pytest.approx(0.01)
    first = np.zeros(200, dtype=bool)
    first[0] = True  # before 1/target live answers a single abandon says nothing about the pacer
    assert worst_running_rate(placed, first, 0.03) == pytest.approx(1 / 34)


def test_worst_running_rate_reads_the_rolling_30_days() -> None:
    from dialer.bench.pacing_metrics import worst_running_rate

    day = 86_400.0
    placed = np.concatenate([np.linspace(0.0, day, 100), np.linspace(31 * day, 32 * day, 100)])
    abandoned = np.zeros(200, dtype=bool)
    abandoned[[150, 160, 170]] = True  # the first month's clean answers have left the window by then
    assert worst_running_rate(placed, abandoned, 0.03) == pytest.approx(3 / 71)  # not 3 / 171


def test_table_reports_the_share_of_days_over_the_target() -> None:
    """Issue 17: the worst day and the share of days over the target, per scenario, beside the run's rate."""
    from dialer.bench.pacing import aggregate
    from dialer.bench.pacing_metrics import RunMetrics
    from dialer.bench.pacing_report import table_rows

    def run(seed: int, over: int) -> RunMetrics:
        figures = {"occupancy": 0.8, "talk_min_per_agent_hour": 40.0, "abandon_rate": 0.026,
                   "abandon_rate_worst_day": 0.031 if over else 0.028, "abandon_rate_worst_running": 0.029,
                   "days_over_target": over, "days": 10, "over_target": False, "over_3pct": False,
                   "dials_per_agent_hour": 90.0, "connects_per_agent_hour": 20.0, "agent_wait_mean_s": 20.0,
                   "agent_wait_p50_s": 20.0, "agent_wait_p90_s": 60.0, "answer_to_agent_p50_s": 0.0,
                   "answer_to_agent_p90_s": 0.0, "amd_hung_up_on_people": 0, "dials": 1000, "live_answers": 300,
                   "abandoned": 8, "agent_hours": 50.0, "wall_s": 1.0}
        return RunMetrics("S2-small-5", "predictive", seed, figures, np.array([20.0]), np.array([0.0]))

    (row,) = table_rows(aggregate([run(1, 1), run(2, 2)]))
    assert row["% days > target"] == 15.0  # 3 of 20 days
    assert row["worst day %"] == 3.1
