from tests.dialer.loop.conftest import floor, kind  # noqa: F401  (the loop's small floor, on every store)
