"""Issue 16's consistency rules on every page of the console, in every role that may open it.

The pages are found in ``app.url_map`` (a new page is checked the day it exists) and rendered with representative
data seeded through the product's services: a campaign in Chicago, leads in Chicago and Los Angeles, a console in
Denver, so a time shown in the wrong zone, or in UTC, or in the lead's zone without saying so, reads differently.
Each page must: state the zone its times are in (the campaign's on a page about one campaign, else the console's)
and show every time in it; write rates as percentages with one decimal and durations as h:mm:ss; show no
command-line flag and no internal snake_case name; list callbacks in the order of their time as the page shows it.
"""

from __future__ import annotations

import io
import re
from datetime import timedelta

import pytest

from campaigns.accounts.models import User
from campaigns.agents import service as agents
from campaigns.callbacks import service as cb
from campaigns.campaign import dialing
from campaigns.campaign.scripts import set_script
from campaigns.campaign.service import create_campaign, set_status
from campaigns.dispatch.models import Call
from campaigns.dispatch.service import save_pacing_status
from campaigns.leads.models import Lead, LeadList
from campaigns.reports import daily, mailing
from dnc import internal
from dnc.registry import Store, generate, load_full
from tests.web import consistency as rules
from tests.web.conftest import USERS, AuthActions
from web.roles import allowed_roles

CONSOLE_ZONE, CAMPAIGN_ZONE = "America/Denver", "America/Chicago"
NOT_PAGES = {  # endpoints that answer files or JSON, not a page (JSON the pages render is checked below)
    "static", "agent.state", "floor.data", "floor.dialable", "lists.status", "lists.rejects", "reports.export",
    "reports.chart", "planner.export", "compliance.export", "compliance.export_pdf", "compliance.suppressed_csv",
    "auth.login"}
CAMPAIGN_PAGES = {"floor.index", "agent.seat", "reports.index", "reports.show", "reports.daily_index",
                  "reports.daily_day"}  # about one campaign without naming it in the path


@pytest.fixture
def app_config(app_config):
    return {**app_config, "CONSOLE_TIMEZONE": CONSOLE_ZONE}


def _lead(s, c, lst, first, phone, state, zone, t, **kw) -> Lead:
    lead = Lead(campaign_id=c.id, list_id=lst.id, phone=phone, first_name=first, last_name="Lee", state=state,
                postal_code="60601" if state == "IL" else "90012", timezones=zone, attempts=1,
                status=kw.pop("status", "retry"), custom={"Company": "Initech"}, created_at=t, updated_at=t, **kw)
    s.add(lead)
    s.flush()
    return lead


