"""Every route x every role (and signed out), on real objects: GET, and POST with a valid CSRF token.

``test_console_roles`` walks the rules with a placeholder id and no CSRF token, so most views answer 404 or 400 before
they read anything. Here each argument names an object the seeded database holds (the campaign, its list, a lead, a
call, a callback, an upload, a schedule, a user ...), and each form carries its token, so the views run past their
look-ups: whoever may not open a route gets 403 (the sign-in page when signed out), whoever may is never refused, and
nobody gets a server error. The matrix is ``test_console_roles``' design, written down once. Then the per-object
checks the role gate cannot make (IDOR): an agent naming another agent's call or callback changes nothing.
"""

from __future__ import annotations

import io
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from werkzeug.datastructures import FileStorage

from campaigns.accounts.models import ROLES, User
from campaigns.accounts.users import create_user
from campaigns.agents import service as agents
from campaigns.agents.models import Agent
from campaigns.callbacks.models import Callback
from campaigns.campaign.models import Campaign
from campaigns.campaign.service import create_campaign
from campaigns.dispatch.models import Call
from campaigns.leads.models import Lead, LeadList
from campaigns.reports.catalog import REPORTS
from campaigns.reports.mailing import add_schedule
from tests.web.conftest import PASSWORD, USERS, AuthActions, csrf_from
from tests.web.consistency import parse
from tests.web.test_console_agent import spring as seed_spring
from tests.web.test_console_roles import expected_roles
from web import imports
from web.forms import IdConverter

OTHER_AGENT = "agent-two"


@pytest.fixture
def world(app, sessions, clock, password_hash):
    """One of everything a route can name; the agent-user's seat holds nothing, agent-two's holds a call."""
    t = clock.now()
    spring = seed_spring(sessions, clock)  # campaign Spring, list March, Ann Lee (dialing)
    with sessions() as s:
        c = s.get(Campaign, spring["campaign"])
        ann = s.get(Lead, spring["lead"])
        bob = Lead(campaign_id=c.id, list_id=spring["list"], phone="+12125550124", first_name="Bob", last_name="Lee",
                   timezones="America/New_York", created_at=t - timedelta(days=1), updated_at=t)
        s.add(bob)
        other = create_user(s, OTHER_AGENT, "agent", "", t, password_hash=password_hash)
        spare = create_user(s, "spare-user", "sales", "", t, password_hash=password_hash)
        s.flush()
        seat = s.query(User).filter_by(username=USERS["agent"]).one().agent_id
        agents.assign(s, s.get(Agent, other.agent_id), c)
        agents.go_ready(s, other.agent_id, t)
        call = Call(campaign_id=c.id, lead_id=ann.id, list_id=ann.list_id, phone=ann.phone, attempt=1,
                    placed_at=t - timedelta(seconds=20), answered_at=t - timedelta(seconds=5), answered_by="human",
                    status="answered")
        s.add(call)
        s.flush()
        assert agents.connect(s, call.id, other.agent_id, t)
        callback = Callback(campaign_id=c.id, lead_id=bob.id, agent_id=other.agent_id, requested_at=t + timedelta(
            days=1), due_at=t + timedelta(days=1), created_at=t)
        s.add(callback)
        schedule = add_schedule(s, c, next(iter(REPORTS)), "boss@example.com", 8, None, t, "manager-user")
        s.commit()
        ids = {"campaign_id": c.id, "list_id": ann.list_id, "lead_id": ann.id, "call_id": call.id,
               "callback_id": callback.id, "agent_id": other.agent_id, "user_id": spare.id,
               "schedule_id": schedule.id, "other_seat": other.agent_id, "seat": seat}
    job = imports.new_job(app.config["UPLOAD_DIR"], FileStorage(io.BytesIO(b"phone,first_name\n2125550125,Cy\n"),
                                                                filename="april.csv"), ids["campaign_id"], "Spring",
                          "manager-user", t)
    ids["job_id"] = job.id
    return ids


