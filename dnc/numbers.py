"""Phone-number checks shared by the DNC engine (NANP only: the registry and the rules are US law)."""

from __future__ import annotations

from dnc.errors import UserError


def nanp_digits(e164: str) -> str | None:
    """The 10 national digits of a valid-looking NANP number (+1 NPA NXX XXXX), else None."""
    if len(e164) != 12 or not e164.startswith("+1"):
        return None
    d = e164[2:]
    if not d.isdigit() or d[0] in "01" or d[3] in "01":
        return None
    return d


def check_e164(e164: str) -> str:
    """Return the national digits or raise a UserError naming the bad number."""
    d = nanp_digits(e164)
    if d is None:
        raise UserError(f"{e164!r} is not a valid North American number in E.164 form (+1NPANXXXXXX)")
    return d


def to_e164(text: str) -> str:
    """Normalize what a user typed (``(212) 555-0123``, ``12125550123``) to E.164, or raise a UserError."""
    digits = "".join(c for c in text if c.isdigit())
    if len(digits) == 11 and digits[0] == "1":
        digits = digits[1:]
    return check_e164_from(digits, text)


def check_e164_from(digits: str, original: str) -> str:
    e164 = "+1" + digits
    if nanp_digits(e164) is None:
        raise UserError(f"{original!r} is not a valid North American phone number")
    return e164
