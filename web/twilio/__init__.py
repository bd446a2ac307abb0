"""Twilio webhooks (every route under ``/twilio/``): signed status and AMD callbacks, the TwiML a call runs
(answer hold, safe-harbor message with press-9 opt-out), inbound texts (a STOP is a DNC request), agents'
nailed-up lines (join TwiML, conference events) and browser access tokens.

The routes stay thin: check the signature, parse, call a service, render TwiML.
"""

from web.twilio import agents  # noqa: F401  (registers the agents' routes on the blueprint)
from web.twilio.routes import TwilioWeb, bp, init_twilio
from web.twilio.setup import register_twilio

__all__ = ["TwilioWeb", "bp", "init_twilio", "register_twilio"]
