"""Phone numbers to E.164, with phonenumbers' validity rules and a vectorized path for clean NANP numbers.

phonenumbers costs 20-40 µs per number, which alone would cap an import near 30,000 rows/s. Within the NANP
(country code 1) its verdict on a 10-digit national number depends only on the first six digits (NPA-NXX),
so we ask phonenumbers once per six-digit prefix, keep the answers in a 10^6-entry table and look whole
batches up with numpy. Anything that is not plainly "ten digits, maybe +1/1 in front, usual punctuation"
goes through phonenumbers itself, so both paths agree (``tests/campaigns/leadimport/test_phones.py`` checks that).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import NamedTuple

import numpy as np
import phonenumbers
from phonenumbers import PhoneNumberType

from dnc import settings

NANP_REGIONS = frozenset(phonenumbers.COUNTRY_CODE_TO_REGION_CODE[1])

TYPE_NAMES = {
    PhoneNumberType.FIXED_LINE: "fixed_line",
    PhoneNumberType.MOBILE: "mobile",
    PhoneNumberType.FIXED_LINE_OR_MOBILE: "fixed_or_mobile",
    PhoneNumberType.TOLL_FREE: "toll_free",
    PhoneNumberType.PREMIUM_RATE: "premium_rate",
    PhoneNumberType.SHARED_COST: "shared_cost",
    PhoneNumberType.VOIP: "voip",
    PhoneNumberType.PERSONAL_NUMBER: "personal",
    PhoneNumberType.PAGER: "pager",
    PhoneNumberType.UAN: "uan",
    PhoneNumberType.VOICEMAIL: "voicemail",
}
# Table codes: 0 = invalid, otherwise PhoneNumberType + 1 (all known types are 0..10).
_CODE_NAMES: tuple[str | None, ...] = (None,) + tuple(TYPE_NAMES.get(t) for t in range(11))

_SEPARATORS = str.maketrans("", "", " ()-.\t")
_POSSIBLE = {
    phonenumbers.ValidationResult.TOO_SHORT: "too short",
    phonenumbers.ValidationResult.TOO_LONG: "too long",
    phonenumbers.ValidationResult.INVALID_LENGTH: "wrong number of digits",
    phonenumbers.ValidationResult.INVALID_COUNTRY_CODE: "unknown country code",
    phonenumbers.ValidationResult.IS_POSSIBLE_LOCAL_ONLY: "a local number without area code",
}


class Parsed(NamedTuple):
    """The outcome for one cell: ``e164`` and ``phone_type`` when valid, else ``reason``."""

    e164: str | None
    phone_type: str | None = None
    extension: str | None = None
    reason: str | None = None


_INVALID_NANP = Parsed(None, reason="invalid phone number: no such area code or exchange")


def parse_slow(raw: str, region: str) -> Parsed:
    """phonenumbers' full parse: any format, any country, extensions."""
    text = raw.strip()
    if not text:
        return Parsed(None, reason="phone number is empty")
    try:
        num = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException as e:
        return Parsed(None, reason=f"not a phone number ({_parse_error(e)})")
    possible = phonenumbers.is_possible_number_with_reason(num)
    if possible != phonenumbers.ValidationResult.IS_POSSIBLE:
        return Parsed(None, reason=f"impossible phone number: {_POSSIBLE.get(possible, 'wrong length')}")
    if not phonenumbers.is_valid_number(num):
        return Parsed(None, reason="invalid phone number: no such area code or exchange")
    e164 = phonenumbers.format_number(num, phonenumbers.PhoneNumberFormat.E164)
    return Parsed(e164, TYPE_NAMES.get(phonenumbers.number_type(num)), num.extension or None)


def _parse_error(e: phonenumbers.NumberParseException) -> str:
    kinds = {
        phonenumbers.NumberParseException.INVALID_COUNTRY_CODE: "unknown country code",
        phonenumbers.NumberParseException.NOT_A_NUMBER: "no digits that form a number",
        phonenumbers.NumberParseException.TOO_SHORT_AFTER_IDD: "too short",
        phonenumbers.NumberParseException.TOO_SHORT_NSN: "too short",
        phonenumbers.NumberParseException.TOO_LONG: "too long",
    }
    return kinds.get(e.error_type, "unreadable")


