"""The worker's periodic jobs: lead recycling, registry freshness, callbacks coming due, the reports' jobs; what
each run returned kept on its lease row; ``dialer jobs``; and the schema of this branch's tables matching the
migrations."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import insert

from campaigns.agents import service as agent_svc
from campaigns.campaign.service import create_campaign
from campaigns.dispatch.models import Call
from campaigns.dispatch.recycle import recycle
from campaigns.leads.models import Lead, LeadList
from campaigns.leases import service as leases
from dialer.jobs.catalog import worker_jobs
from dialer.jobs.compliance import registry_freshness
from dialer.jobs.scheduler import Job, LeasedRunner


@pytest.fixture
def campaign(session, clock):
    c = create_campaign(session, "Spring", "+12125550100", clock.now())
    lst = LeadList(campaign_id=c.id, name="l", sha256="0" * 64, uploaded_at=clock.now())
    session.add(lst)
    session.flush()
    return c, lst


def lead(session, c, lst, now, phone, status="dialing", attempts=1) -> Lead:
    x = Lead(campaign_id=c.id, list_id=lst.id, phone=phone, status=status, attempts=attempts, custom={},
             created_at=now, updated_at=now)
    session.add(x)
    session.flush()
    return x


def test_recycling_returns_stranded_dialing_leads_by_the_campaigns_rules(session, clock, campaign):
    c, lst = campaign
    t0 = clock.now()
    agent = agent_svc.create_agent(session, "ann", t0, campaign=c)
    talked = lead(session, c, lst, t0, "+12125550101")  # an agent talked, never dispositioned
    session.add(Call(campaign_id=c.id, lead_id=talked.id, phone=talked.phone, placed_at=t0, answered_at=t0,
                     connected_at=t0, agent_id=agent.id, ended_at=t0 + timedelta(seconds=60), outcome="completed",
                     status="ended"))
    orphan = lead(session, c, lst, t0, "+12125550102", attempts=1)  # claimed, the process died: no call row
    wrapping = lead(session, c, lst, t0, "+12125550103")  # still in wrap: its disposition may come
    session.add(Call(campaign_id=c.id, lead_id=wrapping.id, phone=wrapping.phone, placed_at=t0, connected_at=t0,
                     agent_id=agent.id, ended_at=t0 + timedelta(minutes=40), outcome="completed", status="ended"))
    live = lead(session, c, lst, t0, "+12125550104")  # on a live call: never touched
    session.add(Call(campaign_id=c.id, lead_id=live.id, phone=live.phone, placed_at=t0, status="ringing"))
    session.flush()

    now = t0 + timedelta(minutes=45)
    report = recycle(session, now)
    assert (report.undispositioned, report.orphaned, report.ended) == (1, 1, 0)
    assert (talked.status, talked.attempts, talked.next_attempt_at) == ("retry", 1, now + timedelta(minutes=30))
    assert (orphan.status, orphan.attempts) == ("new", 0)  # the attempt never happened
    assert wrapping.status == live.status == "dialing"
    assert recycle(session, now).leads == []  # nothing twice


def test_registry_freshness_warns_a_week_ahead_and_flags_expired_versions(session, clock, tmp_path):
    from dnc.registry import Store, generate, load_full

    store = Store(tmp_path / "dnc")
    path = generate(tmp_path / "r.txt", 200, area_codes=["212", "305"], seed=1).path
    load_full(session, store, [path], version_date=(clock.now() - timedelta(days=25)).date(), loaded_by="t",
              now=clock.now(), area_codes="212")
    load_full(session, store, [path], version_date=(clock.now() - timedelta(days=3)).date(), loaded_by="t",
              now=clock.now(), area_codes="305")
    out = registry_freshness(session, clock.now(), store)
    assert out["loaded"] and out["limit_days"] == 31
    assert list(out["warn"].values()) == [["212"]] and out["expired"] == {}
    later = registry_freshness(session, clock.now() + timedelta(days=7), store)
    assert list(later["expired"].values()) == [["212"]] and later["warn"] == {}
    assert not registry_freshness(session, clock.now(), Store(tmp_path / "empty"))["loaded"]


def test_callbacks_due_marks_missed_callbacks_through_the_callback_engine(session, clock, campaign):
    from campaigns.callbacks import service as callbacks
    from campaigns.campaign.dial_settings import settings_of

    c, lst = campaign
    x = lead(session, c, lst, clock.now(), "+12125550111", status="retry")
    x.timezones = "America/New_York"
    cb = callbacks.schedule(session, x, clock.now() + timedelta(minutes=5), clock.now())
    session.commit()
    jobs = {j.name: j for j in worker_jobs()}
    miss = settings_of(session, c.id).callback_miss_s
    assert jobs["callbacks-due"].run(session, clock.now())["missed"] == 0
    later = cb.due_at + timedelta(seconds=miss + 1)
    assert jobs["callbacks-due"].run(session, later)["missed"] == 1
    assert session.get(callbacks.Callback, cb.id).status == "missed"


def test_the_worker_runs_every_periodic_job_once_each_with_the_reports_own(sessions, clock):
    names = [j.name for j in worker_jobs()]
    assert {"callbacks-due", "leads-recycle", "registry-freshness", "reports-daily", "reports-refresh"} <= set(names)
    assert len(names) == len(set(names))


def test_a_runs_result_and_error_stay_on_its_lease_row(sessions, clock):
    runner = LeasedRunner(sessions, clock, "w1")
    runner.run(Job("ok", lambda s, now: {"n": 3}, "interval", {"seconds": 1}))
    runner.run(Job("bad", lambda s, now: 1 / 0, "interval", {"seconds": 1}))
    with sessions() as s:
        rows = {x.name: x for x in leases.all_leases(s)}
    assert rows["ok"].last_result == {"n": 3} and rows["ok"].last_error is None and rows["ok"].holder is None
    assert rows["bad"].last_error == "ZeroDivisionError: division by zero"


def test_dialer_jobs_runs_one_now_and_lists_the_last_results(dialer, sessions, clock):
    stranded_since = datetime.now(UTC) - timedelta(hours=2)  # the CLI runs on the system clock
    with sessions() as s:
        c = create_campaign(s, "Spring", "+12125550100", clock.now())
        lst = LeadList(campaign_id=c.id, name="l", sha256="0" * 64, uploaded_at=clock.now())
        s.add(lst)
        s.flush()
        s.execute(insert(Lead), [{"campaign_id": c.id, "list_id": lst.id, "phone": "+12125550121",
                                  "status": "dialing", "attempts": 1, "custom": {},
                                  "created_at": stranded_since, "updated_at": stranded_since}])
        s.commit()
    r = dialer("jobs", "run", "leads-recycle", "--json")
    assert r.code == 0 and '"orphaned": 1' in r.out
    r = dialer("jobs", "list", "--json")
    assert r.code == 0 and '"job": "leads-recycle"' in r.out and '"orphaned": 1' in r.out
    r = dialer("jobs", "run", "nightly")
    assert r.code == 2 and "no job 'nightly'" in r.err


@pytest.mark.filterwarnings("ignore:Skipped unsupported reflection")  # another branch's expression index
def test_this_branchs_tables_match_their_migrations(engine):
    """Alembic's own comparison of the migrated database with the models of the Twilio branch's tables."""
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    import campaigns.tables  # noqa: F401
    from campaigns.db import Base

    mine = {"carrier_callbacks", "job_leases", "agent_lines", "agent_legs"}
    with engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True})
        diffs = [d for d in compare_metadata(ctx, Base.metadata) if _table_of(d) in mine]
    assert diffs == []


def _table_of(diff) -> str | None:
    op = diff[0] if isinstance(diff, list) else diff
    for item in op[1:]:
        name = getattr(item, "name", None) if not isinstance(item, str) else None
        table = getattr(item, "table", None)
        if table is not None and getattr(table, "name", None):
            return table.name
        if isinstance(item, str):
            return item
        if name:
            return name
    return None
