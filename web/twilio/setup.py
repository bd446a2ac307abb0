"""Wiring for ``web.create_app``: one call registers the /twilio/ blueprint with what it needs."""

from __future__ import annotations

from collections.abc import Mapping

from flask import Flask, current_app
from sqlalchemy.orm import Session, sessionmaker

from dialer.carriers.twilio.config import load, problems
from dialer.clock import Clock, SystemClock
from dnc import settings
from web.twilio.routes import TwilioWeb, init_twilio


def logged_in_agent_id() -> int | None:
    """The agent behind the console session (flask-login), if any: access tokens are issued only to agents."""
    if not hasattr(current_app, "login_manager"):
        return None
    from flask_login import current_user

    if not current_user.is_authenticated:
        return None
    return getattr(current_user, "agent_id", None)


def register_twilio(app: Flask, sessions: sessionmaker[Session], clock: Clock | None = None,
                    environ: Mapping[str, str] | None = None) -> TwilioWeb:
    """Register /twilio/. Without a valid Twilio environment every route answers 503 (never an unchecked 200).

    A press of 9 goes through ``campaigns.compliance.dnc_requests.record_request``: the internal DNC entry, and the
    number's open callbacks and waiting leads closed at once."""
    from campaigns.compliance.dnc_requests import record_request

    environ = settings.current() if environ is None else environ
    config = None if problems(environ) else load(environ)
    tw = TwilioWeb(config=config, sessions=sessions, clock=clock or SystemClock(), add_to_dnc=record_request,
                   agent_identity=logged_in_agent_id)
    init_twilio(app, tw)
    return tw
