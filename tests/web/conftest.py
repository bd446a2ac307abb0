"""Fixtures of the console tests: the app on the test database, one user per role, a signed-in client.

Like flaskr's tests: ``app``, ``client`` and an ``auth`` helper that signs in through the real login form (with its
CSRF token), so every test goes through the same security the browser does.
"""

from __future__ import annotations

import re
import shutil
import threading
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest
from werkzeug.serving import make_server

from campaigns.accounts.models import ROLES
from campaigns.accounts.passwords import hash_password
from campaigns.accounts.users import create_user

PASSWORD = "correct horse battery"
USERS = {role: f"{role}-user" for role in ROLES}  # admin-user, manager-user, agent-user ...
META_CSRF = re.compile(r'<meta name="csrf-token" content="([^"]+)">')


@pytest.fixture(scope="session")
def password_hash() -> str:
    """One scrypt hash for every test user, at the tests' cost (``tests/conftest.py``), so a sign-in does not
    store it again; hashing per test would cost each test a hash."""
    return hash_password(PASSWORD)


@pytest.fixture
def seed_users(sessions, clock, password_hash):
    with sessions() as s:
        _restore_migration_seed(s)
        for role, name in USERS.items():
            create_user(s, name, role, "", clock.now(), password_hash=password_hash)
        s.commit()
    return USERS


def _restore_migration_seed(s) -> None:
    """The PostgreSQL fixture truncates every table, also the ledger head row migration d0001 seeds; put it back
    so the database is what a fresh ``dialer db upgrade`` leaves (``dnc.ledger.verify`` expects the row)."""
    from dnc.ledger import GENESIS
    from dnc.tables import LedgerHead

    if s.get(LedgerHead, 1) is None:
        s.add(LedgerHead(id=1, seq=0, hash=GENESIS))


@pytest.fixture
def app_config(sessions, clock, tmp_path):
    return {"TESTING": True, "SESSIONS": sessions, "CLOCK": clock, "SECRET_KEY": "test-" + "k" * 40,
            "VAR_DIR": tmp_path / "var", "DNC_DIR": tmp_path / "dnc", "IMPORT_INLINE": True,
            "SESSION_COOKIE_SECURE": False, "TWILIO_ENVIRON": {}}


@pytest.fixture
def app(app_config, seed_users):
    from web import create_app

    return create_app(app_config)


@pytest.fixture
def client(app):
    return app.test_client()


def csrf_from(html: str) -> str:
    m = META_CSRF.search(html)
    assert m, "page has no CSRF meta tag"
    return m.group(1)


class AuthActions:
    """Sign in and out through the real forms; ``token()`` gives a CSRF token for the next POST."""

    def __init__(self, client) -> None:
        self.client = client

    def token(self, path: str = "/login") -> str:
        return csrf_from(self.client.get(path, follow_redirects=True).get_data(as_text=True))

    def login(self, role_or_name: str, password: str = PASSWORD, follow: bool = False):
        username = USERS.get(role_or_name, role_or_name)
        return self.client.post("/login", data={"username": username, "password": password,
                                                "csrf_token": self.token()}, follow_redirects=follow)

    def logout(self):
        return self.client.post("/logout", data={"csrf_token": self.token("/account/password")})

    def post(self, path: str, data: dict | None = None, page: str | None = None, **kw):
        """POST ``data`` with a CSRF token taken from ``page`` (default: the same path), and the call and seat the
        page's buttons name (the agent's seat: ``web.seat_call``) as the browser sends them, unless ``data`` does."""
        html = self.client.get(page or path, follow_redirects=True).get_data(as_text=True)
        shown = dict(re.findall(r'<input type="hidden" name="(call|seat)" value="([^"]*)"', html)[::-1])
        return self.client.post(path, data={**shown, **(data or {}), "csrf_token": csrf_from(html)}, **kw)


@pytest.fixture
def auth(client):
    return AuthActions(client)


# --- browser tests: the app on a real werkzeug server, driven by Debian's Chromium through Playwright ----------
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]


@pytest.fixture
def live_server(app_config, seed_users):
    """The console served over real HTTP on a free port (imports run in their background thread, as deployed)."""
    from web import create_app

    app = create_app({**app_config, "IMPORT_INLINE": False, "TESTING": False})
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield SimpleNamespace(url=f"http://127.0.0.1:{server.server_port}", app=app)
    finally:
        server.shutdown()
        thread.join(timeout=5)


