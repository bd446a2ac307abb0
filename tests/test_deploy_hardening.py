"""deploy/ runs every process with no more privilege than it needs: a flaw in the console, the webhooks (which face
the internet) or a library they parse uploads with must not become the host's.

The systemd units sandbox each service (read-only system, no home, private /tmp and devices, no capabilities,
no new privileges, files created unreadable by others); ``systemd-analyze security`` scores what is left. The
Compose services drop every capability and forbid gaining privileges.
"""

from __future__ import annotations

import configparser
import re
import shutil
import subprocess
from pathlib import Path

import pytest

SYSTEMD = Path(__file__).resolve().parents[1] / "deploy" / "systemd"
UNITS = sorted(SYSTEMD.glob("*.service"))
COMPOSE = SYSTEMD.parent / "compose.yaml"

# what every service states (value as written in the unit)
REQUIRED = {
    "NoNewPrivileges": "yes",
    "ProtectSystem": "strict",
    "ReadWritePaths": "/var/lib/opendialer",
    "ProtectHome": "yes",
    "PrivateTmp": "yes",
    "PrivateDevices": "yes",
    "UMask": "0027",
    "CapabilityBoundingSet": "",
    "RestrictSUIDSGID": "yes",
    "RestrictNamespaces": "yes",
    "RestrictRealtime": "yes",
    "LockPersonality": "yes",
    "ProtectKernelTunables": "yes",
    "ProtectKernelModules": "yes",
    "ProtectKernelLogs": "yes",
    "ProtectControlGroups": "yes",
    "ProtectClock": "yes",
    "ProtectHostname": "yes",
    "RestrictAddressFamilies": "AF_UNIX AF_INET AF_INET6",
    "SystemCallArchitectures": "native",
    "SystemCallFilter": "@system-service",
}
MOST_EXPOSURE = 3.0  # systemd-analyze's 0 (locked down) to 10 (unsafe); the units scored 9.2 without a sandbox


def _service(unit: Path) -> dict[str, str]:
    parser = configparser.ConfigParser(strict=False, interpolation=None, delimiters=("=",))
    parser.optionxform = str  # keys keep their case
    parser.read_string(unit.read_text())
    return dict(parser["Service"])


@pytest.mark.parametrize("unit", UNITS, ids=lambda p: p.name)
def test_every_service_runs_as_the_service_user_in_a_sandbox(unit):
    service = _service(unit)
    assert service.get("User") == "dialer"
    missing = {k: v for k, v in REQUIRED.items() if service.get(k) != v}
    assert not missing, f"{unit.name} lacks {missing}"


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze is not installed")
@pytest.mark.parametrize("unit", UNITS, ids=lambda p: p.name)
def test_systemd_rates_each_unit_well_exposed_at_most(unit):
    out = subprocess.run(["systemd-analyze", "security", "--offline=true", "--no-pager", unit.name], cwd=SYSTEMD,
                         capture_output=True, text=True, timeout=60)
    m = re.search(r"Overall exposure level for \S+: ([\d.]+)", out.stdout)
    assert m, out.stdout + out.stderr
    assert float(m.group(1)) <= MOST_EXPOSURE, out.stdout


def test_the_compose_services_of_the_image_drop_every_privilege():
    """The anchor every opendialer service merges (migrate, console, webhooks, worker, jobs) carries both."""
    text = COMPOSE.read_text()
    anchor = text.split("x-dialer: &dialer", 1)[1].split("\nservices:", 1)[0]
    assert re.search(r"^\s+cap_drop: \[ALL\]\s*$", anchor, re.M), anchor
    assert re.search(r'^\s+security_opt: \["no-new-privileges:true"\]\s*$', anchor, re.M), anchor
    assert text.count("<<: *dialer") == 5


# --- what the image and the repository may hold ------------------------------------------------------------------
ROOT = SYSTEMD.parents[1]
SECRETS = ["deploy/dialer.env", "deploy/pg_password.txt"]  # where compose.yaml's instructions put them
LOCAL_STATE = ["var/console-secret-key", "var/uploads/0123/upload.csv", "var/dialer.sqlite3", ".venv/bin/python",
               ".git/config", "dialer.env"]
NEEDED = ["pyproject.toml", "dialer/__init__.py", "web/wsgi.py", "deploy/dialer.env.example", "README.md"]


def _docker_ignored(path: str, patterns: list[str]) -> bool:
    """Docker's .dockerignore rule for the patterns used here: a pattern matches the path or one of its parent
    directories (``**/`` at any depth); the last matching line wins, ``!`` taking a path back."""
    from fnmatch import fnmatchcase

    parts = path.split("/")
    candidates = ["/".join(parts[:i]) for i in range(1, len(parts) + 1)]
    ignored = False
    for raw in patterns:
        negate = raw.startswith("!")
        pattern = raw.removeprefix("!").strip("/")
        tails = [pattern.removeprefix("**/")] if pattern.startswith("**/") else []
        hit = any(fnmatchcase(c, pattern) for c in candidates) or any(
            fnmatchcase("/".join(parts[j:i]), t) for t in tails for i in range(1, len(parts) + 1) for j in range(i))
        if hit:
            ignored = not negate
    return ignored


def test_the_image_is_built_without_the_secrets_and_local_state_beside_the_code():
    """``docker compose build`` sends the repository as the build context and the Dockerfile copies all of it: the
    env file and the database password compose.yaml asks for in deploy/, a workstation's var/ (its console key,
    uploaded lead lists) would be baked into every image layer, readable by anyone who pulls it."""
    path = ROOT / ".dockerignore"
    assert path.exists(), "no .dockerignore: the build context is the whole checkout"
    patterns = [x.strip() for x in path.read_text().splitlines() if x.strip() and not x.startswith("#")]
    assert [p for p in SECRETS + LOCAL_STATE if not _docker_ignored(p, patterns)] == []
    assert [p for p in NEEDED if _docker_ignored(p, patterns)] == []


def test_git_ignores_the_secrets_compose_asks_for():
    out = subprocess.run(["git", "check-ignore", "--no-index", *SECRETS], cwd=ROOT, capture_output=True, text=True)
    assert sorted(out.stdout.split()) == sorted(SECRETS), out.stdout + out.stderr
