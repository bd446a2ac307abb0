"""The Twilio worker as a separate process, for the kill test: ``dialer run --carrier twilio`` (the same
``build_worker`` + ``serve``), except that its clock is the test's (``argv``: anchor, epoch) so the calling window
is open whatever the time of day the suite runs. SIGTERM stops it cleanly (drain), SIGKILL is what the test is about."""

from __future__ import annotations

import json
import os
import signal
import sys
from datetime import datetime

from campaigns.db import make_engine, session_factory
from dialer.carriers.twilio.config import load
from dialer.carriers.twilio.worker import build_worker, serve
from tests.dialer.carriers.twilio.support import ShiftedClock


def main() -> int:
    clock = ShiftedClock(datetime.fromisoformat(sys.argv[1]), float(sys.argv[2]))
    stop = {"stop": False}
    signal.signal(signal.SIGTERM, lambda *_: stop.update(stop=True))
    sessions = session_factory(make_engine(os.environ["DIALER_DATABASE_URL"]))
    worker = build_worker(sessions, clock, load(os.environ))
    print("worker started", flush=True)
    out = serve(worker, sessions, clock, lambda: stop["stop"], tick_s=0.05, drain_s=15)
    print(json.dumps(out, default=str), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
