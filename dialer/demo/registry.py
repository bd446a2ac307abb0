"""The demo's national registry: a generated one, so the demo campaign is callable (and some leads are listed).

A fresh install dials nothing until a registry is loaded; the demo loads a small synthetic registry for the demo
list's area codes that includes every 20th number of the list, so the import receipt shows real suppressions.
Likewise a state that keeps a do-not-call list of its own is not called into until a version of it is loaded: the
demo loads one for each such state, naming nobody (a real install loads the state's own); and a call resting on
consent waits for Reassigned Numbers Database data, so the demo loads data of the day recording no disconnection.
"""

from __future__ import annotations

import contextlib
import csv
from datetime import datetime
from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

from campaigns.db import session_scope
from dnc.errors import UserError
from dnc.lists import load_list
from dnc.numbers import to_e164
from dnc.reassigned import load_rnd
from dnc.registry import default_store, generate, load_full
from dnc.rules import current_rules


def load_demo_registry(sessions: sessionmaker[Session], now: datetime, list_path: Path) -> int:
    phones, npas = [], set()
    with open(list_path, newline="", encoding="utf-8") as f:
        rows = csv.reader(f)
        header = next(rows, [])
        col = header.index("Phone") if "Phone" in header else 2
        for i, row in enumerate(rows):
            if len(row) > col:
                with contextlib.suppress(UserError):
                    e164 = to_e164(row[col])
                    npas.add(e164[2:5])
                    if i % 20 == 0:
                        phones.append(e164)
    path = list_path.with_name(list_path.stem + "-registry.txt")
    generated = generate(path, 5_000, area_codes=sorted(npas), seed=len(phones), include=phones)
    with session_scope(sessions) as s:  # the list's area codes only: a bitset per area code is 1.25 MB
        load_full(s, default_store(), [path], version_date=now.date(), loaded_by="demo", now=now,
                  area_codes=sorted(npas))
        empty = list_path.with_name(list_path.stem + "-state-list.txt")
        empty.write_text("", encoding="utf-8")
        for state in sorted(code for code, rule in current_rules().states.items() if rule.own_list):
            load_list(s, "state", empty, key=state, version_date=now.date(), loaded_by="demo", now=now)
        load_rnd(s, empty, version_date=now.date(), loaded_by="demo", now=now)
        empty.unlink()
    path.unlink(missing_ok=True)
    return generated.count
