"""Texts received: every text people sent to our numbers, newest first, with what it did (compliance officer).

The rows come from ``campaigns.compliance.texts``; this view only puts each outcome in words and pages.
"""

from __future__ import annotations

from flask import render_template, request

from campaigns.compliance.texts import TextRow, received
from web.compliance import bp
from web.context import db
from web.forms import as_id


def outcome(row: TextRow) -> tuple[str, str, str]:
    """(tone, what it did, the detail) of one text, in the officer's words."""
    m, word = row.message, row.message.word
    if m.action == "revocation":
        return "bad", "DNC request made", f"“{word}”: company-wide internal DNC request #{m.entry_id}, consent revoked"
    if m.action == "repeat":
        return "bad", "Repeat of a DNC request", (f"“{word}” again: recorded as a repeat of company-wide internal "
                                                  f"DNC request #{m.entry_id}, still in force; consent since revoked")
    if m.action == "readmission":
        lifted = ", ".join(f"#{i}" for i in row.lifted) or f"#{m.entry_id}"
        plural = "s" if "," in lifted else ""
        return "ok", "Re-admitted", f"“{word}”: lifted the DNC request{plural} {lifted} its own texted STOP made"
    if m.action == "unreadable_sender":
        return "", "Nothing done", f"“{word}” from a sender that is not a North American number: nothing done"
    if word:
        return "", "Nothing", f"“{word}” alone, but nothing to lift: no DNC request made by a text from this number " \
                              "is in force"
    return "", "Nothing", "no revocation or opt-in word"


@bp.get("/texts")
def texts():
    page_no = min(as_id(request.args.get("page")) or 1, 1_000_000)  # the offset, too, must fit the database
    found = received(db(), page_no)
    return render_template("compliance/texts.html", found=found, outcomes=[outcome(r) for r in found.rows])
