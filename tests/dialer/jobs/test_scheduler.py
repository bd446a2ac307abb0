"""Scheduler jobs never run twice at once: APScheduler guards one process, the lease row guards the database."""

import threading
import time

from apscheduler.schedulers.background import BackgroundScheduler

from campaigns.leases import service as leases
from dialer.jobs.scheduler import Job, LeasedRunner, build_scheduler


def test_a_second_process_skips_a_job_whose_lease_is_held(sessions, clock):
    a, b = LeasedRunner(sessions, clock, "host:1"), LeasedRunner(sessions, clock, "host:2")
    with sessions() as s, s.begin():
        assert leases.acquire(s, "nightly", "host:1", clock.now(), 600)
    job = Job("nightly", lambda session, now: "done", "interval", {"seconds": 60})
    assert not b.run(job).ran
    clock.advance(601)  # the holder died: its lease expires on its own
    assert b.run(job).ran and b.history[-1].result == "done"
    assert a.run(job).ran  # released after the run


def test_concurrent_runs_in_two_processes_execute_once(sessions, clock):
    entered, release = threading.Event(), threading.Event()
    calls = []

    def slow(session, now):
        calls.append(now)
        entered.set()
        release.wait(5)

    job = Job("recycle", slow, "interval", {"seconds": 1})
    first = LeasedRunner(sessions, clock, "w1")
    t = threading.Thread(target=first.run, args=(job,))
    t.start()
    assert entered.wait(5)
    second = LeasedRunner(sessions, clock, "w2").run(job)
    release.set()
    t.join(5)
    assert not second.ran and len(calls) == 1 and first.history[-1].ran


def test_a_failing_job_releases_its_lease_and_records_the_error(sessions, clock):
    def boom(session, now):
        raise RuntimeError("registry file missing")

    runner = LeasedRunner(sessions, clock, "w1")
    run = runner.run(Job("fresh", boom, "interval", {"hours": 1}))
    assert run.ran and run.error == "RuntimeError: registry file missing"
    assert LeasedRunner(sessions, clock, "w2").run(Job("fresh", lambda s, n: 1, "interval", {"hours": 1})).ran


def test_jobs_are_added_once_with_max_instances_and_coalesce(sessions, clock):
    ran = []
    runner = LeasedRunner(sessions, clock, "w1")
    sched = build_scheduler(runner, [Job("tick", lambda s, now: ran.append(now), "interval", {"seconds": 0.05})],
                            BackgroundScheduler(timezone="UTC"))
    (job,) = sched.get_jobs()
    assert job.max_instances == 1 and job.coalesce
    sched.start()
    try:
        deadline = time.monotonic() + 3
        while not ran and time.monotonic() < deadline:
            time.sleep(0.02)
    finally:
        sched.shutdown(wait=True)
    assert ran and ran[0] == clock.now()  # the job got the injected clock's time


def test_the_workers_jobs_run_one_at_a_time_on_sqlite_and_together_on_postgresql(sessions, clock):
    """At a worker's start every interval job is due at once. On SQLite each takes the file's one write lock, so
    running them on ten threads only queued them, and the dial loop, behind each other: they run one at a time
    there. PostgreSQL has no such lock and keeps the pool."""
    from dialer.jobs.catalog import start_worker_scheduler

    spans: list[tuple[float, float]] = []
    lock = threading.Lock()

    def slow(session, now):
        start = time.monotonic()
        time.sleep(0.3)
        with lock:
            spans.append((start, time.monotonic()))

    jobs = [Job(f"job{i}", slow, "interval", {"hours": 1}) for i in range(3)]
    sched = start_worker_scheduler(sessions, clock, "w1", jobs)
    try:
        deadline = time.monotonic() + 20
        while len(spans) < 3 and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        sched.shutdown(wait=True)
    assert len(spans) == 3
    spans.sort()
    overlapped = any(b[0] < a[1] for a, b in zip(spans, spans[1:], strict=False))
    assert overlapped == (sessions.kw["bind"].dialect.name != "sqlite"), spans
