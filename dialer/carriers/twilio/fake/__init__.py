"""A Twilio-compatible fake: local HTTP that answers the real twilio library like api.twilio.com does, and plays
scripted call lifecycles by sending correctly signed webhooks to the app (tests, benchmarks, offline demos)."""

from dialer.carriers.twilio.fake.scripts import CallScript, load_scripts
from dialer.carriers.twilio.fake.server import FakeTwilio

__all__ = ["CallScript", "FakeTwilio", "load_scripts"]