@pytest.fixture
def floor(sessions, clock, seed_users, app_config):
    """Spring (Chicago, active) with a script, settings changed twice, a list, leads in Chicago and Los Angeles,
    today's calls (a sale, a no-sale, an abandon, no answers), the agent-user on a call, Zoe ready for 1:15,
    the agent's callbacks at 10:30 in Chicago and 9:00 in Los Angeles (the second is the later), a missed callback,
    a published pacer
    decision, a company DNC entry, a stored daily report and a report schedule, a national registry in force."""
    t = clock.now()  # 2030-01-08 09:00 in Chicago
    with sessions() as s:
        path = generate(app_config["VAR_DIR"].parent / "registry.txt", 500, area_codes=("312", "213"), seed=3).path
        load_full(s, Store(app_config["DNC_DIR"]), [path], version_date=t.date(), loaded_by="test", now=t,
                  area_codes="312,213")
        c = create_campaign(s, "Spring", "+12125550100", t - timedelta(days=2))
        c.timezone = CAMPAIGN_ZONE
        set_status(s, c, "active", t - timedelta(days=1))
        set_script(s, c.id, "Hi {first_name}, this is {agent} for {seller}.", "mia", t)
        dialing.apply(s, c, {"wrap_limit": "60", "retry_busy": "0:30"}, "mia", t - timedelta(hours=3))
        lst = LeadList(campaign_id=c.id, name="March", source_filename="march-leads.csv", sha256="a" * 64,
                       uploaded_at=t - timedelta(days=1), uploaded_by="mia", rows=5, accepted=5)
        s.add(lst)
        s.flush()
        ann = _lead(s, c, lst, "Ann", "+13127364501", "IL", "America/Chicago", t, status="dialing")
        bo = _lead(s, c, lst, "Bo", "+12137364502", "CA", "America/Los_Angeles", t)
        _lead(s, c, lst, "Di", "+12137364503", "CA", "America/Los_Angeles", t, status="new")  # 07:00 there: waits
        seat = s.query(User).filter_by(username="agent-user").one().agent_id
        zoe = agents.create_agent(s, "Zoe", t - timedelta(seconds=75), campaign=c)
        agents.go_ready(s, zoe.id, t - timedelta(seconds=75))
        plan = [("+13127364511", "completed", "SALE", zoe.id), ("+13127364512", "completed", "NI", zoe.id),
                ("+13127364513", "abandoned", None, None), ("+13127364514", "no_answer", None, None)]
        for i, (phone, outcome, dispo, agent) in enumerate(plan):
            lead = _lead(s, c, lst, f"P{i}", phone, "IL", "America/Chicago", t)
            placed = t - timedelta(hours=2, minutes=i)
            live = placed + timedelta(seconds=8) if outcome in ("completed", "abandoned") else None
            s.add(Call(campaign_id=c.id, lead_id=lead.id, list_id=lst.id, phone=phone, attempt=1, placed_at=placed,
                       answered_at=live, answered_by="human" if live else None,
                       connected_at=live if agent else None, agent_id=agent, outcome=outcome,
                       ended_at=placed + timedelta(seconds=4000 if dispo == "SALE" else 95), disposition_code=dispo,
                       dispositioned_at=placed + timedelta(seconds=4030) if dispo else None, status="completed"))
        s.add(Call(campaign_id=c.id, lead_id=ann.id, list_id=lst.id, phone=ann.phone, attempt=1,
                   placed_at=t - timedelta(days=1), ended_at=t - timedelta(days=1), outcome="no_answer",
                   status="completed"))
        tomorrow = t + timedelta(days=1)
        cb.schedule(s, ann, tomorrow + timedelta(hours=1, minutes=30), t, agent_id=seat, note="after the school run")
        cb.schedule(s, bo, tomorrow + timedelta(hours=2), t, agent_id=seat, note="after lunch")  # 9:00 in LA
        cy = _lead(s, c, lst, "Cy", "+13127364504", "IL", "America/Chicago", t)
        cb.schedule(s, cy, t - timedelta(hours=3), t - timedelta(hours=4))
        assert cb.mark_missed(s, t) == 1  # listed in the queue and on the floor
        agents.assign(s, agents.get_agent(s, seat), c)
        agents.go_ready(s, seat, t - timedelta(seconds=30))
        call = Call(campaign_id=c.id, lead_id=ann.id, list_id=lst.id, phone=ann.phone, attempt=2,
                    placed_at=t - timedelta(seconds=20), answered_at=t, answered_by="human", status="answered")
        s.add(call)
        s.flush()
        assert agents.connect(s, call.id, seat, t)
        save_pacing_status(s, c.id, {
            "planned": 3, "allowed": 2, "placed": 2, "capped_by": "lines", "live_lines": 4, "mode": "predictive",
            "minute": {"placed": 14, "seconds": 60.0},
            "pacer": {"t": 100.0, "mode": "predictive", "n": 3, "agents_ready": 1, "agents_busy": 1,
                      "agents_staffed": 2, "calls_in_flight": 2, "answered_waiting": 0, "abandon_rate_30d": 0.0196,
                      "live_answers_30d": 102, "abandon_budget_left": 1.06, "p_live": 0.287,
                      "marginal_risk_now": 0.0123, "held_by": "risk",
                      "sentence": "Placing 3 calls now; held back by the risk that a person who answers finds no "
                                  "agent free (1.2 % for one more call)."}}, t - timedelta(seconds=2))
        internal.add_request(s, "+13127364514", channel="phone", received_at=t - timedelta(hours=1), added_by="mia",
                             reason="asked on the call")
        daily.generate(s, c, (t - timedelta(days=1)).date(), t - timedelta(hours=8))
        mailing.add_schedule(s, c, "summary", "boss@example.com", 7, None, t, "mia")
        s.commit()
        return {"campaign_id": c.id, "list_id": lst.id, "lead_id": ann.id, "code": "SALE",
                "user_id": s.query(User).filter_by(username="agent-user").one().id,
                "day": (t - timedelta(days=1)).date().isoformat()}


def _upload(client, auth, campaign_id: int) -> str:
    token = auth.token(f"/campaigns/{campaign_id}/upload")
    r = client.post(f"/campaigns/{campaign_id}/upload", content_type="multipart/form-data",
                    data={"csrf_token": token, "file": (io.BytesIO(b"Phone,First Name,ZIP\n3127364577,Cy,60601\n"),
                                                        "april-leads.csv")})
    return re.fullmatch(r"/uploads/([0-9a-f]{32})", r.headers["Location"]).group(1)


