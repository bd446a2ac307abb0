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
