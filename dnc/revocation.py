"""Whether a text sent to us revokes consent (F14), the words of ``revocation_words`` in the rules file, or
withdraws the sender's texted STOP, the words of ``opt_in_words``.

The FCC names words that revoke consent by themselves when texted back (stop, quit, end, revoke, opt out, cancel,
unsubscribe); carriers and Twilio add STOPALL. A text saying only one of them is the plain case; a text that uses
one among other words ("please stop calling me") is read the same way, the conservative reading: honoring a
request the sender did not mean costs a lead, ignoring one they did mean is a violation. Words are compared
whole, after case folding and with punctuation read as spaces, so "Stop." and "OPT-OUT" count and "stopwatch"
does not.

An opt-in word (CTIA's START, UNSTOP) counts only when it is the whole text: "don't start calling me" must not
re-admit anyone, so the reading is the narrow one, the safe way round for a word that allows calls again.
"""

from __future__ import annotations

import re
import unicodedata

from dnc.rules import Rules, current_rules

_NOT_WORD = re.compile(r"[\W_]+")


def words(text: str) -> tuple[str, ...]:
    """The text's words, case-folded, with anything that is not a letter or digit read as a space."""
    return tuple(w for w in _NOT_WORD.split(unicodedata.normalize("NFKC", text).casefold()) if w)


def revocation_word(body: str, rules: Rules | None = None) -> str | None:
    """The revocation word or phrase ``body`` uses (as the rules file spells it), or None."""
    said = words(body)
    for phrase in (rules or current_rules()).revocation_words:
        wanted = words(phrase)
        n = len(wanted)
        if n and any(said[i:i + n] == wanted for i in range(len(said) - n + 1)):
            return phrase
    return None


def opt_in_word(body: str, rules: Rules | None = None) -> str | None:
    """The opt-in word ``body`` is, alone (as the rules file spells it), or None."""
    said = words(body)
    return next((w for w in (rules or current_rules()).opt_in_words if said and words(w) == said), None)
