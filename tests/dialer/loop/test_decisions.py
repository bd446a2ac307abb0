"""The worker's log says why it dials each campaign or not, once per change."""

from __future__ import annotations

import logging
from collections import Counter

from dialer.loop.decisions import DialDecisions


def test_each_change_is_logged_once_with_its_reason(caplog):
    d = DialDecisions()
    with caplog.at_level(logging.INFO, logger="dialer.decisions"):
        d.note(1, "Spring", preview=False, placed=0, planned=0, claimed_short=False, held_by="nobody",
               refused=Counter())
        d.note(1, "Spring", preview=False, placed=0, planned=0, claimed_short=False, held_by="nobody",
               refused=Counter())
        d.note(1, "Spring", preview=False, placed=0, planned=3, claimed_short=True, held_by=None,
               refused=Counter({"outside_window": 3}))
        d.note(1, "Spring", preview=False, placed=2, planned=2, claimed_short=False, held_by=None, refused=Counter())
        d.note(2, "Autumn", preview=True, placed=0, planned=0, claimed_short=False, held_by=None, refused=Counter())
        d.gone({2}, {1: "Spring", 2: "Autumn"})
    lines = [r.getMessage() for r in caplog.records]
    assert lines == [
        "campaign Spring (1): not dialing: no agent is logged in and unpaused",
        "campaign Spring (1): not dialing: no dialable lead now (the pre-dial gate's last refusals: outside_window 3)",
        "campaign Spring (1): dialing",
        "campaign Autumn (2): preview mode: agents place their own calls",
        "campaign Spring (1): not dialing here any more (paused, finished or owned by another worker)",
    ]
