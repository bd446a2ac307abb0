"""The suppression hook an import calls per batch, and the small value it hands over.

``campaigns`` must not know how DNC lists, registries or consent work; the DNC engine implements a
``Scrubber`` and the caller (CLI, console) passes it in. An empty tuple means the lead may be called;
otherwise the reasons are stored on the lead, which is kept with status ``suppressed`` so list-close
reports can count it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True)
class LeadCandidate:
    """What a scrub needs to judge one accepted, de-duplicated row."""

    e164: str
    state: str | None
    postal_code: str | None
    zones: tuple[str, ...]
    line: int


class Scrubber(Protocol):
    """A scrubber may also have ``record(session, *, list_ref, file_sha256)``: the import calls it once, in its own
    transaction, so the record of the list load is stored with the list or not at all."""

    def __call__(self, candidates: Sequence[LeadCandidate]) -> Sequence[tuple[str, ...]]: ...