def values(world: dict, clock, rule) -> dict:
    """The arguments of ``rule``, each naming a seeded object."""
    known = {**world, "code": "SALE", "name": "agents", "fmt": "csv", "day": clock.now().date().isoformat(),
             "filename": "console.css"}
    if rule.endpoint.startswith("compliance."):
        known["name"] = "scrubs"
    return {a: known[a] for a in rule.arguments}


def walk(app, world, clock) -> list[tuple[str, str, str]]:
    """(endpoint, method, path): GETs first, then POSTs (they may change or delete what a GET reads)."""
    gets, posts = [], []
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "auth.logout":
            continue  # would end the session the walk uses (test_console_auth covers it)
        path = rule.build(values(world, clock, rule), append_unknown=False)[1]
        if "GET" in rule.methods:
            gets.append((rule.endpoint, "GET", path))
        if "POST" in rule.methods:
            posts.append((rule.endpoint, "POST", path))
    return gets + posts


def answer(client, method: str, path: str, token: str | None):
    """The status code, and the exception a 500 would have been (the test app propagates it)."""
    try:
        r = client.open(path, method=method, headers={"Accept": "text/html"},
                        data={"csrf_token": token} if method == "POST" and token else None)
    except Exception as e:  # noqa: BLE001  (any exception is the server error being looked for)
        return 500, f"{type(e).__name__}: {e}"
    return r.status_code, r.headers.get("Location", "")


@pytest.mark.parametrize("role", [*ROLES, None], ids=[*ROLES, "signed-out"])
def test_each_role_on_real_objects_gets_its_routes_and_only_them(app, world, clock, role):
    client = app.test_client()
    auth = AuthActions(client)
    if role is not None:
        assert auth.login(role).status_code == 302
    token = auth.token("/account/password" if role else "/login")
    wrong = []
    for endpoint, method, path in walk(app, world, clock):
        status, where = answer(client, method, path, token)
        want = expected_roles(endpoint)
        if status >= 500 and status != 503:  # 503: Twilio not configured, no worker for /readyz
            wrong.append((method, path, status, where))
        elif want is None:
            continue
        elif role is None:
            if status != 302 or not where.startswith("/login"):
                wrong.append((method, path, status, where))
        elif role in want:
            if status in (401, 403) or "/login" in where:
                wrong.append((method, path, status, where))
        elif status != 403:
            wrong.append((method, path, status, where))
    assert not wrong, f"{role or 'signed out'}: {wrong}"


def _other_call_state(sessions, world) -> tuple:
    with sessions() as s:
        call = s.get(Call, world["call_id"])
        cb = s.get(Callback, world["callback_id"])
        return (call.status, call.agent_id, call.outcome, call.disposition_code, call.notes, call.ended_at,
                call.hangup_requested_at, cb.status, cb.due_at, cb.agent_id)


