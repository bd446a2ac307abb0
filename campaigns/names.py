"""Names people type (a campaign, its seller, a list) travel further than the page: into a mail's Subject, a
download's file name, the words a carrier speaks. A line break there ends a header early (a ``Bcc:`` smuggled into
a Subject), and Python's mail library refuses the whole message. So a name is one line of printable text, refused
in words otherwise; and whatever is already stored is made one line again before it goes into a header.
"""

from __future__ import annotations

import re

from dnc.errors import UserError

# Unicode's Cc (C0 and C1 controls, DEL: CR, LF, TAB, NUL, NEL ...) plus its line and paragraph separators (Zl, Zp),
# which several mail and text tools also read as line breaks.
CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_WORDS = {"\n": "a line break", "\r": "a line break", "\u2028": "a line break", "\t": "a tab"}


def name_problem(what: str, text: str) -> str | None:
    """Why ``text`` cannot be ``what`` (e.g. "campaign name"): a fragment in the services' style, or None."""
    m = CONTROL.search(text or "")
    if m is None:
        return None
    ch = m.group()
    return (f"{what} contains {_WORDS.get(ch, 'a control character')} (character {m.start() + 1}, "
            f"U+{ord(ch):04X}); a name is one line of printable text")


def plain_name(what: str, raw: str) -> str:
    """``raw`` without surrounding spaces; refused when empty or when it holds a control character."""
    name = (raw or "").strip()
    if not name:
        raise UserError(f"{what} is empty")
    problem = name_problem(what, name)
    if problem:
        raise UserError(problem)
    return name


def one_line(text: str) -> str:
    """``text`` made safe for a header: each run of control characters, with the spaces around it, becomes one
    space. For names stored before they were checked, and anything else a header is built from."""
    return re.sub(rf"\s*{CONTROL.pattern}+\s*", " ", text or "").strip()
