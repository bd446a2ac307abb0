"""Shared pieces of the Twilio tests: credentials, the fake server, the webhook app served on a real port."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from flask import Flask
from werkzeug.serving import make_server

ACCOUNT_SID = "AC" + "0123456789abcdef" * 2
AUTH_TOKEN = "f" * 32
API_KEY = "SK" + "fedcba9876543210" * 2
API_SECRET = "s3cr3t-" + "k" * 32
APP_SID = "AP" + "00112233445566778899aabbccddeeff"
CALLER_ID = "+12125550100"


def env(public_base: str, api_base: str | None = None, **more: str) -> dict[str, str]:
    out = {"TWILIO_ACCOUNT_SID": ACCOUNT_SID, "TWILIO_AUTH_TOKEN": AUTH_TOKEN, "TWILIO_API_KEY": API_KEY,
           "TWILIO_API_SECRET": API_SECRET, "TWILIO_CALLER_ID": CALLER_ID, "TWILIO_TWIML_APP_SID": APP_SID,
           "DIALER_PUBLIC_BASE_URL": public_base}
    if api_base:
        out["DIALER_TWILIO_API_BASE"] = api_base
    return out | more


@contextmanager
def serve(app: Flask) -> Iterator[str]:
    """Serve ``app`` over real HTTP on a free local port; yields its base URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=5)


def make_app(sessions, clock, config, add_to_dnc, agent_identity=lambda: None) -> Flask:
    """The webhook blueprint on a bare Flask app (``web.create_app`` registers the same ``init_twilio``)."""
    from web.twilio import TwilioWeb, init_twilio

    app = Flask("twilio-test")
    init_twilio(app, TwilioWeb(config=config, sessions=sessions, clock=clock, add_to_dnc=add_to_dnc,
                               agent_identity=agent_identity))
    return app


def seed_call(session, now, *, sid: str, phone: str = "+12125550111", lead: bool = True):
    """A campaign, a lead and a placed call carrying Twilio's SID, as the dial loop leaves them."""
    from campaigns.campaign.models import Campaign
    from campaigns.campaign.service import CampaignSettings, create_campaign
    from campaigns.dispatch.models import Call
    from campaigns.leads.models import Lead, LeadList

    campaign = session.query(Campaign).filter_by(name="Spring").one_or_none() or create_campaign(
        session, "Spring", CALLER_ID, now, CampaignSettings(seller_name="Acme Sales", callback_number="+18005550100"))
    lead_row = None
    if lead:
        lst = session.query(LeadList).filter_by(campaign_id=campaign.id).one_or_none()
        if lst is None:
            lst = LeadList(campaign_id=campaign.id, name="l", sha256="0" * 64, uploaded_at=now)
            session.add(lst)
            session.flush()
        lead_row = Lead(campaign_id=campaign.id, list_id=lst.id, phone=phone, status="dialing", attempts=1,
                        created_at=now, updated_at=now)
        session.add(lead_row)
        session.flush()
    call = Call(campaign_id=campaign.id, lead_id=lead_row.id if lead_row else None, phone=phone,
                caller_id=CALLER_ID, provider="twilio", provider_sid=sid, status="ringing", placed_at=now)
    session.add(call)
    session.commit()
    return call


def fake_twilio(**kwargs):
    """The fake server accepting our account's token and API key, like Twilio."""
    from dialer.carriers.twilio.fake import FakeTwilio

    return FakeTwilio(ACCOUNT_SID, AUTH_TOKEN, credentials=[(API_KEY, API_SECRET)], **kwargs)


class ShiftedClock:
    """Wall-clock time moved to ``anchor``: real seconds pass (the fake server and the webhooks run in real time)
    but the calendar is a fixed Tuesday morning, so the calling window and the registry's age never depend on
    when the suite runs. ``epoch`` (``time.time()`` at the anchor) lets another process share the same clock."""

    def __init__(self, anchor, epoch: float | None = None) -> None:
        import time

        self.anchor, self._time = anchor, time.time
        self.epoch = time.time() if epoch is None else epoch

    def now(self):
        from datetime import timedelta

        return self.anchor + timedelta(seconds=self._time() - self.epoch)


def restore_ledger_head(session) -> None:
    """The PostgreSQL fixture truncates the ledger head row migration d0001 seeds; the gate's records need it."""
    from dnc.ledger import GENESIS
    from dnc.tables import LedgerHead

    if session.get(LedgerHead, 1) is None:
        session.add(LedgerHead(id=1, seq=0, hash=GENESIS))
    session.commit()  # either way: the look-up's transaction holds SQLite's write lock, as in the product


def load_registry(session, root, now, area_codes=("212",)):
    """A fresh national registry (version = today) for ``area_codes`` in ``root``: without one nothing is dialed."""
    from dnc.registry import Store, generate, load_full

    restore_ledger_head(session)
    store = Store(root)
    path = generate(root.parent / "registry.txt", 500, area_codes=area_codes, seed=3).path
    load_full(session, store, [path], version_date=now.date(), loaded_by="test", now=now,
              area_codes=",".join(area_codes))
    session.commit()
    return store


def wait_for(cond, timeout: float = 10.0, what: str = "condition", every: float = 0.02):
    """Poll ``cond`` every ``every`` seconds (real time: the fake server, the webhooks and the workers run on real
    sockets and in processes of their own); its first true value is returned."""
    import time

    end = time.monotonic() + timeout
    while True:
        value = cond()
        if value:
            return value
        if time.monotonic() >= end:
            raise AssertionError(f"{what} not reached in {timeout} s")
        time.sleep(every)
