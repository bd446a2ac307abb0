"""The chunk coding of stored snapshot files: exact round trips at every density, and damage is detected."""

from __future__ import annotations

import numpy as np
import pytest

from dnc.registry.blobs import decode, encode


@pytest.mark.parametrize("density", [0.0, 1e-6, 1e-3, 0.0123, 0.05, 0.077, 0.5])
def test_every_density_round_trips_and_sparse_chunks_shrink(density):
    raw = np.packbits(np.random.default_rng(1).random(10_000_000) < density, bitorder="little").tobytes()
    codec, data = encode(raw)
    assert decode(codec, data, len(raw)) == raw
    if density <= 0.0123:  # a 50 M-number registry spread over every area code is about 1.2 % dense
        assert codec == "gaps" and len(data) < len(raw) / 8
    if density >= 0.077:  # the whole registry (~250 M numbers): stored as it is
        assert codec == "raw"


def test_long_gaps_and_edge_bits_round_trip():
    for raw in (b"\x01" + bytes(5_000_000) + b"\x80", b"\xff" * 10, b"\x00\x00\x80", bytes(3)):
        assert decode(*encode(raw), len(raw)) == raw


@pytest.mark.parametrize("data, why", [(b"\x80", "truncated"), (b"\x05\x00", "out of order"),
                                       (b"\xff\xff\xff\xff\xff\x01", "too long"), (b"\x7f\x7f", "out of range")])
def test_damaged_gaps_are_refused(data, why):
    with pytest.raises(ValueError, match=why):
        decode("gaps", data, 16)
