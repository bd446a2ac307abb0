"""``dialer serve console|webhooks``: the web processes on gunicorn, a production WSGI server.

gunicorn runs several worker processes with threads, restarts a worker that hangs past ``--timeout``, reloads
gracefully on SIGHUP (new workers start, old ones finish their requests) and stops gracefully on SIGTERM. The apps
are loaded by name (``web.wsgi:console()``, ``web.wsgi:webhooks()``) inside each worker: ``dialer`` never imports
``web``, it only names what the server loads. Put a TLS-terminating proxy in front (``docs/deploy.md``).
"""

from __future__ import annotations

import os
import re
import shutil
import sys
import tempfile
from pathlib import Path

import click

from dnc import settings
from dnc.console_settings import check_cookies, console_key
from dnc.errors import UserError

APPS = {"console": "web.wsgi:console()", "webhooks": "web.wsgi:webhooks()"}
DEFAULT_PORTS = {"console": 5000, "webhooks": 8000}
# a phone number in a path or query string: shown in the access log as +121**** (who was called is not for logs)
_PHONE = re.compile(r"(%2B|\+)?(\d{3})\d{4,}")


def mask_phones(text: str) -> str:
    return _PHONE.sub(lambda m: (m.group(1) or "") + m.group(2) + "****", text)


# what a person typed to find a lead (a name, an address) and a sign-in link carrying such a search: masked whole
_PERSONAL = re.compile(r"(^|[?&])(q|next)=[^&\s\"]*")


def mask_personal(text: str) -> str:
    """Phone numbers masked as ``mask_phones`` does, and the values of the lead search's ``q`` and of ``next``."""
    return _PERSONAL.sub(lambda m: f"{m.group(1)}{m.group(2)}=***", mask_phones(text))


def metrics_dir(kind: str) -> tuple[Path, bool]:
    """Where this server's worker processes keep their Prometheus counters (prometheus_client's multiprocess
    mode: one memory-mapped file per process and metric type, summed by whichever worker answers /metrics).
    ``DIALER_METRICS_DIR/<kind>``, emptied now (counters restart with the server, as a single process's would), or
    a private temporary directory; the flag says whether to remove it when the server stops."""
    base = settings.current().metrics_dir
    if base is None:
        return Path(tempfile.mkdtemp(prefix=f"dialer-{kind}-metrics-")), True
    path = base / kind
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True, exist_ok=True)
    return path, False


def _options(kind: str, bind: str, workers: int, threads: int, timeout: int, access_log: bool,
             metrics: Path | None = None) -> dict:
    def when_ready(server) -> None:
        host, port = server.LISTENERS[0].sock.getsockname()[:2]
        print(f"{kind} listening on http://{host}:{port}", flush=True)  # the ready line scripts wait for

    def child_exit(server, worker) -> None:
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid, str(metrics))  # its live gauges go; its counters stay summed

    observe = {} if metrics is None else {
        # prometheus_client reads its directory from the environment only: gunicorn sets it in the arbiter before
        # any worker starts (and before anything in those processes imports prometheus_client)
        "raw_env": [f"PROMETHEUS_MULTIPROC_DIR={metrics}"],
        "child_exit": child_exit,
    }

    return {
        "bind": [bind],
        "workers": workers,
        "worker_class": "gthread",
        "threads": threads,
        "timeout": timeout,  # a worker silent this long is killed and replaced
        "graceful_timeout": 20,
        "keepalive": 5,
        "limit_request_line": 8190,  # the request line and headers are bounded before the app sees anything
        "limit_request_fields": 100,
        "limit_request_field_size": 8190,
        "max_requests": 10_000,  # a worker is replaced now and then, so a slow leak never grows unbounded
        "max_requests_jitter": 1_000,
        "accesslog": "-" if access_log else None,
        "errorlog": "-",
        "logger_class": _logger_class,  # gunicorn calls it for the class: gunicorn is imported only when serving
        "proc_name": f"dialer-{kind}",
        "when_ready": when_ready,
        "control_socket_disable": True,  # no shared ~/.gunicorn socket: several servers run on one host
        **observe,
    }


