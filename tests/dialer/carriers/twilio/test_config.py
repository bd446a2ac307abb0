import pytest

from dialer.carriers.twilio.config import TWILIO_API_BASE, load, problems
from dnc.errors import UserError
from tests.dialer.carriers.twilio.support import ACCOUNT_SID, API_SECRET, AUTH_TOKEN, env


def test_complete_environment_loads_with_defaults():
    cfg = load(env("https://dialer.example.com/"))
    assert cfg.account_sid == ACCOUNT_SID and cfg.auth_token == AUTH_TOKEN
    assert cfg.public_base_url == "https://dialer.example.com" and cfg.api_base == TWILIO_API_BASE
    assert cfg.cps == 1.0 and cfg.can_issue_tokens
    assert cfg.rest_username.startswith("SK")  # API key preferred over the auth token


def test_empty_environment_names_every_missing_variable():
    found = " | ".join(problems({}))
    for name in ("TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "DIALER_PUBLIC_BASE_URL"):
        assert name in found
    with pytest.raises(UserError, match="TWILIO_ACCOUNT_SID is not set"):
        load({})


@pytest.mark.parametrize("override, message", [
    ({"TWILIO_ACCOUNT_SID": "AC123"}, "TWILIO_ACCOUNT_SID must be AC followed by 32 hex digits"),
    ({"TWILIO_API_SECRET": ""}, "TWILIO_API_SECRET is missing"),
    ({"TWILIO_CALLER_ID": "555-0100"}, "TWILIO_CALLER_ID '555-0100' is not an E.164 number"),
    ({"DIALER_PUBLIC_BASE_URL": "dialer.example.com"}, "is not an http(s) URL"),
    ({"TWILIO_CPS": "fast"}, "TWILIO_CPS 'fast'"),
    ({"TWILIO_CPS": "0"}, "TWILIO_CPS '0'"),
    ({"DIALER_TWILIO_API_BASE": "http://127.0.0.1:9/x"}, "bare http(s)://host[:port]"),
    ({"TWILIO_TWIML_APP_SID": "XX1"}, "TWILIO_TWIML_APP_SID must be AP"),
])
def test_each_malformed_variable_is_named(override, message):
    with pytest.raises(UserError) as e:
        load(env("https://dialer.example.com") | override)
    assert message in str(e.value)


def test_cli_check_reports_missing_and_ok(dialer, monkeypatch):
    for k in env("x"):
        monkeypatch.delenv(k, raising=False)
    r = dialer("twilio", "check")
    assert r.code == 2
    assert "TWILIO_ACCOUNT_SID is not set" in r.err and "DIALER_PUBLIC_BASE_URL is not set" in r.err
    for k, v in env("https://dialer.example.com", TWILIO_CPS="5").items():
        monkeypatch.setenv(k, v)
    r = dialer("twilio", "check")
    assert r.code == 0, r.err
    assert "Twilio configuration OK" in r.out and "5 calls/s" in r.out


def test_the_secrets_never_show_in_the_configs_text():
    """A config logged, shown in a traceback or dumped in a debugger names the account, never the auth token nor
    the API secret (whoever reads a log must not be able to call as the company)."""
    cfg = load(env("https://dialer.example.com/"))
    for text in (repr(cfg), str(cfg), f"{cfg}"):
        assert AUTH_TOKEN not in text and API_SECRET not in text
        assert ACCOUNT_SID in text
