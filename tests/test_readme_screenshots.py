"""The README's screenshots: every image it shows exists, and every screenshot a browser test takes is one the README
shows, so a page the tests photograph again never leaves a stale or orphaned picture behind."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHOWN = re.compile(r"\]\((docs/screenshots/[\w.-]+\.png)\)")
TAKEN = re.compile(r"""screenshot\([a-z_]+, ["']([\w-]+)["']\)""")


def test_every_screenshot_shown_exists_and_every_one_taken_is_shown() -> None:
    shown = set(SHOWN.findall((ROOT / "README.md").read_text(encoding="utf-8")))
    assert shown and all((ROOT / p).is_file() for p in shown), sorted(p for p in shown if not (ROOT / p).is_file())
    taken = {f"docs/screenshots/{name}.png" for test in (ROOT / "tests" / "web").glob("test_*.py")
             for name in TAKEN.findall(test.read_text(encoding="utf-8"))}
    assert taken, "no browser test takes a screenshot"
    assert sorted(taken - shown) == [], "taken by a browser test but not shown in the README"