def run_server(kind: str, bind: str, workers: int, threads: int, timeout: int, access_log: bool = True) -> None:
    """Serve ``kind`` until SIGTERM/SIGINT (blocks; gunicorn's arbiter owns the process from here)."""
    from gunicorn.app.base import BaseApplication
    from gunicorn.util import import_app

    metrics, temporary = metrics_dir(kind)

    class Server(BaseApplication):
        def load_config(self) -> None:
            for key, value in _options(kind, bind, workers, threads, timeout, access_log, metrics).items():
                self.cfg.set(key, value)

        def load(self):
            return import_app(APPS[kind])

    arbiter = os.getpid()
    try:
        Server().run()
    finally:
        if temporary and os.getpid() == arbiter:  # a worker process leaves through here too, on its own exit
            shutil.rmtree(metrics, ignore_errors=True)


def _logger_class():
    from gunicorn.glogging import Logger

    from dialer import logs

    class _MaskingLogger(Logger):
        """gunicorn's logger in the format every process logs in (``DIALER_LOG_FORMAT``: a log shipper reading
        JSON must not meet gunicorn's own text lines), with phone numbers and lead searches masked in access lines."""

        def setup(self, cfg) -> None:
            super().setup(cfg)  # gunicorn makes its handlers here (and again on a reload)
            for handler in (*self.error_log.handlers, *self.access_log.handlers):
                handler.setFormatter(logs.formatter())

        def access(self, resp, req, environ, request_time) -> None:
            environ = dict(environ)  # the log line's copy; the request itself is done
            for key in ("PATH_INFO", "QUERY_STRING", "RAW_URI", "HTTP_REFERER"):
                if key in environ:
                    environ[key] = mask_personal(environ[key])
            super().access(resp, req, environ, request_time)

    return _MaskingLogger


def _serve_command(kind: str, about: str) -> click.Command:
    @click.command(kind, help=about)
    @click.option("--bind", default=None, metavar="HOST:PORT",
                  help=f"Address to listen on (default 127.0.0.1:{DEFAULT_PORTS[kind]}; port 0 picks a free one).")
    @click.option("--workers", type=click.IntRange(1, 64), default=None,
                  help="Worker processes (default: CPU cores + 1).")
    @click.option("--threads", type=click.IntRange(1, 64), default=8, show_default=True,
                  help="Threads per worker (requests served at once by each).")
    @click.option("--timeout", type=click.IntRange(5, 600), default=30, show_default=True,
                  help="Seconds a worker may stay busy on one request before it is replaced.")
    @click.option("--no-access-log", is_flag=True, help="Do not log each request.")
    def command(bind: str | None, workers: int | None, threads: int, timeout: int, no_access_log: bool) -> None:
        bind = bind or f"127.0.0.1:{DEFAULT_PORTS[kind]}"
        if not re.fullmatch(r"[\w.\-\[\]:]+:\d{1,5}", bind):
            raise UserError(f"--bind {bind!r}: write HOST:PORT (e.g. 0.0.0.0:{DEFAULT_PORTS[kind]})")
        if kind == "console":  # refused here, before gunicorn, with status 2 and the setting's or the file's name
            env = settings.current()
            check_cookies(env)
            console_key(env, env.var_dir)  # a placeholder, a short key, a key file others may read (or make it now)
        sys.stdout.flush()
        run_server(kind, bind, workers or (os.cpu_count() or 1) + 1, threads, timeout, not no_access_log)

    return command


@click.group("serve")
def serve() -> None:
    """Serve the console or the Twilio webhooks on gunicorn (several processes, timeouts, graceful reload)."""


serve.add_command(_serve_command("console", "The console: every role's pages, and the Twilio webhooks too."))
serve.add_command(_serve_command("webhooks", "Only the Twilio webhooks (/twilio/), a process that scales apart."))