def clean_nanp(raw: str) -> int | None:
    """The 10-digit national number if ``raw`` is a plainly written NANP number, else None (use phonenumbers)."""
    s = raw.translate(_SEPARATORS).strip()
    if s.startswith("+"):
        s = s[1:]
        if len(s) != 11 or s[0] != "1":
            return None
    if not (s.isdigit() and s.isascii()):
        return None
    if len(s) == 11 and s[0] == "1":
        s = s[1:]
    elif len(s) != 10:
        return None
    return int(s)


class NanpTable:
    """phonenumbers' verdict per NANP six-digit prefix, filled lazily and cached on disk per library version."""

    def __init__(self, cache_dir: Path | None = None) -> None:
        self.codes = np.zeros(1_000_000, dtype=np.uint8)
        self.known = np.zeros(1_000_000, dtype=bool)
        self.known[:200_000] = True  # area codes starting 0 or 1 do not exist
        self._dirty = False
        self._path = (cache_dir or _cache_dir()) / f"nanp-{phonenumbers.__version__}.npz"
        try:
            with np.load(self._path) as data:
                if data["codes"].shape == self.codes.shape:
                    self.codes[:] = data["codes"]
                    self.known[:] = data["known"]
        except (OSError, KeyError, ValueError):
            pass

    def lookup(self, national: np.ndarray) -> np.ndarray:
        """Type codes (0 = invalid) for an int64 array of 10-digit national numbers."""
        prefixes = national // 10_000
        missing = prefixes[~self.known[prefixes]]
        if missing.size:
            for prefix in np.unique(missing).tolist():
                self.codes[prefix] = _code_for(prefix)
                self.known[prefix] = True
            self._dirty = True
        return self.codes[prefixes]

    def save(self) -> None:
        """Persist newly learned prefixes (best effort: a read-only home only costs speed)."""
        if not self._dirty:
            return
        try:
            self._path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=self._path.parent, suffix=".npz")
            with os.fdopen(fd, "wb") as f:
                np.savez_compressed(f, codes=self.codes, known=self.known)
            os.replace(tmp, self._path)
            self._dirty = False
        except OSError:
            pass


def _code_for(prefix: int) -> int:
    num = phonenumbers.PhoneNumber(country_code=1, national_number=prefix * 10_000)
    kind = phonenumbers.number_type(num)
    return 0 if kind == PhoneNumberType.UNKNOWN else int(kind) + 1


def _cache_dir() -> Path:
    return settings.current().cache_dir


_TABLE: NanpTable | None = None


def nanp_table() -> NanpTable:
    global _TABLE
    if _TABLE is None:
        _TABLE = NanpTable()
    return _TABLE


class PhoneNormalizer:
    """Normalizes a batch of cells against a campaign's default region."""

    def __init__(self, region: str, table: NanpTable | None = None) -> None:
        self.region = region.upper()
        self.fast = self.region in NANP_REGIONS
        self.table = table or (nanp_table() if self.fast else None)

    def normalize(self, cells: Sequence[str]) -> list[Parsed]:
        """One ``Parsed`` per cell, in order: clean NANP numbers by table lookup, the rest by phonenumbers."""
        out: list[Parsed | None] = [None] * len(cells)
        if self.fast:
            idx, nats = [], []
            sep = _SEPARATORS
            for i, cell in enumerate(cells):  # clean_nanp, inlined: this loop runs once per row
                s = cell.translate(sep).strip()
                if s[:1] == "+":
                    s = s[1:]
                    if len(s) != 11 or s[0] != "1":
                        continue
                if not (s.isdigit() and s.isascii()):
                    continue
                if len(s) == 10:
                    idx.append(i)
                    nats.append(int(s))
                elif len(s) == 11 and s[0] == "1":
                    idx.append(i)
                    nats.append(int(s[1:]))
            if nats:
                arr = np.fromiter(nats, dtype=np.int64, count=len(nats))
                codes = self.table.lookup(arr).tolist()
                for i, nat, code in zip(idx, nats, codes, strict=True):
                    out[i] = Parsed(f"+1{nat}", _CODE_NAMES[code]) if code else _INVALID_NANP
        return [p if p is not None else parse_slow(cells[i], self.region) for i, p in enumerate(out)]

    def close(self) -> None:
        if self.table is not None:
            self.table.save()
