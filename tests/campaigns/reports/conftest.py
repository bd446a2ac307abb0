"""Fixtures of the report tests: the hand-built call log of ``reports_support.build_floor``."""

from __future__ import annotations

import pytest

from tests.campaigns.reports.support import Floor, build_floor


@pytest.fixture
def floor(sessions, clock) -> Floor:
    with sessions.begin() as s:
        return build_floor(s, clock)
