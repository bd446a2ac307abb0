"""``dialer twilio``: check the Twilio configuration, run the Twilio-compatible fake server offline."""

from __future__ import annotations

import os
import signal
import threading
from pathlib import Path

import click

from dialer.cli.context import emit_json
from dialer.twilio_config import load, problems
from dnc.errors import UserError


@click.group("twilio")
def twilio() -> None:
    """Live dialing through Twilio: configuration check and the offline fake server."""


@twilio.command("check")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def check(as_json: bool) -> None:
    """Validate the TWILIO_* / DIALER_PUBLIC_BASE_URL environment and name exactly what is missing or wrong."""
    found = problems(os.environ)
    if found:
        raise UserError("Twilio is not configured: " + "; ".join(found))
    cfg = load(os.environ)
    notes = []
    if not cfg.caller_id:
        notes.append("TWILIO_CALLER_ID unset: each campaign's caller ID is used")
    if not cfg.can_issue_tokens:
        notes.append("browser agents disabled: set TWILIO_API_KEY, TWILIO_API_SECRET and TWILIO_TWIML_APP_SID")
    if cfg.public_base_url.startswith("http://"):
        notes.append("DIALER_PUBLIC_BASE_URL is plain http: Twilio should reach the webhooks over https")
    if as_json:
        emit_json({"ok": True, "account_sid": cfg.account_sid, "api_base": cfg.api_base, "cps": cfg.cps,
                   "public_base_url": cfg.public_base_url, "browser_agents": cfg.can_issue_tokens, "notes": notes})
        return
    click.echo(f"Twilio configuration OK: account {cfg.account_sid}, API {cfg.api_base}, {cfg.cps:g} calls/s, "
               f"webhooks at {cfg.public_base_url}/twilio/")
    for n in notes:
        click.echo(f"note: {n}")


@twilio.command("fake-server")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", type=int, default=8765, show_default=True)
@click.option("--scripts", "scripts_path", type=click.Path(path_type=Path), default=None,
              help='JSON: {"default": {...}, "+12125550100": {"answer": "busy"}} (fields of CallScript).')
def fake_server(host: str, port: int, scripts_path: Path | None) -> None:
    """Run the Twilio-compatible fake (point DIALER_TWILIO_API_BASE at it); uses TWILIO_ACCOUNT_SID/AUTH_TOKEN."""
    from dialer.twilio_fake import CallScript, FakeTwilio, load_scripts

    sid, token = os.environ.get("TWILIO_ACCOUNT_SID", ""), os.environ.get("TWILIO_AUTH_TOKEN", "")
    missing = [n for n, v in (("TWILIO_ACCOUNT_SID", sid), ("TWILIO_AUTH_TOKEN", token)) if not v]
    if missing:
        raise UserError(f"the fake server signs webhooks like Twilio: set {' and '.join(missing)}")
    default, scripts = load_scripts(scripts_path) if scripts_path else (CallScript(), {})
    creds = []
    if os.environ.get("TWILIO_API_KEY") and os.environ.get("TWILIO_API_SECRET"):
        creds.append((os.environ["TWILIO_API_KEY"], os.environ["TWILIO_API_SECRET"]))
    try:
        fake = FakeTwilio(sid, token, credentials=creds, default_script=default, scripts=scripts, host=host,
                          port=port)
    except OSError as e:
        raise UserError(f"cannot listen on {host}:{port}: {e.strerror}") from None
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    fake.start()
    click.echo(f"fake Twilio listening on {fake.api_base} "
               f"(export DIALER_TWILIO_API_BASE={fake.api_base}); Ctrl-C stops")
    try:
        stop.wait()
    except KeyboardInterrupt:
        pass
    finally:
        fake.stop()
