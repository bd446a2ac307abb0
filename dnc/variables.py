"""Every environment variable the product reads, declared once: its default as the README shows it, its meaning and
its group. ``dnc.settings`` reads and validates them; the README's Configuration table is generated from here
(``python -m dnc.settings --markdown``) and a test keeps the two equal."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Variable:
    name: str
    default: str  # as the README shows it
    meaning: str
    group: str


_D, _T, _C, _W, _O, _X = "database", "twilio", "compliance", "console", "operations", "demo"
VARIABLES: tuple[Variable, ...] = (
    Variable("DIALER_DATABASE_URL", "`sqlite:///var/dialer.sqlite3`",
             "SQLAlchemy URL of the database (PostgreSQL: `postgresql+psycopg://user@host/db`)", _D),
    Variable("DIALER_TEST_DATABASE_URL", "unset",
             "tests only: the suite also runs against this PostgreSQL database", _D),
    Variable("DIALER_SQLITE_LOCKING", "`immediate`",
             "SQLite only: `immediate` takes the write lock when a transaction begins (no deadlocked upgrades between "
             "processes); `deferred` is for a script that holds a session open while it drives the CLI in one "
             "process", _D),
    Variable("DIALER_SQLITE_BUSY_TIMEOUT_S", "`30`",
             "SQLite only: how long (whole seconds, 1 to 86400) a transaction waits for another process's write lock "
             "before it fails with \"database is locked\" (a worker waits that out and tries again)", _D),
    Variable("TWILIO_ACCOUNT_SID", "unset", "Twilio account (`AC` + 32 hex); required for live dialing", _T),
    Variable("TWILIO_AUTH_TOKEN", "unset",
             "checks the `X-Twilio-Signature` of every webhook; REST auth when no API key is set", _T),
    Variable("TWILIO_API_KEY", "unset",
             "REST auth (preferred) and signing of browser agents' access tokens; set with `TWILIO_API_SECRET`", _T),
    Variable("TWILIO_API_SECRET", "unset", "the secret of `TWILIO_API_KEY`; set both or neither", _T),
    Variable("TWILIO_CALLER_ID", "unset", "fallback caller ID (E.164) when a campaign has none", _T),
    Variable("TWILIO_TWIML_APP_SID", "unset",
             "TwiML App (`AP…`) whose voice URL is `/twilio/agent/join`; needed for browser agents", _T),
    Variable("TWILIO_CPS", "`1`",
             "the account's calls-per-second limit, shared by every worker; placement is held at or under it", _T),
    Variable("DIALER_PUBLIC_BASE_URL", "unset",
             "the https address Twilio reaches the webhooks at (signatures are checked against it, also behind a "
             "TLS proxy)", _T),
    Variable("DIALER_TWILIO_API_BASE", "`https://api.twilio.com`",
             "send REST calls elsewhere, e.g. to `dialer twilio fake-server`", _T),
    Variable("DIALER_TWILIO_UNKNOWN_CONFIRM_S", "`10`",
             "a create Twilio never answered is recorded as not placed (the lead dialed again later) only after two "
             "empty call-log lookups this many seconds apart (the log can lag)", _T),
    Variable("DIALER_IMPORT_MAX_BYTES", "`2147483648`", "largest lead file accepted (bytes); an XLSX workbook's "
             "unpacked size too", _C),
    Variable("DIALER_IMPORT_MAX_ROWS", "`20000000`", "most rows a lead file may have (split a larger one)", _C),
    Variable("DIALER_DNC_DIR", "`var/dnc`",
             "where this host keeps national-registry snapshots (memory-mapped bitsets); the generation in force is "
             "fetched into it from the database", _C),
    Variable("DIALER_DNC_RULES", "the shipped `dnc/data/rules.toml`",
             "counsel's copy of the calling-window, holiday, cap and consent rules", _C),
    Variable("DIALER_CACHE_DIR", "`$XDG_CACHE_HOME/opendialer`",
             "where the per-exchange phone table (built once from phonenumbers' data) is cached", _C),
    Variable("DIALER_SECRET_KEY", "generated once into `var/console-secret-key` (mode 0600; refused if others "
             "may read it)", "console: signs the session cookie; set the same value on every console process (at "
             "least 32 characters; the example's `CHANGE-ME` placeholder is refused)", _W),
    Variable("DIALER_COOKIE_SECURE", "`1`", "console: `0` only when served over plain http (the demo on "
             "127.0.0.1); refused with an https `DIALER_PUBLIC_BASE_URL`", _W),
    Variable("DIALER_MAX_UPLOAD_MB", "`256`",
             "console: largest upload (a lead list; a consent, suppression-list or RND file)", _W),
    Variable("DIALER_CONSOLE_TIMEZONE", "`UTC`",
             "console: the time zone of pages not about one campaign (users, compliance, comparisons, an agent's "
             "callbacks); a campaign's pages use the campaign's zone", _W),
    Variable("DIALER_PROXY_HOPS", "`0`",
             "console and webhooks: behind a TLS-terminating proxy, how many `X-Forwarded-*` hops to trust", _W),
    Variable("DIALER_PROXY_ADDRESSES", "`127.0.0.1,::1`",
             "console and webhooks: the proxies (addresses or networks, comma-separated) whose `X-Forwarded-*` "
             "headers are trusted; a client connecting from anywhere else has them ignored", _W),
    Variable("DIALER_ALERT_WEBHOOK_PRIVATE", "`0`",
             "`1` lets abandon-alert webhooks use http and internal addresses (a receiver inside your network); "
             "by default only https to public addresses, checked when entered and before each send", _O),
    Variable("DIALER_VAR_DIR", "`var`",
             "console: where uploads wait for their mapping (`var/uploads`) and the generated secret key live", _W),
    Variable("DIALER_WORKER_DRAIN_S", "`300`",
             "dialing worker: after a SIGTERM it places nothing new and lets the calls its agents are on finish for up "
             "to this many seconds (0 to 3600), holding its campaigns, before it gives them back (ringing calls 60 s "
             "at most); a second SIGTERM gives them back at once", _O),
    Variable("DIALER_LOG_LEVEL", "`info` for the worker and servers, `warning` for other commands",
             "every process: `debug`, `info`, `warning` or `error` (`dialer --log-level` wins)", _O),
    Variable("DIALER_LOG_FORMAT", "`text`", "every process: `text`, or `json` for one JSON object per line", _O),
    Variable("DIALER_METRICS_DIR", "a private temporary directory per server",
             "console and webhooks: where each gunicorn worker process keeps its Prometheus counters so `/metrics` "
             "adds them up (`console/` and `webhooks/` under it, emptied when the server starts)", _O),
    Variable("DIALER_METRICS_ADDRESSES", "loopback and private networks",
             "console, webhooks, workers' `--metrics-port`: who may read `/metrics` and `/readyz`'s details (addresses "
             "or networks, comma-separated; `0.0.0.0/0,::/0` for anyone); others get 403 and a bare ready or not", _O),
    Variable("DIALER_SMTP_HOST", "unset",
             "scheduled reports: the mail server they are sent through (unset: schedules are kept, nothing is sent)",
             _O),
    Variable("DIALER_SMTP_PORT", "`587`", "scheduled reports: the mail server's port", _O),
    Variable("DIALER_SMTP_SECURITY", "`starttls`",
             "scheduled reports: `starttls`, `ssl` (implicit TLS, usually port 465) or `none` (a local relay)", _O),
    Variable("DIALER_SMTP_USER", "unset", "scheduled reports: the mail login (none: send without logging in)", _O),
    Variable("DIALER_SMTP_PASSWORD", "unset", "scheduled reports: the password of `DIALER_SMTP_USER`", _O),
    Variable("DIALER_SMTP_FROM", "unset",
             "scheduled reports: the sender, one address on one line (`reports@example.com` or "
             "`Reports <reports@example.com>`; required to send: a worker with a wrong one does not start)", _O),
    Variable("DIALER_CLOCK_ANCHOR", "unset",
             "demo only: with `DIALER_CLOCK_SPEED`, every process reads a clock running that many times faster from "
             "this wall-clock instant", _X),
    Variable("DIALER_CLOCK_SPEED", "unset", "demo only: how many times faster than real time the clock runs", _X),
    Variable("DIALER_CLOCK_START", "unset",
             "demo only: what the demo clock reads at the anchor (default: the anchor)", _X),
)

def markdown_table() -> str:
    """The README's Configuration table."""
    rows = ["| variable | default | meaning |", "|---|---|---|"]
    rows += [f"| `{v.name}` | {v.default} | {v.meaning} |" for v in VARIABLES]
    return "\n".join(rows)
