"""One worker's share of the two-process budget test: book ``N`` send slots on the wall clock from the database's
send clock (as the dial loop does each turn) and print them as JSON."""

from __future__ import annotations

import json
import sys
import time
from datetime import UTC, datetime

from campaigns.db import make_engine, session_factory
from dialer.carriers.sendpace import DatabaseBudget


def main() -> int:
    url, account, rate, want = sys.argv[1], sys.argv[2], float(sys.argv[3]), int(sys.argv[4])
    budget = DatabaseBudget(session_factory(make_engine(url)), account, rate)
    got: list[datetime] = []
    print("ready", flush=True)
    sys.stdin.readline()  # the test starts both workers at once
    while len(got) < want:
        got += budget.reserve(min(3, want - len(got)), datetime.now(UTC), 0.3)
        time.sleep(0.005)
    print(json.dumps([t.isoformat() for t in got]), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