def pages(app, role: str, ids: dict) -> list[tuple[str, str]]:
    """(endpoint, URL) of every page ``role`` may open, with the seeded data's ids (each report by name)."""
    from campaigns.reports.catalog import REPORTS
    from web.compliance.views import SHEETS

    names = {"reports.show": [n for n in REPORTS if n != "summary"], "compliance.report": list(SHEETS)}
    query = {"reports": "?campaign=Spring", "reports.compare_campaigns": "", "reports.schedules": "",
             "leads.search": "?q=Ann", "compliance.lookup": "?number=3127364514"}
    out = []
    for rule in app.url_map.iter_rules():
        e = rule.endpoint
        if "GET" not in rule.methods or e in NOT_PAGES or e.startswith(("twilio.", "health.")):
            continue
        if role not in allowed_roles(e) or (e == "lists.mapping" and "job_id" not in ids):
            continue
        q = query.get(e, query.get(e.partition(".")[0], ""))
        for name in names.get(e, [None]):
            values = {a: ids[a] if a != "name" else name for a in rule.arguments}
            out.append((e, rule.build(values, append_unknown=False)[1] + q))
    return out


def expected_zone(endpoint: str, url: str) -> str:
    about_one = (endpoint in CAMPAIGN_PAGES or re.search(r"/(campaigns|lists|leads|uploads)/[0-9a-f]+", url)
                 or "campaign=" in url)
    return CAMPAIGN_ZONE if about_one else CONSOLE_ZONE


@pytest.mark.parametrize("role", sorted(USERS))
def test_every_page_follows_the_consistency_rules(app, floor, role):
    client = app.test_client()
    auth = AuthActions(client)
    assert auth.login(role).status_code == 302
    ids = dict(floor)
    if role in ("admin", "manager"):
        ids["job_id"] = _upload(client, auth, floor["campaign_id"])
    seen, problems = set(), []
    for endpoint, url in pages(app, role, ids):
        r = client.get(url, headers={"Accept": "text/html"})
        if r.status_code == 302 and endpoint == "home.index":
            continue  # the start page sends a role to its main page, which is walked itself
        assert r.status_code == 200, (role, url, r.status_code)
        root = rules.parse(r.get_data(as_text=True))
        found = (rules.problems_words(root) + rules.problems_figures(root)
                 + rules.problems_zone(root, expected_zone(endpoint, url)))
        for table, order, times in rules.callback_rows(root):
            if times != sorted(times, reverse=order == "desc"):
                found.append(f"callback table {table} is not in the order of its times: {times}")
        problems += [f"{url}: {p}" for p in found]
        seen.add(endpoint)
    assert not problems, f"{role}: {len(problems)} problems\n" + "\n".join(problems)
    assert seen, role


def test_the_pages_cover_every_role_and_the_callback_lists(app, floor):
    """The walk above is not vacuous: each role has its main pages, and both callback lists have rows to order."""
    walked = {role: {e for e, _ in pages(app, role, {**floor, "job_id": "0" * 32})} for role in USERS}
    assert {"agent.seat", "agent.callbacks"} <= walked["agent"]
    assert {"floor.index", "callbacks.index", "leads.detail", "lists.mapping"} <= walked["manager"]
    assert {"compliance.report", "compliance.lookup"} <= walked["compliance"]
    assert {"reports.show", "reports.compare_campaigns"} <= walked["sales"]
    assert {"users.index", "compliance.index", "floor.index"} <= walked["admin"]
    client = app.test_client()
    AuthActions(client).login("agent")
    tables = {t: times for t, _, times in rules.callback_rows(
        rules.parse(client.get("/agent/callbacks").get_data(as_text=True)))}
    assert len(tables.get("callbacks", [])) == 2, tables


def test_the_floor_data_the_page_renders_follows_the_rules(app, floor):
    """The floor's JSON is written into the page by floor.js as it comes: its times carry the campaign's zone, its
    pacer inputs read as words and percentages, its warnings name no command."""
    client = app.test_client()
    AuthActions(client).login("manager")
    f = client.get(f"/floor/{floor['campaign_id']}/data").get_json()
    funnel = client.get(f"/floor/{floor['campaign_id']}/funnel").get_json()
    names = rules.zone_names(CAMPAIGN_ZONE)
    assert f["at_text"].split()[-1] in names and f["pacing_at_text"].split()[-1] in names, f
    assert funnel["window_texts"] and all(t.split()[-1] in names for t in funnel["window_texts"]), funnel
    shown = [p["label"] + " " + p["text"] for p in f["pacing"]] + f["warnings"] + [f["sentence"], f["capped_text"]]
    shown += funnel["notes"] + funnel["window_texts"]
    root = rules.parse("<p>" + "</p><p>".join(shown) + "</p>")
    assert not rules.problems_words(root) + rules.problems_figures(root), shown
    by_key = {p["key"]: p["text"] for p in f["pacing"]}
    assert by_key["abandon_rate_30d"] == "2.0 %" and by_key["p_live"] == "28.7 %", by_key


def test_the_sign_in_page_follows_the_rules(app, floor):
    """The one page shown before signing in: no command to type, its zone stated (the console's)."""
    root = rules.parse(app.test_client().get("/login").get_data(as_text=True))
    assert not rules.problems_words(root) + rules.problems_zone(root, CONSOLE_ZONE)
