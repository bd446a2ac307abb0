"""An abandon-alert webhook's URL is a credential (Slack's and Teams' incoming webhooks carry their secret in the
path, others in a ``?token=``): a failed delivery's log line names the receiver by scheme and host only, whatever
the error's own text repeats of the URL."""

from __future__ import annotations

import logging

import pytest

from campaigns.alerts import service as aa
from campaigns.campaign.dial_settings import update
from campaigns.campaign.service import create_campaign
from tests.campaigns.funnel.test_alerts import _calls

URL = "https://hooks.slack.com/services/T0001/B0002/s3cr3tPathToken?token=s3cr3tQueryToken"


def _failing(exc: Exception | None, status: int = 500):
    def post(url: str, body: dict) -> int:
        if exc is not None:
            raise exc
        return status
    return post


@pytest.mark.parametrize("exc", [None, ConnectionError(f"HTTPSConnectionPool(host='hooks.slack.com', port=443): Max "
                                                       f"retries exceeded with url: {URL.split('.com', 1)[1]}"),
                                 TimeoutError(f"timed out posting to {URL}")])
def test_a_failed_delivery_logs_the_receiver_not_its_secret(session, clock, caplog, exc):
    now = clock.now()
    c = create_campaign(session, "Leaky", "+12125550100", now)
    update(session, c, now, alert_webhook_url=URL)
    _calls(session, c, now, "abandoned", 3)
    _calls(session, c, now, "completed", 10)
    aa.check(session, c, now)
    t = now
    with caplog.at_level(logging.WARNING, logger="campaigns.alerts.service"):
        for _ in range(aa.MAX_ATTEMPTS):  # the retries' warnings and the last attempt's error
            assert aa.deliver(session, t, post=_failing(exc)) == {"sent": 0, "failed": 1}
            t += aa.timedelta(hours=1)
    assert "hooks.slack.com" in caplog.text
    assert "s3cr3t" not in caplog.text, caplog.text
