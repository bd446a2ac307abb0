"""A synthetic National DNC Registry in the registry's flat-file format (one 10-digit number per line).

For the demo, the tests and ``dialer bench dnc``: numbers are unique, sorted per area code like the real full
lists, and spread over real area codes; ``include`` forces given numbers in (so a demo list has hits).
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from dnc.numbers import nanp_digits
from dnc.zones import _npa_states

LOCALS = 8_000_000  # NXX 200-999 x 10,000 lines


@dataclass(frozen=True)
class Generated:
    path: Path
    count: int
    area_codes: tuple[str, ...]
    bytes: int


def _lines(numbers: np.ndarray) -> bytes:
    out = np.empty((len(numbers), 11), dtype=np.uint8)
    n = numbers.copy()
    for k in range(9, -1, -1):
        n, r = np.divmod(n, 10)
        out[:, k] = r + 48
    out[:, 10] = 10
    return out.tobytes()


def generate(path: str | os.PathLike, count: int, *, area_codes: Iterable[str] | None = None, seed: int = 0,
             include: Iterable[str] = ()) -> Generated:
    """Write ``count`` unique registered numbers (plus ``include``) over ``area_codes`` (default: every known one)."""
    rng = np.random.default_rng(seed)
    npas = sorted(area_codes) if area_codes is not None else sorted(_npa_states())
    extra: dict[str, list[int]] = {}
    for e164 in include:
        d = nanp_digits(e164)
        if d is not None:
            extra.setdefault(d[:3], []).append(int(d[3:]))
    per = rng.multinomial(count, [1 / len(npas)] * len(npas)) if npas else []
    path = Path(path)
    written = 0
    with open(path, "wb") as f:
        for npa, k in zip(npas, per, strict=True):
            k = min(int(k), LOCALS)
            if k >= LOCALS // 8:
                chosen = np.flatnonzero(rng.random(LOCALS) < min(1.0, k * 1.01 / LOCALS))
            else:
                chosen = np.unique(rng.integers(0, LOCALS, size=int(k * (1 + k / LOCALS)) + 16))
            while len(chosen) < k:  # rare: top up, then trim to exactly k (numbers are unique, like the registry)
                chosen = np.union1d(chosen, rng.integers(0, LOCALS, size=k - len(chosen) + 16))
            if len(chosen) > k:
                chosen = np.sort(rng.choice(chosen, size=k, replace=False))
            locals_ = chosen.astype(np.int64) + 2_000_000
            if npa in extra:
                locals_ = np.union1d(locals_, np.array(extra.pop(npa), dtype=np.int64))
            f.write(_lines(int(npa) * 10_000_000 + locals_))
            written += len(locals_)
        for npa, locs in sorted(extra.items()):
            nums = int(npa) * 10_000_000 + np.unique(np.array(locs, dtype=np.int64))
            f.write(_lines(nums))
            written += len(nums)
    return Generated(path, written, tuple(npas), path.stat().st_size)
