"""The loop's minute tally: the sums of the last 60 s of turns, older turns dropped."""

from datetime import UTC, datetime, timedelta

from dialer.loop.tally import MinuteTally


def test_the_tally_sums_the_last_minute_only():
    t0 = datetime(2030, 1, 8, 17, 0, tzinfo=UTC)
    tally = MinuteTally()
    for i in range(280):  # 70 s of 0.25 s turns, one call placed every 2 s
        tally.add(7, t0 + timedelta(seconds=i / 4), 1 if i % 8 == 0 else 0, 1 if i % 8 == 0 else 0)
    out = tally.summary(7, t0 + timedelta(seconds=279 / 4))
    assert out["placed"] == 30 and out["planned"] == 30 and out["seconds"] == 59.8
    assert tally.summary(8, t0) == {"seconds": 0.0, "turns": 0, "planned": 0, "placed": 0}
