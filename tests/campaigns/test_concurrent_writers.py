"""Finding 11 of issue 15: writes that must be unique are unique in the database, whatever two writers believe.

Each test starts the two writers together and makes sure they really overlap: the first is held inside its
transaction until the second has started its own (on PostgreSQL: is seen waiting for a lock; on SQLite: has begun a
transaction, whose BEGIN IMMEDIATE then waits for the first's write lock), or has finished, then let go.
"""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
from sqlalchemy import event, func, select, text

from campaigns.callbacks import service as callbacks
from campaigns.callbacks.models import Callback
from campaigns.campaign.service import CampaignSettings, create_campaign
from campaigns.db import session_factory
from campaigns.leadimport.service import import_leads
from campaigns.leads.models import Lead, LeadList
from dnc.errors import UserError

ROWS = 300


class Begins:
    """The threads that sent SQLite a BEGIN (the product's is BEGIN IMMEDIATE) on ``engine``: a thread listed here
    is taking, or waiting for, the write lock (SQLite's busy wait itself is invisible from outside)."""

    def __init__(self, engine) -> None:
        self.threads: set[str] = set()
        event.listen(engine, "before_cursor_execute", self._sent)

    def _sent(self, _conn, _cursor, statement: str, *_args) -> None:
        if statement.lstrip().upper().startswith("BEGIN"):
            self.threads.add(threading.current_thread().name)


def _waiting(engine, begins: Begins, thread: threading.Thread) -> bool:
    """Whether the second writer is under way: on PostgreSQL some session waits for a lock; on SQLite its thread
    began a transaction (waiting there for the first's write lock)."""
    if engine.dialect.name != "postgresql":
        return thread.name in begins.threads
    with engine.connect() as c:
        return bool(c.scalar(text("SELECT count(*) FROM pg_locks WHERE NOT granted")))


def _until(predicate, timeout: float = 10.0) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(0.05)
    return False


def _held_scrubber(entered: threading.Event, release: threading.Event):
    """A scrubber that passes every row but holds the first batch until released: the import sits inside its
    transaction, its list row written, while the other import starts."""
    def scrub(candidates):
        entered.set()
        release.wait(30)
        return [()] * len(candidates)
    return scrub


@pytest.mark.parametrize("dedupe", ["campaign", "system"])
def test_two_imports_of_one_file_at_once_make_one_list(product_engine, clock, tmp_path, dedupe):
    sessions = session_factory(product_engine)
    with sessions.begin() as s:
        create_campaign(s, "Spring", "+12125550100", clock.now(), CampaignSettings(dedupe_scope=dedupe))
    path = tmp_path / "leads.csv"
    path.write_text("Phone\n" + "".join(f"212736{i:04d}\n" for i in range(ROWS)))
    entered, release = threading.Event(), threading.Event()
    outcomes: dict[str, object] = {}

    def run(name: str, scrubber) -> None:
        try:
            outcomes[name] = import_leads(sessions, "Spring", path, now=clock.now(), scrubber=scrubber).accepted
        except UserError as e:
            outcomes[name] = str(e)

    first = threading.Thread(target=run, args=("first", _held_scrubber(entered, release)))
    second = threading.Thread(target=run, args=("second", None))
    begins = Begins(product_engine)
    first.start()
    assert entered.wait(30), "the first import never reached its scrub"
    second.start()
    try:
        assert _until(lambda: "second" in outcomes or _waiting(product_engine, begins, second))
    finally:
        release.set()
        first.join(60)
        second.join(60)
    assert outcomes["first"] == ROWS
    assert "already imported" in str(outcomes["second"]), outcomes
    with sessions() as s:
        assert s.scalar(select(func.count()).select_from(LeadList)) == 1
        assert s.scalar(select(func.count()).select_from(Lead)) == ROWS  # no lead twice: nobody is dialed twice


def test_two_imports_of_overlapping_files_at_once_dedupe_against_each_other(product_engine, clock, tmp_path):
    sessions = session_factory(product_engine)
    with sessions.begin() as s:
        create_campaign(s, "Spring", "+12125550100", clock.now(), CampaignSettings(dedupe_scope="campaign"))
    a, b = tmp_path / "a.csv", tmp_path / "b.csv"
    a.write_text("Phone\n" + "".join(f"212736{i:04d}\n" for i in range(ROWS)))
    b.write_text("Phone,Note\n" + "".join(f"212736{i:04d},b\n" for i in range(ROWS // 2, ROWS + ROWS // 2)))
    entered, release = threading.Event(), threading.Event()
    done: dict[str, object] = {}
    first = threading.Thread(target=lambda: done.setdefault("a", import_leads(
        sessions, "Spring", a, now=clock.now(), scrubber=_held_scrubber(entered, release))))
    second = threading.Thread(target=lambda: done.setdefault("b", import_leads(sessions, "Spring", b,
                                                                                now=clock.now())))
    begins = Begins(product_engine)
    first.start()
    assert entered.wait(30)
    second.start()
    try:
        assert _until(lambda: "b" in done or _waiting(product_engine, begins, second))
    finally:
        release.set()
        first.join(60)
        second.join(60)
    assert done["a"].accepted == ROWS and done["b"].duplicates == ROWS // 2
    with sessions() as s:
        assert s.scalar(select(func.count(Lead.phone.distinct()))) == s.scalar(select(func.count(Lead.id))) \
            == ROWS + ROWS // 2


def test_two_callback_schedules_for_one_lead_at_once_leave_one_open_callback(product_engine, clock):
    sessions = session_factory(product_engine)
    t = clock.now()
    with sessions.begin() as s:
        c = create_campaign(s, "Spring", "+12125550100", t)
        lead = _lead(s, c, t)
        s.flush()
        lead_id = lead.id
    first = sessions()
    callbacks.schedule(first, first.get(Lead, lead_id), t + timedelta(hours=2), t, note="first")
    done: list[str] = []

    def second() -> None:
        with sessions() as s:
            try:
                callbacks.schedule(s, s.get(Lead, lead_id), t + timedelta(hours=3), t, note="second")
                s.commit()
                done.append("scheduled")
            except Exception as e:  # the database refusing a second open callback is a failure too
                done.append(repr(e))

    other = threading.Thread(target=second)
    begins = Begins(product_engine)
    other.start()
    try:
        assert _until(lambda: bool(done) or _waiting(product_engine, begins, other))
        first.commit()
    finally:
        first.close()
        other.join(60)
    assert done == ["scheduled"]
    with sessions() as s:
        open_ = s.scalars(select(Callback).where(Callback.lead_id == lead_id, Callback.status.in_(callbacks.OPEN)))
        assert [cb.note for cb in open_] == ["second"]  # the later one replaced the first


def test_the_database_refuses_a_second_open_callback_for_a_lead(sessions, clock):
    t = clock.now()
    with sessions() as s:
        c = create_campaign(s, "Spring", "+12125550100", t)
        lead = _lead(s, c, t)
        s.flush()
        for note in ("one", "two"):
            s.add(Callback(campaign_id=c.id, lead_id=lead.id, requested_at=t, due_at=t, status="pending",
                           note=note, created_at=t))
        with pytest.raises(Exception, match="(?i)unique"):
            s.flush()


def _lead(s, campaign, t) -> Lead:
    lst = LeadList(campaign_id=campaign.id, name="one", sha256="f" * 64, uploaded_at=t)
    s.add(lst)
    s.flush()
    lead = Lead(campaign_id=campaign.id, list_id=lst.id, phone="+12127364400", status="new", created_at=t,
                updated_at=t)
    s.add(lead)
    return lead
