"""Serve the console: ``python -m web.serve [--host 127.0.0.1] [--port 5000]``.

A threaded werkzeug server is enough for a floor of a few dozen people (the console is server-rendered and polls
small JSON endpoints); put it behind a TLS-terminating proxy (``DIALER_PROXY_HOPS``) for anything beyond a
workstation. ``flask --app web run`` works too, for development.
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
from collections.abc import Mapping

from werkzeug.serving import BaseWSGIServer, make_server

from dnc.errors import UserError


def console_server(host: str, port: int, config: Mapping | None = None) -> BaseWSGIServer:
    """A ready-to-run server for ``web.create_app(config)`` (port 0 picks a free one: see ``server_port``)."""
    from web import create_app

    return make_server(host, port, create_app(config), threaded=True)


def listen(host: str, port: int, config: Mapping | None = None) -> BaseWSGIServer:
    """``console_server``, with an address that cannot be bound (in use, not ours) as a ``UserError``."""
    try:
        return console_server(host, port, config)
    except OSError as e:
        raise UserError(f"cannot listen on {host}:{port}: {e.strerror}") from None


def serve_until_stopped(server: BaseWSGIServer) -> None:
    """Serve until Ctrl-C or SIGTERM, then close the socket (the caller's ``finally`` stops what it started)."""
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        server.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m web.serve", description=__doc__.splitlines()[0])
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=5000)
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        server = listen(args.host, args.port)
    except UserError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    print(f"console at http://{args.host}:{server.server_port}", flush=True)
    serve_until_stopped(server)
    return 0


if __name__ == "__main__":
    sys.exit(main())
