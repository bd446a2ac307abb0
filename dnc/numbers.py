"""Phone-number checks shared by the DNC engine (NANP only: the registry and the rules are US law)."""

from __future__ import annotations

import unicodedata
from functools import lru_cache

import phonenumbers

from dnc.errors import UserError

FICTIONAL = range(100, 200)  # NXX 555, line 0100-0199: reserved for films and books, never assigned to anyone


def nanp_digits(e164: str) -> str | None:
    """The 10 national digits of a valid-looking NANP number (+1 NPA NXX XXXX), else None."""
    if len(e164) != 12 or not e164.startswith("+1"):
        return None
    d = e164[2:]
    if not (d.isascii() and d.isdigit()) or d[0] in "01" or d[3] in "01":  # "２" is a digit to Python, not to a switch
        return None
    return d


def check_e164(e164: str) -> str:
    """Return the national digits or raise a UserError naming the bad number."""
    d = nanp_digits(e164)
    if d is None:
        raise UserError(f"{e164!r} is not a valid North American number in E.164 form (+1NPANXXXXXX)")
    return d


def to_e164(text: str) -> str:
    """Normalize what a user typed (``(212) 555-0123``, ``12125550123``) to E.164, or raise a UserError.

    Digits of any script (full-width ``２１２``, as a phone keyboard or a pasted PDF gives them) are read as the digits
    they are: a do-not-call request typed that way must land on the number itself, not on a look-alike."""
    digits = "".join(str(unicodedata.decimal(c)) for c in text if c.isdecimal())
    if len(digits) == 11 and digits[0] == "1":
        digits = digits[1:]
    return check_e164_from(digits, text)


def check_e164_from(digits: str, original: str) -> str:
    e164 = "+1" + digits
    if nanp_digits(e164) is None:
        raise UserError(f"{original!r} is not a valid North American phone number")
    return e164


@lru_cache(maxsize=1 << 16)
def _prefix_in_service(npa_nxx: str) -> bool:
    """phonenumbers' NANP validity, which depends only on the area code and exchange: one answer per prefix."""
    return phonenumbers.is_valid_number(phonenumbers.parse(f"+1{npa_nxx}2000"))


def invalid_reason(e164: str) -> str | None:
    """Why nobody can be reached at this number (the gate's ``invalid_number``), or None for a dialable one.

    Beyond the E.164 form: an area code or exchange not in service (555, 911 ...) and the 555-0100 to 555-0199
    numbers, which the numbering plan reserves for fiction: a call there reaches no one or a stranger.
    """
    d = nanp_digits(e164)
    if d is None:
        return f"{e164!r} is not a valid North American number (+1NPANXXXXXX)"
    if d[3:6] == "555" and int(d[6:]) in FICTIONAL:
        return f"{e164} is in 555-0100 to 555-0199, numbers reserved for fiction: nobody can be called there"
    if not _prefix_in_service(d[:6]):
        return f"{e164}: no such area code or exchange ({d[:3]}-{d[3:6]}) in the North American numbering plan"
    return None
