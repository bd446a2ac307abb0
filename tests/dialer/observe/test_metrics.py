"""The worker's metrics: the names an operator's dashboards use are exposed, and they move when the loop dials,
connects, abandons and decides; the listener answers /metrics, /healthz and /readyz over real HTTP."""

from __future__ import annotations

import json

import requests
from prometheus_client import REGISTRY

from campaigns.db import session_scope
from campaigns.leases import service as leases
from dialer.jobs.scheduler import Job, LeasedRunner
from dialer.observe import metrics
from dialer.observe.listener import start_listener

NAMES = ("dialer_calls_placed_total", "dialer_calls_answered_total", "dialer_calls_abandoned_total",
         "dialer_calls_connected_total", "dialer_calls_ended_total", "dialer_pacing_decisions_total",
         "dialer_placement_seconds", "dialer_cps_limit", "dialer_creates_last_second", "dialer_callback_lag_seconds",
         "dialer_callbacks_total", "dialer_job_runs_total", "dialer_campaign_leases", "dialer_callbacks_pending",
         "dialer_database_up")


def value(name: str, **labels) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def test_loop_metrics_move_with_a_dial_an_answer_a_connect_and_an_abandon(floor, caplog):
    cid = str(floor.campaign_id)
    before = {k: value(k, campaign=cid) for k in ("dialer_calls_placed_total", "dialer_calls_connected_total",
                                                    "dialer_calls_abandoned_total")}
    decisions = value("dialer_pacing_decisions_total", campaign=cid, capped_by="none")
    floor.loop.observer = metrics.LoopMetrics(metrics.DecisionLog(every_s=60))
    caplog.set_level("INFO", logger="dialer.decisions")
    floor.ready(0, 0.0)
    r1, r2 = floor.dial(2, 1.0)
    floor.event("answered", r1, 5.0, answered_by="human")  # agent 0 takes it
    floor.event("answered", r2, 6.0, answered_by="human")  # nobody left: abandoned at 8 s
    floor.loop.tick(floor.at(8.0))
    floor.event("ended", r1, 30.0, outcome="completed")
    assert value("dialer_calls_placed_total", campaign=cid) - before["dialer_calls_placed_total"] == 2
    assert value("dialer_calls_connected_total", campaign=cid) - before["dialer_calls_connected_total"] == 1
    assert value("dialer_calls_abandoned_total", campaign=cid) - before["dialer_calls_abandoned_total"] == 1
    assert value("dialer_calls_answered_total", campaign=cid, answered_by="human") >= 2
    assert value("dialer_calls_ended_total", campaign=cid, outcome="completed") >= 1
    assert value("dialer_pacing_decisions_total", campaign=cid, capped_by="none") - decisions == 2
    lines = [r.getMessage() for r in caplog.records if getattr(r, "event", None) == "pacing"]
    assert lines and f"campaign {cid} pacing changed" in lines[0] and "asked 2" in lines[0]


def test_the_decision_log_says_once_a_minute_what_held_dialing_back(floor, caplog):
    log = metrics.DecisionLog(every_s=60)
    floor.loop.observer = metrics.LoopMetrics(log)
    caplog.set_level("INFO", logger="dialer.decisions")
    for t in range(0, 130, 2):  # the same decision every turn: a line when it starts, then one a minute
        floor.dial(0, float(t))
    lines = [r.getMessage() for r in caplog.records if getattr(r, "event", None) == "pacing"]
    assert len(lines) == 3 and "pacing changed" in lines[0] and "pacing changed" not in lines[1]
    assert "over 30 turns (60 s)" in lines[1] and "asked 0" in lines[1]


def test_job_runs_are_counted_by_result(sessions, clock):
    def fails(session, now):
        raise RuntimeError("boom")

    runner = LeasedRunner(sessions, clock, holder="me")
    ok0, err0 = value("dialer_job_runs_total", job="t-ok", result="ok"), value("dialer_job_runs_total", job="t-bad",
                                                                               result="error")
    runner.run(Job("t-ok", lambda s, now: 1, "interval"))
    runner.run(Job("t-bad", fails, "interval"))
    with session_scope(sessions) as s:
        leases.acquire(s, "t-held", "someone-else", clock.now(), 600)
    runner.run(Job("t-held", lambda s, now: 1, "interval"))
    assert value("dialer_job_runs_total", job="t-ok", result="ok") == ok0 + 1
    assert value("dialer_job_runs_total", job="t-bad", result="error") == err0 + 1
    assert value("dialer_job_runs_total", job="t-held", result="skipped") >= 1


def test_the_listener_serves_metrics_liveness_and_readiness(sessions, clock, tmp_path):
    from dnc.registry.snapshot import Store

    metrics.create_sent("twilio", 0.2)
    metrics.callback_delivered("answered", 0.4)
    metrics.callbacks_settled("handled")
    metrics.job_ran("t-listener", "ok", 0.1)
    beats = {"n": 0}
    listener, port = start_listener(sessions, clock, "127.0.0.1", 0, holder="host:1",
                                    beats=lambda: beats["n"], registry=Store(tmp_path / "dnc"))
    try:
        base = f"http://127.0.0.1:{port}"
        text = requests.get(base + "/metrics", timeout=10).text
        for name in NAMES:
            assert f"\n{name}" in text or text.startswith(name) or f"# HELP {name}" in text, name
        assert 'dialer_campaign_leases{worker="host:1"} 0.0' in text
        assert requests.get(base + "/healthz", timeout=10).json()["status"] == "alive"
        ready = requests.get(base + "/readyz", timeout=10)
        assert ready.status_code == 200 and set(ready.json()["checks"]) == {"database", "registry", "leases",
                                                                              "callbacks"}
        only = requests.get(base + "/readyz?check=database", timeout=10).json()
        assert list(only["checks"]) == ["database"]
        assert requests.post(base + "/readyz", timeout=10).status_code == 405
    finally:
        listener.stop()


def test_a_loop_that_stopped_turning_is_not_alive():
    from dialer.observe.listener import Heartbeat

    t = {"now": 0.0}
    beats = {"n": 0}
    hb = Heartbeat(lambda: beats["n"], stuck_after_s=120, monotonic=lambda: t["now"])
    t["now"] = 100.0
    assert hb.alive()[0]
    t["now"] = 121.0
    ok, detail = hb.alive()
    assert not ok and "121 s" in detail
    beats["n"] = 1
    assert hb.alive()[0]
    json.dumps(hb.alive())


def test_the_decision_log_says_no_lead_is_due_rather_than_what_the_pacer_asked(floor, caplog):
    """The pacer asks for more calls than leads are due: the log line says the leads ran short, not the pacer's
    sentence ("Placing 20 calls now ...; held at the safety cap"), which an operator read as calls placed."""
    floor.loop.observer = metrics.LoopMetrics(metrics.DecisionLog(every_s=60))
    floor.pacer.explain = lambda: {"mode": "predictive", "sentence": "Placing 20 calls now for 2 agents ready; held "
                                                                     "at the safety cap on calls per agent."}
    caplog.set_level("INFO", logger="dialer.decisions")
    floor.ready(0, 0.0)
    floor.dial(20, 1.0)  # ten leads in all
    lines = [r.getMessage() for r in caplog.records if getattr(r, "event", None) == "pacing"]
    assert lines and "capped by leads" in lines[-1]
    assert "safety cap" not in lines[-1] and "Placing 20 calls now" not in lines[-1]
    assert "no more leads are due now" in lines[-1]