def test_an_agent_naming_another_agents_call_or_callback_changes_nothing(app, world, sessions, clock):
    client = app.test_client()
    auth = AuthActions(client)
    auth.login("agent")
    assert auth.post("/agent/start", {"campaign": str(world["campaign_id"])}, page="/agent/").status_code == 302
    before = _other_call_state(sessions, world)
    token = auth.token("/agent/")
    call, cb = world["call_id"], world["callback_id"]
    later = (clock.now() + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")
    attempts = [
        (f"/agent/unfinished/{call}", {"code": "SALE", "notes": "mine now"}),
        ("/agent/disposition", {"call": str(call), "code": "SALE", "notes": "mine now"}),
        *((f"/agent/{a}", {"call": str(call)}) for a in ("hangup", "callerid/flag", "after-call")),
        *((f"/agent/call/{a}", {"call": str(call), "number": "+12125550199"})
          for a in ("hold", "resume", "transfer", "consult", "cancel", "complete")),
        (f"/agent/callbacks/{cb}/move", {"when": later, "callback_at": later}),
        (f"/agent/callbacks/{cb}/cancel", {"reason": "mine now"}),
        *((f"/agent/preview/{a}", {"lead_id": str(world["lead_id"])}) for a in ("dial", "skip")),  # on that call
    ]
    for path, data in attempts:
        r = client.post(path, data={**data, "csrf_token": token})
        assert r.status_code in (302, 303, 400, 403, 404, 409), (path, r.status_code)
        assert _other_call_state(sessions, world) == before, path
    assert "Ann" not in client.get("/agent/").get_data(as_text=True)  # another seat's customer is never shown
    assert client.get("/agent/callbacks").get_data(as_text=True).count("Bob") == 0


def test_the_other_agent_can_sign_in(app, world):
    """The fixture's second agent is a real account (so the IDOR test's refusals are not about a broken seat)."""
    client = app.test_client()
    r = client.post("/login", data={"username": OTHER_AGENT, "password": PASSWORD,
                                    "csrf_token": csrf_from(client.get("/login").get_data(as_text=True))})
    assert r.status_code == 302


def test_the_walk_names_real_objects(app, world, clock, sessions):
    """Guard on the walk itself: every argument resolved to a seeded object (a 404 everywhere would prove nothing)."""
    paths = {e: p for e, _, p in walk(app, world, clock)}
    assert paths["campaigns.detail"] == f"/campaigns/{world['campaign_id']}"
    client = app.test_client()
    AuthActions(client).login("admin")
    for endpoint in ("campaigns.detail", "lists.detail", "leads.detail", "lists.mapping", "listadmin.reset",
                     "campaigns.disposition", "reports.show", "compliance.report"):
        assert client.get(paths[endpoint]).status_code == 200, endpoint


def forms_of(html: str, page: str) -> list[tuple[str, dict[str, str]]]:
    """Each POST form of a page as a browser sends it untouched (its defaults), once per named submit button."""
    out = []
    for form in parse(html).find("form"):
        if form.attrs.get("method", "get").lower() != "post":
            continue
        data: dict[str, str] = {}
        buttons = []
        for n in form.walk():
            name, kind = n.attrs.get("name"), n.attrs.get("type", "text" if n.tag == "input" else "submit")
            if not name or "disabled" in n.attrs:
                continue
            if n.tag == "button" or (n.tag == "input" and kind == "submit"):
                buttons.append((name, n.attrs.get("value", "")))
            elif n.tag == "input" and kind in ("checkbox", "radio"):
                if "checked" in n.attrs:
                    data[name] = n.attrs.get("value", "on")
            elif n.tag == "input" and kind != "file":
                data.setdefault(name, n.attrs.get("value", ""))
            elif n.tag == "textarea":
                data[name] = n.text()
            elif n.tag == "select":
                options = n.find("option")
                chosen = [o for o in options if "selected" in o.attrs] or options[:1]
                data[name] = chosen[0].attrs.get("value", chosen[0].text()) if chosen else ""
        action = urlsplit(form.attrs.get("action") or page).path
        out += [(action, {**data, name: value}) for name, value in buttons] or [(action, data)]
    return out


@pytest.mark.parametrize("role", ROLES)
def test_every_form_sent_as_shown_is_answered_and_refused_to_the_other_roles(app, world, clock, role):
    """Each form of each page a role opens, sent back with its defaults: never a server error; another role that may
    not use the address gets 403 with the same form (a valid token of its own). Twice: what the first round changed
    (the agent's seat logged in) shows forms the first could not."""
    client = app.test_client()
    AuthActions(client).login(role)
    others = {}
    for other in (r for r in ROLES if r != role):
        others[other] = c = app.test_client()
        AuthActions(c).login(other)
    wrong, sent = [], set()
    adapter = app.url_map.bind("localhost")
    for _ in range(2):
        forms = [f for f in _forms_on_every_page(app, client, world, clock) if _key(f) not in sent]
        sent |= {_key(f) for f in forms}
        for action, data in forms:
            endpoint = adapter.match(action, method="POST")[0]
            for who, c in [(role, client), *others.items()]:
                status = _send(c, action, data)
                allowed = who in (expected_roles(endpoint) or ROLES)
                if isinstance(status, str) or status >= 500 or (not allowed and status != 403) or \
                        (allowed and status in (401, 403)):
                    wrong.append((who, action, data, status))
    assert sent
    assert not wrong, wrong


def _key(form: tuple[str, dict[str, str]]) -> tuple:
    return form[0], tuple(sorted((k, v) for k, v in form[1].items() if not k.endswith("csrf_token")))


def _forms_on_every_page(app, client, world, clock) -> list[tuple[str, dict[str, str]]]:
    forms = []
    for _, method, path in walk(app, world, clock):
        if method == "GET" and not path.startswith(("/static", "/twilio")):
            r = client.get(path, headers={"Accept": "text/html"})
            if r.status_code == 200 and r.mimetype == "text/html":
                forms += [f for f in forms_of(r.get_data(as_text=True), path) if f[0] != "/logout"]
    return forms


def _send(client, action: str, data: dict[str, str]) -> int | str:
    """POST with this client's own token (in a prefixed form's field too); a propagated exception is a 500."""
    token = csrf_from(client.get("/account/password").get_data(as_text=True))
    signed = {k: token if k.endswith("csrf_token") else v for k, v in data.items()}
    try:
        return client.post(action, data={"csrf_token": token, **signed}).status_code
    except Exception as e:  # noqa: BLE001  (the server error being looked for)
        return f"500 {type(e).__name__}: {e}"


def test_a_campaigns_objects_named_under_another_campaign_are_not_found(app, world, sessions, clock):
    """Managers manage every campaign (no per-campaign ownership), but an address pairs a campaign with one of its
    objects: another campaign's callback, list or seat under it is not found, and nothing changes."""
    with sessions() as s:
        autumn = create_campaign(s, "Autumn", "+12125550101", clock.now()).id
        s.commit()
    client = app.test_client()
    auth = AuthActions(client)
    auth.login("manager")
    before = _other_call_state(sessions, world)
    cb, lst, seat = world["callback_id"], world["list_id"], world["other_seat"]
    token = auth.token(f"/campaigns/{autumn}/callbacks/")
    later = (clock.now() + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")
    for path, data in ((f"/campaigns/{autumn}/callbacks/{cb}/move", {"at": later}),
                       (f"/campaigns/{autumn}/callbacks/{cb}/assign", {"to": ""}),
                       (f"/campaigns/{autumn}/callbacks/{cb}/cancel", {"reason": "not mine"}),
                       (f"/campaigns/{autumn}/lists/{lst}/enabled", {"enabled": "0"}),
                       (f"/campaigns/{autumn}/lists/{lst}/reset", {"step": "review", "choice": "exhausted"}),
                       (f"/floor/{autumn}/agents/{seat}/offline", {})):
        assert client.post(path, data={**data, "csrf_token": token}).status_code == 404, path
    assert client.get(f"/campaigns/{autumn}/lists/{lst}/reset").status_code == 404
    assert _other_call_state(sessions, world) == before
    with sessions() as s:
        assert s.get(LeadList, lst).active and s.get(Agent, seat).state == "talking"


@pytest.mark.parametrize("role", ROLES)
def test_every_route_given_ids_past_the_databases_integer_answers_without_a_server_error(app, world, clock, role):
    """Every ``<int:...>`` of every rule set past PostgreSQL's integer (the id columns' type): not found, never a
    server error ('integer out of range'), for every role, GET and POST."""
    client = app.test_client()
    auth = AuthActions(client)
    auth.login(role)
    token = auth.token("/account/password")
    wrong = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "auth.logout" or not any(isinstance(c, IdConverter) for c in rule._converters.values()):
            continue
        args = {**values(world, clock, rule), **{a: 3_000_000_000 for a, c in rule._converters.items()
                                                   if isinstance(c, IdConverter)}}
        path = rule.build(args, append_unknown=False)[1]
        for method in sorted(rule.methods & {"GET", "POST"}):
            status, where = answer(client, method, path, token)
            if status >= 500 or status == 200:
                wrong.append((method, path, status, where))
    assert not wrong, wrong
