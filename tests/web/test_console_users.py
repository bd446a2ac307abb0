"""The administrator's Users page: create users (errors next to fields), change roles, disable, reset passwords."""

from __future__ import annotations

from campaigns.accounts.models import User
from campaigns.agents.models import Agent
from tests.web.conftest import PASSWORD, USERS, AuthActions


def test_admin_creates_an_agent_that_takes_over_a_simulated_seat(client, auth, sessions, app):
    with sessions() as s:
        s.add(Agent(name="sim-03", simulated=True))
        s.commit()
    auth.login("admin")
    page = client.get("/admin/users/new").get_data(as_text=True)
    assert '<option value="sim-03">sim-03</option>' in page
    r = auth.post("/admin/users/new", {"username": "dana", "role": "agent", "agent_seat": "sim-03",
                                       "password": "a long passphrase", "confirm": "a long passphrase"})
    assert r.status_code == 302
    with sessions() as s:
        u = s.query(User).filter_by(username="dana").one()
        seat = s.get(Agent, u.agent_id)
        assert (u.role, seat.name, seat.simulated) == ("agent", "sim-03", False)
    other = AuthActions(app.test_client())
    assert other.login("dana", password="a long passphrase").headers["Location"] == "/agent/"


def test_new_user_form_says_what_is_wrong_next_to_each_field(client, auth):
    auth.login("admin")
    r = auth.post("/admin/users/new", {"username": "x", "role": "manager", "password": "short", "confirm": "other"})
    html = r.get_data(as_text=True)
    assert r.status_code == 400
    assert 'id="username-error">Username must be 2-80 characters' in html
    assert 'id="password-error">Password must be at least 10 characters.' in html
    assert 'id="confirm-error">The two passwords differ.' in html
    r = auth.post("/admin/users/new", {"username": USERS["sales"], "role": "sales", "password": PASSWORD,
                                       "confirm": PASSWORD})
    assert 'id="username-error">A user named' in r.get_data(as_text=True)
    r = auth.post("/admin/users/new", {"username": USERS["sales"].upper(), "role": "sales", "password": PASSWORD,
                                       "confirm": PASSWORD})  # the same name in other letters' case
    assert f'id="username-error">A user named &#39;{USERS["sales"]}&#39; already exists' in r.get_data(as_text=True)
    r = auth.post("/admin/users/new", {"username": "zed", "role": "sales", "agent_seat": "agent-user",
                                       "password": PASSWORD, "confirm": PASSWORD})
    assert 'id="agent_seat-error">Only agents have a seat' in r.get_data(as_text=True)


def test_role_change_and_disable_end_the_users_sessions(client, auth, app, sessions):
    victim = AuthActions(app.test_client())
    victim.login("sales")
    assert victim.client.get("/reports/").status_code == 200
    with sessions() as s:
        uid = s.query(User).filter_by(username=USERS["sales"]).one().id
    auth.login("admin")
    r = auth.post(f"/admin/users/{uid}", {"role": "manager", "active": "y"})
    assert r.status_code == 302
    assert victim.client.get("/reports/").status_code == 302  # signed out: the role changed
    victim.login("sales")
    assert victim.client.get("/campaigns/").status_code == 200
    auth.post(f"/admin/users/{uid}", {"role": "manager"})  # active unticked: disabled
    assert victim.client.get("/campaigns/").status_code == 302
    assert victim.login("sales").status_code == 401


def test_admin_cannot_lock_themself_out(client, auth, sessions):
    with sessions() as s:
        me = s.query(User).filter_by(username=USERS["admin"]).one().id
    auth.login("admin")
    r = auth.post(f"/admin/users/{me}", {"role": "admin"})
    assert r.status_code == 400 and "You cannot disable your own account." in r.get_data(as_text=True)
    r = auth.post(f"/admin/users/{me}", {"role": "sales", "active": "y"})
    assert r.status_code == 400 and "is the last active admin" in r.get_data(as_text=True)


def test_admin_resets_a_password(client, auth, app, sessions):
    with sessions() as s:
        uid = s.query(User).filter_by(username=USERS["agent"]).one().id
    auth.login("admin")
    r = auth.post(f"/admin/users/{uid}/password", {"pw-password": "123", "pw-confirm": "123"},
                  page=f"/admin/users/{uid}")
    assert r.status_code == 400 and 'id="pw-password-error">Password must be at least 10 characters.' in \
        r.get_data(as_text=True)
    r = auth.post(f"/admin/users/{uid}/password", {"pw-password": "fresh passphrase!", "pw-confirm":
                                                   "fresh passphrase!"}, page=f"/admin/users/{uid}")
    assert r.status_code == 302
    other = AuthActions(app.test_client())
    assert other.login("agent").status_code == 401
    assert other.login("agent", password="fresh passphrase!").status_code == 302
