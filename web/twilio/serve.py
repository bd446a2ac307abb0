"""A webhook-only process: just the /twilio/ blueprint over the shared database.

Twilio's callbacks can then be received by a small process that scales on its own, apart from the console (the
Twilio benchmark starts it as a real subprocess). ``python -m web.twilio.serve --port 0`` prints
``listening on http://HOST:PORT`` once it accepts connections. Behind a TLS-terminating proxy, signatures are
checked against ``DIALER_PUBLIC_BASE_URL``; ``DIALER_PROXY_HOPS`` (as for the console) makes the app trust that many
proxies' ``X-Forwarded-*`` headers for everything else.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
from datetime import datetime

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.serving import make_server

from campaigns.db import database_url as database_url_or_default
from campaigns.db import make_engine, session_factory
from dialer.carriers.twilio.config import problems
from dialer.clock import Clock
from web.twilio.setup import register_twilio


def webhook_app(database_url: str | None = None, clock: Clock | None = None, proxy_hops: int = 0) -> Flask:
    url = database_url_or_default(database_url)
    # one connection per concurrent request: Twilio sends bursts of callbacks at high CPS
    engine = make_engine(url) if url.startswith("sqlite") else make_engine(url, pool_size=20, max_overflow=20)
    app = Flask("dialer-twilio-webhooks")
    register_twilio(app, session_factory(engine), clock)
    if proxy_hops:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxy_hops, x_proto=proxy_hops, x_host=proxy_hops)
    return app


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m web.twilio.serve", description=__doc__.splitlines()[0])
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--database-url", default=os.environ.get("DIALER_DATABASE_URL"))
    p.add_argument("--clock-anchor", default=None, help=argparse.SUPPRESS)  # benchmarks: another process's clock
    p.add_argument("--clock-epoch", type=float, default=None, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    found = problems(os.environ)
    if found:
        print("error: Twilio is not configured: " + "; ".join(found), file=sys.stderr)
        return 2
    try:
        hops = int(os.environ.get("DIALER_PROXY_HOPS") or 0)
    except ValueError:
        print(f"error: DIALER_PROXY_HOPS={os.environ['DIALER_PROXY_HOPS']!r}: not a whole number", file=sys.stderr)
        return 2
    clock = None
    if args.clock_anchor:
        from dialer.bench.twilio import AnchoredClock

        clock = AnchoredClock(datetime.fromisoformat(args.clock_anchor), args.clock_epoch)
    logging.basicConfig(level=logging.WARNING)
    server = make_server(args.host, args.port, webhook_app(args.database_url, clock, hops), threaded=True)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    print(f"listening on http://{args.host}:{server.server_port}", flush=True)
    try:
        server.serve_forever(poll_interval=0.1)
    except KeyboardInterrupt:
        return 130
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
