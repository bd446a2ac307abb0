"""Abandon alerts: 2.5 % and 2.8 % warnings, progressive by itself at the target and back under the first level,
AMD hang-ups apart from abandons, and a real webhook that fails, is retried with backoff and then gets the alert."""

from __future__ import annotations

import json
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlalchemy import insert, select

from campaigns.alerts import service as aa
from campaigns.campaign.dial_settings import update
from campaigns.campaign.service import create_campaign
from campaigns.dispatch.models import Call
from dnc.errors import UserError


@pytest.fixture
def hook(setenv):
    """A real HTTP endpoint on 127.0.0.1 (so the operator setting that allows internal receivers is on): answers the
    status codes queued in ``replies`` (then 204), records every body."""
    setenv(DIALER_ALERT_WEBHOOK_PRIVATE="1")
    got: list[dict] = []
    replies: list[int] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 (http.server's name)
            body = self.rfile.read(int(self.headers["Content-Length"]))
            got.append(json.loads(body))
            self.send_response(replies.pop(0) if replies else 204)
            self.end_headers()

        def log_message(self, *a):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/alerts", got, replies
    server.shutdown()
    server.server_close()


def _calls(session, campaign, now, outcome: str, n: int) -> None:
    rows = [{"campaign_id": campaign.id, "phone": f"+1999{outcome[:1] == 'a':d}{i:07d}", "placed_at": now - timedelta(
        hours=1, seconds=i), "answered_at": now - timedelta(hours=1), "ended_at": now - timedelta(minutes=50),
        "outcome": outcome, "connected_at": now - timedelta(hours=1) if outcome == "completed" else None,
        "caller_id": "", "attempt": 1, "provider": "sim", "status": "ended", "notes": "", "imported": False}
        for i in range(n)]
    for r in rows:  # distinct numbers per batch
        r["phone"] = f"+1{abs(hash((outcome, r['placed_at']))) % 10**10:010d}"
    session.execute(insert(Call), rows)
    session.flush()


def test_levels_fallback_and_recovery(session, clock, hook):
    url, got, replies = hook
    now = clock.now()
    c = create_campaign(session, "Guarded", "+12125550100", now)
    c.status = "active"
    update(session, c, now, alert_webhook_url=url)
    _calls(session, c, now, "completed", 975)
    _calls(session, c, now, "abandoned", 24)
    _calls(session, c, now, "machine", 40)  # answering machines: never abandons
    st = aa.check(session, c, now)
    assert (st.level, st.fallback, st.live_answers, st.abandoned, st.machines) == ("ok", False, 999, 24, 40)
    levels = []
    for extra, level in ((1, "warn"), (4, "high"), (2, "over")):  # 25/1000, 29/1004, 31/1006
        _calls(session, c, now, "abandoned", extra)
        now += timedelta(seconds=5)
        st = aa.check(session, c, now)
        levels.append((st.level, st.fallback))
        assert st.level == level and st.changed
    assert levels == [("warn", False), ("high", False), ("over", True)]
    assert "progressive" in aa.effective_modes(session, [c.id])[c.id]
    # still over 2.5 %: the fallback holds (no flapping at the target)
    _calls(session, c, now, "completed", 60)  # 31/1066 = 2.9 %
    now += timedelta(seconds=5)
    st = aa.check(session, c, now)
    assert (st.level, st.fallback) == ("high", True)
    _calls(session, c, now, "completed", 200)  # 31/1266 = 2.4 %: predictive again
    now += timedelta(seconds=5)
    st = aa.check(session, c, now)
    assert (st.level, st.fallback, st.machines) == ("ok", False, 40)
    assert aa.effective_modes(session, [c.id]) == {}
    alerts = [(a.previous, a.level, a.fallback) for a in reversed(aa.recent(session, c.id))]
    assert alerts == [("ok", "warn", False), ("warn", "high", False), ("high", "over", True),
                      ("over", "high", True), ("high", "ok", False)]
    # the webhook: the first try fails (HTTP 500), is retried after 30 s, then everything arrives in order
    replies.append(500)
    assert aa.deliver(session, now) == {"sent": 4, "failed": 1}
    assert len(got) == 5
    assert aa.deliver(session, now + timedelta(seconds=10)) == {"sent": 0, "failed": 0}  # not due yet
    assert aa.deliver(session, now + timedelta(seconds=31)) == {"sent": 1, "failed": 0}
    first = got[0]
    assert first["level"] == "warn" and first["abandoned_30d"] == 25 and first["live_answers_30d"] == 1000
    assert first["machine_hangups_30d"] == 40 and first["thresholds"] == {"warn": 0.025, "high": 0.028,
                                                                          "target": 0.03}
    assert [g["level"] for g in got[1:]] == ["high", "over", "high", "ok", "warn"]
    assert got[2]["fallback_to_progressive"] is True


def test_low_sample_warns_nothing_but_the_cap_still_falls_back(session, clock):
    now = clock.now()
    c = create_campaign(session, "Small", "+12125550100", now)
    _calls(session, c, now, "completed", 38)
    _calls(session, c, now, "abandoned", 1)  # 2.6 % of 39: too few live answers for a warning
    assert aa.check(session, c, now).level == "ok"
    _calls(session, c, now, "abandoned", 1)  # 5 %: over the cap whatever the sample
    st = aa.check(session, c, now + timedelta(seconds=5))
    assert (st.level, st.fallback) == ("over", True)


def test_a_dead_webhook_is_retried_then_given_up_and_never_raises(session, clock, setenv):
    setenv(DIALER_ALERT_WEBHOOK_PRIVATE="1")
    now = clock.now()
    c = create_campaign(session, "Dead", "+12125550100", now)
    update(session, c, now, alert_webhook_url="http://127.0.0.1:9/never")  # discard port: refused
    _calls(session, c, now, "abandoned", 3)
    _calls(session, c, now, "completed", 10)
    aa.check(session, c, now)
    t = now
    for _ in range(aa.MAX_ATTEMPTS):
        assert aa.deliver(session, t) == {"sent": 0, "failed": 1}
        t += timedelta(hours=1)
    d = session.scalars(select(aa.AlertDelivery)).one()
    assert d.gave_up_at is not None and d.attempts == aa.MAX_ATTEMPTS and "Connection" in d.last_error
    assert aa.deliver(session, t) == {"sent": 0, "failed": 0}


@pytest.mark.parametrize("url", ["https://127.0.0.1/x", "https://169.254.169.254/latest/meta-data/", "https://10.1.2.3/",
                                 "https://[::1]/", "https://[::ffff:127.0.0.1]/", "https://localhost:8443/",
                                 "https://metadata.google.internal/", "https://0.0.0.0/", "https://100.64.1.1/",
                                 "http://hooks.example.com/dialer", "https://user:pw@hooks.example.com/"])
def test_an_internal_or_plain_http_webhook_is_refused_when_entered(session, clock, url):
    c = create_campaign(session, "Guarded", "+12125550100", clock.now())
    with pytest.raises(UserError, match="alert_webhook_url"):
        update(session, c, clock.now(), alert_webhook_url=url)


def test_a_name_that_points_inward_by_send_time_is_refused_and_redirects_are_not_followed(session, clock, hook,
                                                                                         setenv):
    """Checked again at send: entered while allowed, then the operator setting is off (as a name that moved inward
    would be); and a public receiver answering 302 towards an internal address is a failed delivery, not a hop."""
    url, got, replies = hook
    now = clock.now()
    c = create_campaign(session, "Guarded", "+12125550100", now)
    update(session, c, now, alert_webhook_url=url)
    _calls(session, c, now, "abandoned", 3)
    _calls(session, c, now, "completed", 10)
    aa.check(session, c, now)
    setenv(DIALER_ALERT_WEBHOOK_PRIVATE="0")
    assert aa.deliver(session, now) == {"sent": 0, "failed": 1}
    assert got == [] and "internal address" in session.scalars(select(aa.AlertDelivery)).one().last_error
    setenv(DIALER_ALERT_WEBHOOK_PRIVATE="1")
    replies.append(302)
    assert aa.http_post(url, {"x": 1}) == 302  # the redirect's answer, not the page it points at
    assert len(got) == 1
