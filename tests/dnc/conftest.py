"""Fixtures of the DNC tests: a snapshot directory per test, a helper that loads a fresh registry, and a stand-in
registry that is fresh on any day (for tests about the calling window over a whole year)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from dnc.registry import Store, generate, load_full
from tests.dnc.audit_helpers import load_state_lists


@pytest.fixture
def store(tmp_path, setenv):
    root = tmp_path / "dnc"
    setenv(DIALER_DNC_DIR=str(root))
    return Store(root)


@pytest.fixture
def registry(session, store, clock, tmp_path):
    """Load a small generated registry for a few area codes (version = today), plus given numbers, and a version
    of every state's own list (naming nobody)."""

    def load(*numbers: str, area_codes=("212", "305", "850", "602", "801", "405"), age_days: int = 0):
        path = generate(tmp_path / "registry.txt", 2_000, area_codes=area_codes, seed=3, include=numbers).path
        load_full(session, store, [path], version_date=(clock.now() - timedelta(days=age_days)).date(),
                  loaded_by="test", now=clock.now(), area_codes=",".join(area_codes))
        load_state_lists(session, tmp_path, clock.now())
        session.commit()
        return store

    return load


class FreshRegistry:
    """A registry that lists nothing and is always of the day asked about: only the other rules decide."""

    generation = "test"

    def __init__(self) -> None:
        self.version = None

    def current(self):
        return self

    def lookup(self, _n: int):
        return False, self.version

    def on(self, day):
        self.version = day
        return self


@pytest.fixture
def any_day_registry():
    return FreshRegistry()
