"""History from another dialer is the product's own history: DNC requests, closed leads, attempts, state caps and
reports are what the same calls placed here would give."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select, update

from campaigns.agents import service as agents
from campaigns.callimport.service import import_calls
from campaigns.campaign.models import Campaign
from campaigns.campaign.service import create_campaign
from campaigns.dispatch import service as dispatch
from campaigns.dispatch.models import Call
from campaigns.dispatch.rules import Candidate
from campaigns.leads.models import Lead, LeadList
from campaigns.reports.catalog import run_report
from dnc import consent
from dnc.reassigned import load_rnd
from dnc.registry import generate, load_full
from dnc.tables import InternalEntry

NY = ZoneInfo("America/New_York")
T0 = datetime(2030, 1, 1, tzinfo=UTC)
# who, day of January 2030, New York time, outcome, disposition: the same history for both campaigns
HISTORY = [
    ("dnc", 5, "10:00", "completed", "DNC"),
    ("sale", 5, "11:00", "no_answer", None),
    ("sale", 6, "10:00", "completed", "SALE"),
    ("ni", 6, "12:00", "completed", "NI"),
    ("again", 6, "13:00", "no_answer", None),
    ("again", 7, "13:00", "busy", None),
    ("fl", 8, "09:10", "no_answer", None),  # three calls to a Florida number this morning (now: 10:00)
    ("fl", 8, "09:20", "busy", None),
    ("fl", 8, "09:40", "no_answer", None),
]
NUMBERS = {"imported": {"dnc": "+12122342301", "sale": "+12122342302", "ni": "+12122342303",
                        "again": "+12122342304", "fl": "+13052342305", "fresh": "+12122342306"},
           "here": {"dnc": "+12122343301", "sale": "+12122343302", "ni": "+12122343303",
                    "again": "+12122343304", "fl": "+13052343305", "fresh": "+12122343306"}}
SAME = ("dials", "live_answers", "contacts", "abandoned", "no_answers", "busies", "closes", "dnc_requests",
        "completed", "first_contacts", "first_contact_closes", "first_call_close", "hit_rate", "contact_rate",
        "conversion", "leads", "final_leads", "penetration")
LIST_CLOSE = ("prospects", "suppressed", "never_reached", "reached_not_closed", "closed", "close_rate",
              "final_leads", "penetration")


def at(day: int, hhmm: str, seconds: int = 0) -> datetime:
    h, m = (int(x) for x in hhmm.split(":"))
    return datetime(2030, 1, day, h, m, tzinfo=NY).astimezone(UTC) + timedelta(seconds=seconds)


def campaign_with_leads(s, name: str, uploaded_at: datetime) -> int:
    c = create_campaign(s, name, "+12125554100", T0)
    c.status, c.retry_no_answer_s, c.retry_busy_s = "active", 0, 0  # every lead due again at once (the "here" run)
    lst = LeadList(campaign_id=c.id, name="Spring", sha256=name.ljust(64, "0"), uploaded_at=uploaded_at)
    s.add(lst)
    s.flush()
    for key, phone in NUMBERS[name.lower()].items():
        s.add(Lead(campaign_id=c.id, list_id=lst.id, phone=phone, state="FL" if key == "fl" else "NY", custom={},
                   created_at=T0, updated_at=T0))
    consent.add(s, NUMBERS[name.lower()]["fl"], kind="pewc", granted_at=T0, evidence_ref="signed form",
                added_by="sales", recorded_at=T0)
    s.flush()
    return c.id


def history_csv(tmp_path) -> str:
    rows = ["Phone,List,Placed At,Connected At,Agent,Ended At,Outcome,Disposition,Dispositioned At"]
    for key, day, hhmm, outcome, dispo in HISTORY:
        fmt = "%Y-%m-%d %H:%M:%S"
        placed = at(day, hhmm).astimezone(NY)
        if outcome == "completed":
            rows.append(f"{NUMBERS['imported'][key]},Spring,{placed:{fmt}},{placed + timedelta(seconds=5):{fmt}},"
                        f"carol,{placed + timedelta(seconds=65):{fmt}},{outcome},{dispo},"
                        f"{placed + timedelta(seconds=75):{fmt}}")
        else:
            rows.append(f"{NUMBERS['imported'][key]},Spring,{placed:{fmt}},,,{placed + timedelta(seconds=25):{fmt}},"
                        f"{outcome},,")
    path = tmp_path / "history.csv"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return str(path)


def place_here(s, cid: int) -> None:
    """The same calls placed by this product: claimed, ended, connected and dispositioned like the floor does."""
    camp = s.get(Campaign, cid)
    agent = agents.create_agent(s, "dave", T0, campaign=camp)
    for key, day, hhmm, outcome, dispo in HISTORY:
        phone = NUMBERS["here"][key]
        s.execute(update(Lead).where(Lead.campaign_id == cid).values(priority=0))
        s.execute(update(Lead).where(Lead.campaign_id == cid, Lead.phone == phone).values(priority=9))
        claim, = dispatch.claim(s, camp, 1, at(day, hhmm))
        assert claim.phone == phone
        if outcome == "completed":
            agents.set_state(s, agent.id, "ready", at(day, hhmm))
            assert agents.connect(s, claim.call_id, agent.id, at(day, hhmm, 5))
            s.expire_all()  # each step is its own transaction on the floor
            dispatch.end(s, claim.call_id, "completed", at(day, hhmm, 65))
            agents.disposition(s, claim.call_id, dispo, at(day, hhmm, 75))
        else:
            dispatch.end(s, claim.call_id, outcome, at(day, hhmm, 25))
    s.flush()


@pytest.fixture
def registry_dir(tmp_path, setenv, session, clock):
    """A fresh national registry for 212 and 305 (the gate's default store) and RND data of the day."""
    root = tmp_path / "dnc"
    setenv(DIALER_DNC_DIR=str(root))
    from dnc.registry import Store

    path = generate(tmp_path / "registry.txt", 500, area_codes=("212", "305"), seed=5).path
    load_full(session, Store(root), [path], version_date=clock.now().date(), loaded_by="test", now=clock.now(),
              area_codes="212,305")
    empty = tmp_path / "rnd.csv"  # RND data of the day recording no disconnection: the Florida consent stands
    empty.write_text("")
    load_rnd(session, empty, version_date=clock.now().date(), loaded_by="test", now=clock.now())
    session.commit()


def _gate(s, cid: int, key: str, now: datetime):
    lead = s.scalar(select(Lead).where(Lead.campaign_id == cid, Lead.phone == NUMBERS["imported"][key]))
    return dispatch.dnc_gate(s, Candidate(lead.id, cid, lead.phone, lead.state, None, ()), now)


def test_imported_history_is_the_products_own(sessions, session, registry_dir, clock, tmp_path):
    now = clock.now()  # Tuesday 8 January 2030, 10:00 in New York
    with sessions.begin() as s:
        imported = campaign_with_leads(s, "Imported", uploaded_at=now)  # the list arrives after its history
        here = campaign_with_leads(s, "Here", uploaded_at=T0)
    r = import_calls(sessions, "Imported", history_csv(tmp_path), now=now)
    assert (r.imported, r.rejected, r.attempts_counted, r.dnc_requests) == (9, 0, 9, 1)
    assert r.leads_moved == {"closed": 1, "dnc": 1, "done": 1, "retry": 2}
    with sessions.begin() as s:
        place_here(s, here)

    with sessions.begin() as s:
        entry = s.scalar(select(InternalEntry).where(InternalEntry.e164 == NUMBERS["imported"]["dnc"]))
        assert entry.effective_at == at(5, "10:00", 75) and entry.channel == "agent"  # honoured since the call
        assert entry.scope == "company" and "history.csv line 2" in entry.source_ref
        assert _gate(s, imported, "dnc", now).codes == ("internal_dnc",)
        fl = _gate(s, imported, "fl", now)
        assert fl.codes == ("state_cap",) and fl.temporary
        assert _gate(s, imported, "fresh", now).allowed

        def leads(cid, name):
            return {k: tuple(s.execute(select(Lead.status, Lead.attempts).where(Lead.campaign_id == cid,
                                                                               Lead.phone == phone)).one())
                    for k, phone in NUMBERS[name].items()}

        got, want = leads(imported, "imported"), leads(here, "here")
        assert got == want, (got, want)
        assert got["sale"] == ("closed", 2) and got["dnc"][0] == "dnc" and got["ni"][0] == "done"

    for name, kw in (("summary", {}), ("hit-rate", {"by": "list"})):
        with sessions.begin() as s:
            a = run_report(s, name, "Imported", now, "2030-01-01", "2030-01-08", **kw).rows
            b = run_report(s, name, "Here", now, "2030-01-01", "2030-01-08", **kw).rows
        for ra, rb in zip(a, b, strict=True):
            assert {k: ra[k] for k in SAME if k in ra} == {k: rb[k] for k in SAME if k in rb}, name
    with sessions.begin() as s:
        a = run_report(s, "list-close", "Imported", now, "2030-01-01", "2030-01-08").rows
        b = run_report(s, "list-close", "Here", now, "2030-01-01", "2030-01-08").rows
        assert [{k: r[k] for k in LIST_CLOSE} for r in a] == [{k: r[k] for k in LIST_CLOSE} for r in b]
        assert a[0]["closed"] == 1 and a[0]["final_leads"] == 3
        # a range that ends before the list was uploaded still shows the list its dials belong to
        early = run_report(s, "list-close", "Imported", now, "2030-01-05", "2030-01-06").rows
        assert [r["list"] for r in early] == ["Spring"]

    # the auditor's reconciliation judges the imported calls as it judges the same calls placed here
    from campaigns.compliance import verdicts

    with sessions.begin() as s:
        verdicts.refresh(s, None, now)
        found = {}
        for v in verdicts.findings(s, T0, now + timedelta(days=1)):
            name = "imported" if v.campaign_id == imported else "here"
            key = next(k for k, p in NUMBERS[name].items() if p == v.e164)
            found.setdefault(name, []).append((key, v.placed_at, v.codes))
        # (the registry here was loaded after these calls, so each is also registry_stale, on both sides alike)
        assert found["imported"] and sorted(found["imported"]) == sorted(found["here"])


def test_rows_without_an_end_are_not_live_calls(sessions, session, clock, tmp_path):
    with sessions.begin() as s:
        campaign_with_leads(s, "Imported", uploaded_at=T0)
    path = tmp_path / "open.csv"
    path.write_text("phone,placed at,outcome\n+12122342304,2030-01-06 10:00:00,no answer\n"
                    "+12122342304,2030-01-07 10:00:00,busy\n", encoding="utf-8")
    r = import_calls(sessions, "Imported", path, now=clock.now())  # two "live" calls of one number: refused before
    assert (r.imported, r.rejected) == (2, 0)
    with sessions() as s:
        calls = s.scalars(select(Call).where(Call.phone == "+12122342304").order_by(Call.placed_at)).all()
        assert [c.ended_at for c in calls] == [c.placed_at for c in calls]
        assert s.scalar(select(func.count()).select_from(Call).where(Call.ended_at.is_(None))) == 0
