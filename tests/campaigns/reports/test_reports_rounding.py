"""A rate reads the same on every screen and in every file, to the last shown decimal.

The floor page is rendered once by the server (``percent_text``) and then refreshed every few seconds by
``web/static/js/floor.js``, which rounds with JavaScript's ``toFixed(1)``: a tie goes up (13 of 400 = 3.25 % ->
"3.3 %"). An XLSX cell with the ``0.0%`` format shows 3.3 % too. The server, the spreadsheet CSV and `dialer
report`'s table rounded ties to even (3.2): the 30-day abandon tile flipped from 3.2 % to 3.3 % on the first poll,
and the compliance page and the CSV said 3.2 % where the floor and the XLSX said 3.3 %.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from campaigns.reports.base import Column
from campaigns.reports.export import XLSX_FORMATS, display
from campaigns.reports.metrics import percent_text
from campaigns.reports.sheet import hms, value

FLOOR_JS = Path(__file__).resolve().parents[3] / "web" / "static" / "js" / "floor.js"


@pytest.mark.parametrize(("n", "d", "shown"), [(13, 400, "3.3"), (9, 400, "2.3"), (1, 16, "6.3"), (1, 80, "1.3"),
                                               (3, 80, "3.8"), (1, 3, "33.3"), (2, 3, "66.7"), (0, 5, "0.0")])
def test_ties_round_up_everywhere_as_on_the_polled_floor(n, d, shown):
    assert "(v * 100).toFixed(1)" in FLOOR_JS.read_text()  # how the floor's polled tiles round
    assert XLSX_FORMATS["rate"] == "0.0%"  # how a spreadsheet shows the exported fraction
    text = percent_text(n / d)
    assert text == f"{shown} %", f"{n} of {d}: the floor's poll shows {shown} %, the page rendered {text}"
    cell = value(Column("abandon_rate", "abandon rate", "rate"), n / d)
    assert cell == float(shown), f"{n} of {d}: the XLSX shows {shown} %, the spreadsheet CSV has {cell}"
    table = display(Column("abandon_rate", "abandon rate", "rate"), n / d)
    assert table == f"{shown}%", f"{n} of {d}: the floor shows {shown} %, `dialer report` prints {table}"


@pytest.mark.parametrize(("seconds", "shown"), [(56.5, "0:00:57"), (0.5, "0:00:01"), (3599.5, "1:00:00"),
                                                (56.49, "0:00:56"), (75, "0:01:15")])
def test_half_seconds_round_up_everywhere_as_on_the_polled_floor(seconds, shown):
    """AHT over two calls of 60 s and 53 s is 56.5 s: the floor's polled tile (``Math.round``) and an XLSX ``[h]:mm:ss``
    cell show 0:00:57; the server-rendered tile (``web.filters.duration``) and the spreadsheet CSV said 0:00:56."""
    from web.filters import duration

    assert "Math.round(s)" in FLOOR_JS.read_text()
    assert duration(seconds) == shown, f"{seconds} s: the floor's poll shows {shown}, the page rendered " \
                                       f"{duration(seconds)}"
    assert hms(seconds) == shown, f"{seconds} s: the floor's poll shows {shown}, the spreadsheet CSV has {hms(seconds)}"
