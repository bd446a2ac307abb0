"""The layering holds (web -> dialer -> campaigns -> dnc, Flask only in web, twilio only in the Twilio carrier and the
webhooks), and the check that says so fails on a breach: the same contracts run on a tiny tree with an upward import."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LINT = shutil.which("lint-imports", path=str(Path(sys.executable).parent)) or "lint-imports"


def _lint(cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([LINT, "--no-cache"], cwd=cwd, capture_output=True, text=True, timeout=300,
                          env={"PATH": str(Path(sys.executable).parent), "PYTHONPATH": str(cwd)})


def test_the_project_keeps_its_layers():
    r = _lint(ROOT)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-2000:]
    assert "Contracts: 3 kept, 0 broken." in r.stdout


def _tree(tmp: Path, files: dict[str, str]) -> Path:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
    lines = ["[tool.importlinter]", 'root_packages = ["dnc", "campaigns", "dialer", "web"]',
             "include_external_packages = true"]
    for c in config["contracts"]:
        lines.append("[[tool.importlinter.contracts]]")
        lines += [f"{k} = {v!r}".replace("'", '"').replace("True", "true") for k, v in c.items()]
    (tmp / "pyproject.toml").write_text("\n".join(lines) + "\n")
    for pkg in ("dnc", "campaigns", "dialer", "dialer/carriers", "dialer/carriers/twilio", "web", "web/twilio"):
        (tmp / pkg).mkdir(parents=True, exist_ok=True)
        (tmp / pkg / "__init__.py").write_text("")
    legal = {"dialer/carriers/twilio/adapter.py": "import twilio.rest\n", "web/twilio/hooks.py": "import twilio\n"}
    for name, text in (legal | files).items():
        (tmp / name).write_text(text)
    return tmp


def test_an_upward_import_breaks_the_check(tmp_path):
    r = _lint(_tree(tmp_path, {"campaigns/models.py": "import dialer.loop\n", "dialer/loop.py": "x = 1\n"}))
    assert r.returncode != 0 and "campaigns.models -> dialer.loop" in r.stdout


def test_flask_or_twilio_outside_their_rooms_breaks_the_check(tmp_path):
    r = _lint(_tree(tmp_path, {"dialer/views.py": "import flask\n", "campaigns/calls.py": "import twilio.rest\n"}))
    assert r.returncode != 0
    assert "dialer.views -> flask" in r.stdout and "campaigns.calls -> twilio" in r.stdout
    assert "adapter" not in r.stdout.split("Broken contracts", 1)[1]  # the carrier itself may import twilio
