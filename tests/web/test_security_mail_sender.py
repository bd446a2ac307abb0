"""``DIALER_SMTP_FROM``, the scheduled reports' sender, is checked as the other settings are: one address, no line
break (it becomes the From header: a line break would end that header and start another, a Bcc), refused with a
message naming the variable; a worker given a bad one does not start (exit 2, no traceback) rather than failing
every five minutes in a job result nobody reads."""

from __future__ import annotations

import importlib
from types import SimpleNamespace

import pytest

from dnc.errors import UserError
from dnc.settings import Settings

HOST = {"DIALER_SMTP_HOST": "mail.example.com"}


@pytest.mark.parametrize("sender", ["reports@dialer.example", "Dialer reports <reports@dialer.example>",
                                    "ops.team+reports@mail.dialer.example"])
def test_a_sender_address_is_accepted(sender):
    assert Settings({**HOST, "DIALER_SMTP_FROM": sender}).smtp.sender == sender


CONTROL = "control character"
NOT_ONE = "reports@example.com"  # the example the refusal gives


@pytest.mark.parametrize(("sender", "said"), [
    ("reports@dialer.example\r\nBcc: spy@evil.example", CONTROL), ("reports@dialer.example\nX-Evil: 1", CONTROL),
    ("Reports\r\n <reports@dialer.example>", CONTROL), ("reports@dialer.example\x00", CONTROL),
    ("reports@dialer\u2028.example", CONTROL), ("reports", NOT_ONE),
    ("reports@dialer", NOT_ONE), ("@dialer.example", NOT_ONE), ("reports@@dialer.example", NOT_ONE),
    ("a@dialer.example, b@dialer.example", NOT_ONE), ("a@dialer.example;b@dialer.example", NOT_ONE),
    ("Reports <reports@dialer.example", NOT_ONE), ("<reports@dialer.example> tail", NOT_ONE),
    ("Re<ports <reports@dialer.example>", NOT_ONE), ("reports @dialer.example", NOT_ONE)])
def test_a_sender_that_is_not_one_address_on_one_line_is_refused_naming_the_variable(sender, said):
    with pytest.raises(UserError) as e:
        Settings({**HOST, "DIALER_SMTP_FROM": sender}).smtp  # noqa: B018  (reading it is the check)
    assert str(e.value).startswith("DIALER_SMTP_FROM") and said in str(e.value)


def test_a_worker_with_a_bad_sender_exits_2_naming_it(dialer, monkeypatch):
    """``dialer jobs serve`` (as ``dialer run``, which starts the same scheduler) refuses before any job runs."""
    jobs_cli = importlib.import_module("dialer.cli.jobs")  # the module (``dialer.cli.jobs`` is also the command)

    class Stopped:  # the serve loop returns at once instead of waiting for Ctrl-C (if it gets that far)
        def wait(self, *a):
            raise KeyboardInterrupt

        def set(self):
            pass

    monkeypatch.setattr(jobs_cli, "threading", SimpleNamespace(Event=Stopped))
    monkeypatch.setenv("DIALER_SMTP_HOST", "mail.example.com")
    monkeypatch.setenv("DIALER_SMTP_FROM", "reports@dialer.example\nBcc: spy@evil.example")
    dialer("db", "upgrade")
    r = dialer("jobs", "serve")
    assert r.code == 2, (r.code, r.out, r.err)
    assert r.err.startswith("error: DIALER_SMTP_FROM") and "Traceback" not in r.err + r.out
    assert "serving" not in r.out
