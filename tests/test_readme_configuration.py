"""The README's Configuration table is the settings declaration, word for word (``python -m dnc.settings --markdown``),
and no module besides ``dnc/settings.py`` reads the environment."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

from dnc.settings import NAMES, markdown_table

ROOT = Path(__file__).resolve().parents[1]


def test_readme_configuration_table_is_generated_from_the_settings():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Configuration", 1)[1].split("\n## ", 1)[0]
    assert markdown_table() in section


def test_every_variable_the_readme_names_is_declared():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    named = set(re.findall(r"\b((?:DIALER|TWILIO)_[A-Z_]+[A-Z])\b", readme))
    assert named - NAMES - {"TWILIO_EDGE", "TWILIO_REGION"} == set()  # those two are the library's, which we ignore


def test_only_the_settings_module_reads_the_environment():
    found = subprocess.run(["git", "grep", "-l", "-E", r"os\.environ|os\.getenv", "--", "*.py", ":!tests/*"],
                           cwd=ROOT, capture_output=True, text=True).stdout.split()
    assert found == ["dnc/settings.py"]
