"""Logging, configured in one place for every process: the ``dialer`` command, the worker, the web servers.

Text by default (one line: time, level, process, logger, message); ``json`` gives one JSON object per line for a log
shipper. The level and format come from the settings (``DIALER_LOG_LEVEL``, ``DIALER_LOG_FORMAT``) unless the
command line says otherwise (``dialer --log-level``).
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime

from dnc import settings

TEXT_FORMAT = "%(asctime)s %(levelname)s [%(process)d] %(name)s: %(message)s"
# the noisy libraries: their INFO lines say nothing an operator acts on
QUIET = ("apscheduler", "urllib3", "twilio.http_client", "werkzeug", "alembic")


class JsonFormatter(logging.Formatter):
    """One JSON object per record: time (UTC, ISO), level, logger, process, message, and the exception if any."""

    def format(self, record: logging.LogRecord) -> str:
        out = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "pid": record.process,
            "message": record.getMessage(),
        }
        if record.exc_info:
            out["exception"] = self.formatException(record.exc_info)
        for key in ("campaign", "worker", "event"):
            if key in record.__dict__:
                out[key] = record.__dict__[key]
        return json.dumps(out, default=str)


def formatter(fmt: str | None = None) -> logging.Formatter:
    """The formatter of ``fmt`` (else ``DIALER_LOG_FORMAT``), also for handlers a library makes (gunicorn)."""
    return JsonFormatter() if (fmt or settings.current().log_format) == "json" else logging.Formatter(TEXT_FORMAT)


def configure(level: str | None = None, fmt: str | None = None, stream=None, default: str = "info") -> None:
    """Set up the root logger (again replaces our handler: the CLI's tests run it many times in one process).

    The level: ``level``, else ``DIALER_LOG_LEVEL``, else ``default``."""
    cfg = settings.current()
    level = (level or cfg.log_level or default).upper()
    fmt = fmt or cfg.log_format
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(formatter(fmt))
    root = logging.getLogger()
    for old in [h for h in root.handlers if getattr(h, "_dialer", False)]:
        root.removeHandler(old)
    handler._dialer = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(level)
    for name in QUIET:
        logging.getLogger(name).setLevel(max(logging.WARNING, root.level))
    logging.captureWarnings(True)
