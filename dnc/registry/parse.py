"""Fast, exact parsing of registry text: one 10-digit number per line, every malformed line named.

A full registry is ~2.8 GB of text, so lines are decoded with numpy in chunks (fixed-width chunks take a
reshape-only fast path); anything that is not exactly ten digits of a valid NANP number is malformed.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import numpy as np

from dnc.errors import UserError
from dnc.parsing import Malformed

CHUNK = 16 << 20
_POW10 = [10 ** (9 - k) for k in range(10)]


def _digits_to_numbers(d: np.ndarray) -> np.ndarray:
    """(n, 10) uint8 ASCII digits -> int64 numbers, column by column to keep temporaries small."""
    out = np.zeros(len(d), dtype=np.int64)
    for k in range(10):
        out += (d[:, k] - 48).astype(np.int64) * _POW10[k]
    return out


def _valid(d: np.ndarray) -> np.ndarray:
    digits = ((d >= 48) & (d <= 57)).all(axis=1)
    return digits & (d[:, 0] >= 50) & (d[:, 3] >= 50)  # NPA and NXX start with 2-9


def parse_chunk(buf: bytes, first_line: int, bad: Malformed) -> tuple[np.ndarray, int]:
    """Numbers of the complete lines in ``buf`` (which ends with a newline) and the number of lines."""
    a = np.frombuffer(buf, dtype=np.uint8)
    n = len(a) // 11
    if len(a) == n * 11:
        view = a.reshape(n, 11)
        if (view[:, 10] == 10).all():  # fast path: every line is exactly ten characters
            d = view[:, :10]
            ok = _valid(d)
            if ok.all():
                return _digits_to_numbers(d), n
    nl = np.flatnonzero(a == 10)
    starts = np.concatenate(([0], nl[:-1] + 1))
    lens = nl - starts
    cr = (lens > 0) & (a[np.maximum(nl - 1, 0)] == 13)
    lens = lens - cr
    numbers = []
    cand = np.flatnonzero(lens == 10)
    for i in range(0, len(cand), 200_000):
        part = cand[i:i + 200_000]
        d = a[starts[part][:, None] + np.arange(10)]
        ok = _valid(d)
        numbers.append(_digits_to_numbers(d[ok]))
        for j in part[~ok]:
            bad.add(first_line + int(j), bytes(a[starts[j]:starts[j] + lens[j]]).decode("utf-8", "replace"),
                    "is not a valid 10-digit NANP number")
    for j in np.flatnonzero((lens != 10) & (lens != 0)):
        bad.add(first_line + int(j), bytes(a[starts[j]:starts[j] + min(lens[j], 40)]).decode("utf-8", "replace"),
                "is not exactly 10 digits")
    return (np.concatenate(numbers) if numbers else np.zeros(0, dtype=np.int64)), len(nl)


def read_numbers(path: str | os.PathLike, bad: Malformed, hasher=None) -> Iterator[tuple[np.ndarray, int]]:
    """Stream a registry text file as (numbers, lines read) (blank lines skipped, malformed ones recorded)."""
    try:
        f = open(path, "rb")  # noqa: SIM115
    except OSError as e:
        raise UserError(f"{path}: cannot read ({e.strerror})") from None
    with f:
        line, rest = 1, b""
        while True:
            block = f.read(CHUNK)
            if hasher is not None and block:
                hasher.update(block)
            if not block:
                if rest:
                    yield parse_chunk(rest + b"\n", line, bad)
                return
            block = rest + block
            cut = block.rfind(b"\n") + 1
            if cut == 0:
                rest = block
                if len(rest) > CHUNK:
                    raise UserError(f"{path}: line {line} is longer than {CHUNK:,} bytes: not a registry file")
                continue
            rest = block[cut:]
            nums, n = parse_chunk(block[:cut], line, bad)
            line += n
            yield nums, n
