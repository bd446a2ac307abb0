"""The funnel benchmark's campaign has addresses the gate can place: a made-up ZIP code refuses the lead
(``unknown_zone``), so a generator that made them up timed a funnel with a third of its leads blocked for it."""

from __future__ import annotations

from dialer.bench.funnel import _rows
from dnc.zones import known_zip_codes, location_problems


def test_every_generated_lead_has_a_real_zip_code_and_a_place():
    rows, _ = _rows(2_000, 11)
    known = set(known_zip_codes())
    postal = [r[6] for r in rows]
    assert all(p in known for p in postal), sorted(p for p in postal if p not in known)[:5]
    assert not [r for r in rows if location_problems(r[1], r[6], r[5])]
