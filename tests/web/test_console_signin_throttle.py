"""Finding 6 of issue 15: sign-in throttling that counts atomically, slows an account without letting anyone lock
it, and believes X-Forwarded-For only from a configured proxy."""

from __future__ import annotations

import threading

from campaigns.accounts import sessions as console_auth
from tests.web.conftest import PASSWORD, USERS, AuthActions


def _client(app, remote: str):
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = remote
    return client, AuthActions(client)


def test_thirty_parallel_wrong_passwords_get_at_most_five_password_checks(product_app):
    """All 30 requests start together (a barrier): counting and recording an attempt is one atomic step, so no
    more than the limit of them reach the password check (401); the rest are refused before it (429)."""
    n, statuses = 30, []
    clients = [_client(product_app, "203.0.113.9") for _ in range(n)]
    tokens = [a.token() for _, a in clients]
    barrier = threading.Barrier(n)

    def attempt(i: int) -> None:
        client, _ = clients[i]
        barrier.wait()
        r = client.post("/login", data={"username": USERS["sales"], "password": "not the password",
                                        "csrf_token": tokens[i]})
        statuses.append(r.status_code)

    threads = [threading.Thread(target=attempt, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(set(statuses)) == [401, 429], statuses
    assert statuses.count(401) == 5, statuses  # exactly the allowed checks (the limit per user and address)


def test_failures_from_elsewhere_slow_the_account_but_never_lock_the_real_user_out(product_app, clock):
    _, attacker = _client(product_app, "198.51.100.66")
    for _ in range(5):
        assert attacker.login("sales", password="a wrong guess!").status_code == 401
    assert attacker.login("sales").status_code == 429  # that address is done with this user for the window
    user_client, user = _client(product_app, "192.0.2.10")
    slowed = user.login("sales")
    assert slowed.status_code == 429 and "slowed down" in slowed.get_data(as_text=True)
    wait = int(slowed.headers["Retry-After"])
    assert 0 < wait <= console_auth.Throttle().slow_s  # seconds, not the 15-minute window
    clock.advance(wait)
    assert user.login("sales").status_code == 302  # the right password from the user's own address gets in
    assert user_client.get("/reports/").status_code == 200


def test_forwarded_for_is_believed_only_from_a_configured_proxy(app_config, seed_users, setenv, sessions):
    from web import create_app

    setenv(DIALER_PROXY_HOPS="1", DIALER_PROXY_ADDRESSES="10.0.0.5")
    app = create_app({**app_config, "SESSIONS": sessions})
    direct, direct_auth = _client(app, "198.51.100.7")
    token = direct_auth.token()
    direct.post("/login", data={"username": USERS["manager"], "password": PASSWORD, "csrf_token": token},
                headers={"X-Forwarded-For": "1.2.3.4"})
    proxied, proxied_auth = _client(app, "10.0.0.5")
    token = proxied_auth.token()
    proxied.post("/login", data={"username": USERS["sales"], "password": PASSWORD, "csrf_token": token},
                 headers={"X-Forwarded-For": "192.0.2.44"})
    with sessions() as s:
        seen = {a.username: a.remote for a in s.query(console_auth.LoginAttempt)}
    assert seen == {USERS["manager"]: "198.51.100.7",  # a client around the proxy cannot choose its address
                    USERS["sales"]: "192.0.2.44"}  # the proxy's word is taken
