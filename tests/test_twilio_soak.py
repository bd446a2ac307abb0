"""The carrier path under sustained load: 10 calls/s through the real twilio library, the fake server, signed
webhooks over real HTTP and the callback pump; no callback lost, CPS never exceeded."""

import random
import threading
import time
from datetime import UTC, datetime

import pytest
from twilio_support import env, fake_twilio, make_app, seed_call, serve

from campaigns import carrier_inbox as inbox
from dialer.clock import SystemClock
from dialer.ratelimit import TokenBucket
from dialer.telephony import DialRequest
from dialer.twilio_adapter import TwilioTelephony
from dialer.twilio_config import load
from dialer.twilio_events import CallbackPump
from dialer.twilio_fake import CallScript
from dialer.twilio_runtime import CPS_MARGIN

MIX = [("human", 0.55), ("unknown", 0.05), ("machine", 0.15), ("busy", 0.1), ("no-answer", 0.1), ("failed", 0.05)]


@pytest.mark.slow
def test_ten_calls_per_second_lose_no_callback(sessions, session):
    cps, seconds = 10, 12
    rng = random.Random(5)
    clock = SystemClock()
    with fake_twilio() as fake:
        app = make_app(sessions, clock, None, lambda *a, **k: None)
        with serve(app) as base:
            cfg = load(env(base, fake.api_base, TWILIO_CPS=str(cps)))
            app.extensions["twilio"].config = cfg
            tel = TwilioTelephony(cfg, bucket=TokenBucket(cps * CPS_MARGIN, 1, clock))
            got, stop = [], threading.Event()
            pump = CallbackPump(sessions, got.append)

            def pumping():
                while not stop.is_set():
                    pump.run_once(datetime.now(UTC))
                    time.sleep(0.05)

            t = threading.Thread(target=pumping, daemon=True)
            t.start()
            sids = []
            for i in range(cps * seconds):
                phone = f"+1212555{i:04d}"
                answer = rng.choices([a for a, _ in MIX], [w for _, w in MIX])[0]
                fake.script(phone, CallScript(answer=answer, ring_s=rng.uniform(0.05, 0.5), patience_s=0.3,
                                              amd_s=0.1))
                sid = tel.place(DialRequest(call_id=i, to=phone, caller_id="+12125550100", campaign_id=1))
                seed_call(session, datetime.now(UTC), sid=sid, phone=phone, lead=False)
                sids.append(sid)
            assert fake.wait_idle(20)
            time.sleep(0.3)
            stop.set()
            t.join(5)
            pump.run_once(datetime.now(UTC))

    assert fake.max_calls_in_window(1.0) <= cps, fake.create_times
    assert fake.max_queue_s(cps) < 0.25  # even a strict no-burst queue would hold no call noticeably
    webhook_posts = [d for d in fake.hooks.deliveries if "/twilio/status" in d.url or "/twilio/amd" in d.url]
    assert webhook_posts and all(d.status == 204 for d in webhook_posts)
    with sessions() as s:
        counts = inbox.counts(s, "twilio")
    assert counts.get("pending", 0) == 0 and counts.get("error", 0) == 0 and counts.get("orphan", 0) == 0
    assert sum(counts.values()) == len(webhook_posts)  # every delivered callback stored exactly once
    ended = [e.provider_ref for e in got if e.kind == "ended"]
    assert sorted(ended) == sorted(sids)  # each call ended exactly once for the loop
    assert {fake.calls[s].status for s in sids} <= {"completed", "busy", "no-answer", "failed"}
