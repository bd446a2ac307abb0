"""deploy/ runs the commands the topology test runs (tests/test_deploy_topology.py): every command of the compose
file and the systemd units parses as a ``dialer`` command today, and both files start the same set of processes."""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path

import pytest

from dialer.cli import main

DEPLOY = Path(__file__).resolve().parents[1] / "deploy"
PROCESSES = {("db", "upgrade"), ("serve", "console"), ("serve", "webhooks"), ("run",), ("jobs", "serve")}


def compose_commands() -> list[list[str]]:
    text = (DEPLOY / "compose.yaml").read_text()
    return [json.loads(m) for m in re.findall(r'^\s+command: (\["dialer".*\])\s*$', text, re.M)]


def systemd_commands() -> list[list[str]]:
    out = []
    for unit in sorted((DEPLOY / "systemd").glob("*.service")):
        for line in unit.read_text().splitlines():
            if line.startswith("ExecStart="):
                args = shlex.split(line.removeprefix("ExecStart="))
                assert args[0].endswith("/dialer"), unit
                out.append(["dialer", *(a.replace("%i", "1") for a in args[1:])])
    return out


def _process(args: list[str]) -> tuple[str, ...]:
    return tuple(args[1:3]) if args[1] in ("db", "serve", "jobs") else (args[1],)


@pytest.mark.parametrize("source", [compose_commands, systemd_commands])
def test_deploy_starts_every_process_of_the_topology(source):
    commands = source()
    assert {_process(c) for c in commands} == PROCESSES
    assert all("--carrier" in c and "twilio" in c for c in commands if c[1] == "run")


@pytest.mark.parametrize("args", compose_commands() + systemd_commands(), ids=lambda a: " ".join(a[1:4]))
def test_each_deploy_command_parses(args, capsys):
    assert main([*args[1:], "--help"]) in (0, None), capsys.readouterr().err  # an unknown option would exit 2


def test_the_env_example_sets_only_declared_variables():
    from dnc.settings import NAMES

    names = {line.split("=", 1)[0] for line in (DEPLOY / "dialer.env.example").read_text().splitlines()
             if line and not line.startswith("#")}
    assert names <= NAMES and {"DIALER_DATABASE_URL", "DIALER_PUBLIC_BASE_URL", "TWILIO_CPS"} <= names