@pytest.fixture(scope="session")
def chromium():
    exe = shutil.which("chromium")
    if exe is None:
        pytest.fail("Debian's chromium is missing: run tools/ensure-chromium.sh (make test does)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=exe, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


REFUSED = "the server responded with a status of 400"


@pytest.fixture
def browser_page(chromium, live_server, tmp_path, request):
    """A fresh browser context (own cookies, downloads allowed) on the live console; fails on any JS error. A test
    marked ``refusals`` sends forms back with their mistakes on purpose: the browser's note of those 400 answers is
    not an error there (any other is)."""
    refusals = request.node.get_closest_marker("refusals") is not None
    context = chromium.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 860},
                                   accept_downloads=True, color_scheme="light")
    page = context.new_page()
    page.set_default_timeout(15_000)
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" and "favicon" not in m.text
            and not (refusals and REFUSED in m.text) else None)
    yield page
    context.close()
    assert not errors, f"JavaScript errors in the page: {errors}"


def sign_in(page, role_or_name: str, password: str = PASSWORD) -> None:
    page.goto("/login")
    page.get_by_label("Username").fill(USERS.get(role_or_name, role_or_name))
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()


def agent_goes_ready(page, campaign: str = "Spring", role_or_name: str = "agent") -> None:
    """Sign in as an agent, join ``campaign`` and go ready, as the agent does on the seat page; returns once the
    seat's chip says ready (every agent test starts here: the calls it pops need a ready seat)."""
    from playwright.sync_api import expect

    sign_in(page, role_or_name)
    page.get_by_label("Campaign").select_option(label=campaign)
    page.get_by_role("button", name="Log in and go ready").click()
    expect(page.locator("#state-chip")).to_have_text("ready")


def seed_spring(sessions, clock) -> None:
    """Campaign Spring (progressive, with a script) and its list March holding one lead, Ann Lee in New York."""
    from campaigns.campaign.scripts import set_script
    from campaigns.campaign.service import CampaignSettings, create_campaign, set_status
    from campaigns.leads.models import Lead, LeadList

    t = clock.now()
    with sessions() as s:
        c = create_campaign(s, "Spring", "+12125550100", t - timedelta(days=1),
                            CampaignSettings(pacing_mode="progressive", seller_name="Acme Solar"))
        set_status(s, c, "active", t)
        set_script(s, c.id, "Hello {first_name}, this is {agent} from {seller}.", "mia", t)
        lst = LeadList(campaign_id=c.id, name="March", sha256="b" * 64, uploaded_at=t - timedelta(days=1), rows=1,
                       accepted=1)
        s.add(lst)
        s.flush()
        s.add(Lead(campaign_id=c.id, list_id=lst.id, phone="+12127364421", first_name="Ann", last_name="Lee",
                   state="NY", postal_code="10001", timezones="America/New_York",
                   custom={"Company": "Initech", "Plan": "solar, 6 kW"}, created_at=t, updated_at=t))
        s.commit()


@pytest.fixture
def ready_on_spring(browser_page, sessions, clock):
    """The agent's page, signed in and ready on Spring (``seed_spring``): where every call-handling test starts."""
    seed_spring(sessions, clock)
    agent_goes_ready(browser_page)
    return browser_page


def pop_call(sessions, clock, phone: str, first_name: str) -> int:
    """What the dial loop does when a person answers: a call to ``phone`` (a new lead of the campaign unless one
    has that number), connected to the person's ready seat; returns the call's id."""
    from campaigns.agents import service as agents
    from campaigns.agents.models import Agent
    from campaigns.dispatch.models import Call
    from campaigns.leads.models import Lead

    t = clock.now()
    with sessions() as s:
        lead = s.query(Lead).filter_by(phone=phone).one_or_none()
        if lead is None:
            any_lead = s.query(Lead).first()
            lead = Lead(campaign_id=any_lead.campaign_id, list_id=any_lead.list_id, phone=phone,
                        first_name=first_name, last_name="Ray", state="NY", timezones="America/New_York",
                        created_at=t, updated_at=t)
            s.add(lead)
        lead.status = "dialing"
        s.flush()
        call = Call(campaign_id=lead.campaign_id, lead_id=lead.id, list_id=lead.list_id, phone=phone, attempt=1,
                    placed_at=t - timedelta(seconds=15), answered_at=t, answered_by="human", status="answered")
        s.add(call)
        s.flush()
        seat = s.query(Agent.id).filter_by(state="ready", simulated=False).scalar()
        assert agents.connect(s, call.id, seat, t)
        s.commit()
        return call.id


def screenshot(page, name: str) -> Path:
    """Save a full-page screenshot for the README (docs/screenshots/NAME.png)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


@pytest.fixture
def product_app(app_config, seed_users, db_url, setenv):
    """The console on its own engine of the test database (the product's SQLite locking, IMMEDIATE transactions,
    as the whole suite runs), for tests whose writers run at the same moment."""
    from campaigns.db import make_engine, session_factory
    from web import create_app

    setenv(DIALER_SQLITE_LOCKING="immediate")
    engine = make_engine(db_url)
    yield create_app({**app_config, "SESSIONS": session_factory(engine)})
    engine.dispose()
