"""`dialer` run where a demo is running uses that demo (its env.sh) without being told, and says so; with no demo
running, or with a database named, it does not."""

from __future__ import annotations

import json
import os

from dialer.cli import main
from dialer.demo.launch import write_env_file


def test_dialer_adopts_the_running_demo(db_url, tmp_path, monkeypatch, capsys, setenv, sessions, clock):
    from campaigns.campaign.service import create_campaign

    with sessions() as s:
        create_campaign(s, "Demo", "+12125550100", clock.now())
        s.commit()
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("DIALER_DATABASE_URL", raising=False)
    demo = tmp_path / "var" / "demo"
    demo.mkdir(parents=True)
    write_env_file(demo, {"DIALER_DATABASE_URL": db_url, "DIALER_CLOCK_SPEED": "4",
                          "DIALER_CLOCK_ANCHOR": "2030-01-08T17:00:00+00:00"})
    capsys.readouterr()
    assert main(["campaigns", "list", "--json"]) == 2  # no demo running: the default database, which has nothing
    assert "using the running demo" not in capsys.readouterr().err
    (demo / "demo.pid").write_text(str(os.getpid()))
    assert main(["campaigns", "list", "--json"]) == 0
    out = capsys.readouterr()
    assert [c["name"] for c in json.loads(out.out)["campaigns"]] == ["Demo"]
    assert "(using the running demo: var/demo/env.sh)" in out.err


def test_the_demo_starts_from_a_shell_set_up_for_live_dialing(tmp_path):
    """A shell with an https ``DIALER_PUBLIC_BASE_URL`` (an operator's, set up for Twilio) refuses a console on plain
    http with insecure cookies; the demo serves plain http on 127.0.0.1 and has no Twilio, so its processes must not
    inherit that address (the demo refused to start)."""
    from datetime import UTC, datetime

    from dialer.demo.launch import demo_settings
    from dnc import settings
    from dnc.console_settings import cookie_problem

    with settings.overridden(DIALER_PUBLIC_BASE_URL="https://dialer.example.com"):
        assert cookie_problem(settings.current().replace(DIALER_COOKIE_SECURE="0")) is not None
        with settings.overridden(**demo_settings(tmp_path, 4.0, datetime(2030, 1, 8, 17, tzinfo=UTC))):
            assert cookie_problem(settings.current()) is None
            assert "DIALER_PUBLIC_BASE_URL" not in settings.child_environ()
