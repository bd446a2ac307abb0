"""Reading list files line by line with errors a user can act on (file, line, what is wrong)."""

from __future__ import annotations

import hashlib
import os
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from dnc.errors import UserError

EXAMPLES = 10


@dataclass
class Malformed:
    """Malformed lines of one file: all counted, the first few kept to quote in the error."""

    name: str
    count: int = 0
    examples: list[tuple[int, str, str]] = field(default_factory=list)

    def add(self, line: int, text: str, why: str) -> None:
        self.count += 1
        if len(self.examples) < EXAMPLES:
            self.examples.append((line, text[:40], why))

    def describe(self) -> str:
        shown = "; ".join(f"line {n}: {t!r} {why}" for n, t, why in self.examples)
        more = f"; and {self.count - len(self.examples):,} more" if self.count > len(self.examples) else ""
        return f"{self.count:,} malformed line(s): {shown}{more}"

    def check(self, tolerated: int, what: str) -> None:
        if self.count > tolerated:
            raise UserError(f"{self.name}: {self.describe()}; nothing was loaded and the current {what} stays in "
                            f"force" + (f" ({tolerated:,} tolerated)" if tolerated else ""))


def open_lines(path: str | os.PathLike) -> Iterator[tuple[int, str]]:
    """(line number, stripped text) of every non-blank, non-comment line; a UserError if unreadable."""
    p = Path(path)
    try:
        f = p.open("r", encoding="utf-8-sig", errors="strict")
    except OSError as e:
        raise UserError(f"{p}: cannot read ({e.strerror})") from None
    with f:
        n = 0
        try:
            for n, raw in enumerate(f, 1):  # noqa: B007
                text = raw.strip()
                if text and not text.startswith("#"):
                    yield n, text
        except UnicodeDecodeError:
            raise UserError(f"{p}: line {n + 1}: not UTF-8 text (is this the right file?)") from None


def sha256_of(path: str | os.PathLike) -> str:
    h = hashlib.sha256()
    try:
        with open(path, "rb") as f:
            while chunk := f.read(1 << 22):
                h.update(chunk)
    except OSError as e:
        raise UserError(f"{path}: cannot read ({e.strerror})") from None
    return h.hexdigest()


def ascii_digits(text: str) -> str:
    """``text`` with every decimal digit of any script as its ASCII digit (``２１２`` → ``212``). Other characters
    stay, so a superscript ``³`` (a digit to ``str.isdigit``, no number a switch dials) still fails a check."""
    return "".join(str(unicodedata.decimal(c)) if c.isdecimal() else c for c in text)


def number_digits(text: str) -> str | None:
    """10 NANP digits from ``2125550123``, ``+1 212-555-0123``, ``(212) 555-0123``; None when not a number."""
    text = ascii_digits(text)
    digits = "".join(c for c in text if c.isascii() and c.isdigit())
    if len(digits) == 11 and digits[0] == "1":
        digits = digits[1:]
    if len(digits) != 10 or digits[0] in "01" or digits[3] in "01":
        return None
    if any(not ((c.isascii() and c.isdigit()) or c in " +-().") for c in text):
        return None
    return digits
