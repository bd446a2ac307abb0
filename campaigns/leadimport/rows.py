"""One batch of raw rows in, lead and rejected-row tuples out: the per-row rules of an import.

Kept free of I/O (the service reads and writes) so the rules can be tested and timed on their own. Counts
are kept here, so every row ends up in exactly one of accepted, duplicates, rejected or suppressed.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field

from campaigns.leadimport.mapping import US_REGIONS, ColumnMap, clean_postal, clean_state
from campaigns.leadimport.phones import PhoneNormalizer
from campaigns.leadimport.scrub import LeadCandidate, Scrubber
from dnc.reasons import stored
from dnc.zones import UNREADABLE_STATE, UNREADABLE_ZIP, candidate_zones

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_json = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


@dataclass
class Counts:
    rows: int = 0
    accepted: int = 0
    duplicates: int = 0
    rejected: int = 0
    suppressed: int = 0
    suppressed_by: Counter[str] = field(default_factory=Counter)


def unescape(cell: str) -> str:
    """Undo the quote our rejected-rows export puts before formula-looking cells, so a fixed file round-trips."""
    return cell[1:] if cell[:1] == "'" and cell[1:2] in FORMULA_START and len(cell) > 1 else cell


@dataclass(frozen=True)
class Target:
    """Where the rows go and the rules that apply there."""

    campaign_id: int
    list_id: int
    region: str
    dedupe_scope: str


class RowProcessor:
    """Applies ragged-row checks, phone normalization, de-duplication, field cleaning and the scrub."""

    def __init__(self, target: Target, columns: ColumnMap, existing: set[int], scrubber: Scrubber | None) -> None:
        self.t, self.columns, self.existing, self.scrubber = target, columns, existing, scrubber
        self.normalizer = PhoneNormalizer(target.region)
        self.seen: dict[int, int] = {}
        self.counts = Counts()
        self.width = len(columns.header)
        f = columns.fields
        self.i_phone = f["phone"]
        self.i_first, self.i_last, self.i_name = f.get("first_name"), f.get("last_name"), f.get("name")
        self.i_state, self.i_postal = f.get("state"), f.get("postal_code")
        self.phone_header = columns.header[self.i_phone]
        self._states: dict[str, str | None] = {}
        self._postals: dict[str, str | None] = {}

    def close(self) -> None:
        self.normalizer.close()

    def process(self, batch: list[tuple[int, list[str]]]) -> tuple[list[tuple], list[tuple]]:
        """Return ``(lead_rows, reject_rows)`` for one batch."""
        c, width, ip = self.counts, self.width, self.i_phone
        c.rows += len(batch)
        rejects: list[tuple] = []
        kept: list[tuple[int, list[str]]] = []
        for line, cells in batch:
            n = len(cells)
            if n > width and any(x.strip() for x in cells[width:]):
                rejects.append(self._reject(line, cells, f"column {width + 1}",
                                            f"row has {n} cells but the header has {width} "
                                            "(a stray delimiter or an unquoted comma?)"))
            elif ip >= n:
                rejects.append(self._reject(line, cells, self.phone_header,
                                            f"row has only {n} cells: no phone number"))
            else:
                kept.append((line, cells))
        parsed = self.normalizer.normalize([cells[ip] for _, cells in kept])
        staged = []
        seen, existing = self.seen, self.existing
        for (line, cells), p in zip(kept, parsed, strict=True):
            e164 = p.e164
            if e164 is None:
                rejects.append(self._reject(line, cells, self.phone_header, f"{p.reason}: {cells[ip].strip()!r}"))
                continue
            key = int(e164[1:])
            if key in existing:
                where = "this campaign" if self.t.dedupe_scope == "campaign" else "another list"
                rejects.append(self._reject(line, cells, self.phone_header, f"{e164} is already in {where}",
                                            "duplicate"))
            elif key in seen:
                rejects.append(self._reject(line, cells, self.phone_header, f"{e164} duplicates line {seen[key]}",
                                            "duplicate"))
            else:
                seen[key] = line
                staged.append((line, cells, p))
        return self._leads(staged), rejects

    def _reject(self, line: int, cells: list[str], column: str, reason: str, kind: str = "rejected") -> tuple:
        if kind == "duplicate":
            self.counts.duplicates += 1
        else:
            self.counts.rejected += 1
        return (self.t.list_id, line, column[:200], kind, reason[:400], _json(cells))

    def _leads(self, staged: list) -> list[tuple]:
        t, header = self.t, self.columns.header
        custom_cols = self.columns.custom
        i_first, i_last, i_name, i_state, i_postal = self.i_first, self.i_last, self.i_name, self.i_state, self.i_postal
        states, postals, region = self._states, self._postals, t.region
        built: list[tuple] = []
        for line, cells, p in staged:
            n = len(cells)
            custom = {h: cells[i] for i, h in custom_cols if i < n and cells[i]}
            first = cells[i_first].strip() if i_first is not None and i_first < n else ""
            last = cells[i_last].strip() if i_last is not None and i_last < n else ""
            if i_name is not None and i_name < n:
                first, _, last = cells[i_name].strip().partition(" ")
            if len(first) > 200 or len(last) > 200:
                custom["full_name"] = f"{first} {last}".strip()
                first, last = first[:200], last[:200]
            state = postal = None
            if i_state is not None and i_state < n and cells[i_state]:
                raw = cells[i_state]
                state = states[raw] if raw in states else states.setdefault(raw, clean_state(raw))
                if state is None:  # kept as written, and marked: an address we cannot read is never skipped
                    custom[header[i_state]] = raw
                    state = UNREADABLE_STATE
            if i_postal is not None and i_postal < n and cells[i_postal]:
                raw = cells[i_postal]
                if raw in postals:
                    postal = postals[raw]
                else:
                    postal = clean_postal(raw, region)
                    if len(postals) < 200_000:
                        postals[raw] = postal
                if postal is None:
                    custom[header[i_postal]] = raw
                    postal = UNREADABLE_ZIP if region in US_REGIONS else None
            if p.extension:
                custom["phone_ext"] = p.extension
            encoded = _json(custom) if custom else "{}"
            if "\"'" in encoded:  # a value may carry the export's formula quote: strip it (rare, so checked late)
                custom = {k: unescape(v) for k, v in custom.items()}
                encoded = _json(custom)
            if first[:1] == "'" or last[:1] == "'":
                first, last = unescape(first), unescape(last)
            built.append((line, p.e164, p.phone_type, first, last, state, postal,
                          ",".join(candidate_zones(p.e164, postal)), encoded, "new", None))
        self.counts.accepted += len(built)
        if self.scrubber is not None and built:
            built = scrub_leads(built, self.scrubber, self.counts)
        return built


def scrub_leads(rows: list[tuple], scrubber: Scrubber, counts: Counts) -> list[tuple]:
    """Apply the suppression scrub to lead tuples (shaped like ``store.LEAD_COLUMNS``, counted as accepted):
    a suppressed lead keeps its row with status ``suppressed`` and its reasons (``dnc.reasons.stored``: each code
    with its words, the format the gate writes at dial time), and moves from accepted to suppressed in ``counts``."""
    candidates = [LeadCandidate(r[1], r[5], r[6], tuple(r[7].split(",")) if r[7] else (), r[0]) for r in rows]
    verdicts = scrubber(candidates)
    if len(verdicts) != len(candidates):
        raise RuntimeError(f"scrubber returned {len(verdicts)} verdicts for {len(candidates)} leads")
    out = []
    for row, reasons in zip(rows, verdicts, strict=True):
        if reasons:
            row = (*row[:9], "suppressed", stored(reasons))
            counts.accepted -= 1
            counts.suppressed += 1
            counts.suppressed_by.update(reasons)
        out.append(row)
    return out
