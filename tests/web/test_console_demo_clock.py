"""The agent seat's timers count at the demo clock's speed: the page carries the clock's speed with its "now" and
the seat's state start, and agent.js counts clock seconds from them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from campaigns.accounts.models import User
from tests.web.conftest import AuthActions


def test_the_seat_carries_the_demo_clock_speed(app_config, seed_users, sessions):
    from web import create_app

    anchor = datetime.now(UTC) - timedelta(seconds=10)
    config = {k: v for k, v in app_config.items() if k != "CLOCK"} | {"CLOCK_ANCHOR": anchor.isoformat(),
                                                                      "CLOCK_SPEED": 4.0}
    client = create_app(config).test_client()
    AuthActions(client).login("agent")
    with sessions() as s:
        assert s.query(User).filter_by(username="agent-user").one().agent_id is not None
    html = client.get("/agent/").get_data(as_text=True)
    assert 'data-speed="4.0"' in html
    script = (Path(__file__).resolve().parents[2] / "web" / "static" / "js" / "agent.js").read_text()
    assert "(Date.now() - loaded) * speed" in script  # the timers advance clock seconds, not browser seconds
