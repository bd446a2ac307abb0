"""Which column is the phone, the name, the state …: header detection and column mapping.

CRM exports and vendor lists name their columns every which way (``Phone #``, ``Tel``, ``ZIP``) and sometimes
have no header at all. The phone column is found by name, else by content; an explicit ``--map`` wins. Every
column that is not a lead field is kept as a custom field, so nothing the user uploaded is dropped.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from dnc.errors import UserError

FIELDS = ("phone", "first_name", "last_name", "name", "state", "postal_code")

SYNONYMS: dict[str, tuple[str, ...]] = {
    "phone": ("phone", "phonenumber", "phoneno", "phonenum", "telephone", "telephonenumber", "tel", "telno",
              "mobile", "mobilephone", "mobilenumber", "cell", "cellphone", "cellnumber", "number", "primaryphone",
              "homephone", "workphone", "phone1", "contactnumber", "contactphone", "msisdn", "dialnumber"),
    "first_name": ("firstname", "first", "fname", "givenname", "forename"),
    "last_name": ("lastname", "last", "lname", "surname", "familyname"),
    "name": ("name", "fullname", "contactname", "customername", "leadname"),
    "state": ("state", "st", "province", "stateprovince", "statecode", "prov"),
    "postal_code": ("zip", "zipcode", "postalcode", "postcode", "zip5", "postal"),
}
_BY_SYNONYM = {syn: f for f, syns in SYNONYMS.items() for syn in syns}
# The column our rejected-rows export appends; dropped when such a file comes back fixed.
EXPORT_REASON_COLUMN = "reason"

_PHONEISH = re.compile(r"^[\s+()\-./0-9]*(?:(?:ext\.?|x|#)\s*\d+)?\s*$", re.IGNORECASE)


def norm(header: str) -> str:
    return re.sub(r"[^a-z0-9]", "", header.lower())


def looks_like_phone(cell: str) -> bool:
    digits = sum(ch.isdigit() for ch in cell)
    return 7 <= digits <= 16 and bool(_PHONEISH.match(cell.lstrip("'")))


@dataclass(frozen=True)
class ColumnMap:
    """Resolved layout: the header names, which index feeds which field, and which columns are custom."""

    header: tuple[str, ...]
    has_header: bool
    fields: dict[str, int]
    custom: tuple[tuple[int, str], ...]
    ignored: tuple[int, ...] = ()

    @property
    def phone(self) -> int:
        return self.fields["phone"]

    def describe(self) -> dict[str, str]:
        return {f: self.header[i] for f, i in self.fields.items()}


def parse_map_option(values: Sequence[str]) -> dict[str, str]:
    """``--map phone=Phone,state=ST`` (repeatable) into ``{"phone": "Phone", "state": "ST"}``."""
    out: dict[str, str] = {}
    for value in values:
        for part in value.split(","):
            if not part.strip():
                continue
            key, sep, col = part.partition("=")
            if not sep or not key.strip() or not col.strip():
                raise UserError(f"--map {part!r}: write FIELD=COLUMN, e.g. phone=Phone")
            out[key.strip().lower()] = col.strip()
    return out


def is_header(first: Sequence[str]) -> bool:
    """A first row is a header unless one of its cells is a phone number (vendor lists without a header)."""
    cells = [c.strip() for c in first if c.strip()]
    return bool(cells) and not any(looks_like_phone(c) for c in cells)


def build_map(first: Sequence[str], sample: Sequence[Sequence[str]], name: str,
              explicit: Mapping[str, str] | None = None) -> ColumnMap:
    """Resolve the layout from the first non-blank row and a sample of the rows after it."""
    has_header = is_header(first)
    width = len(first) if has_header else max([len(first), *(len(r) for r in sample)])
    header = _unique([c.strip() for c in first] if has_header else [], width)
    ignored: tuple[int, ...] = ()
    if has_header and len(header) > 1 and header[-1] == EXPORT_REASON_COLUMN:
        ignored = (len(header) - 1,)
    fields = _explicit(explicit, header, name) if explicit else {}
    taken = set(fields.values()) | set(ignored)
    for i, h in enumerate(header if has_header else []):
        field = _BY_SYNONYM.get(norm(h))
        if field and field not in fields and i not in taken:
            fields[field] = i
            taken.add(i)
    if "phone" not in fields:
        by_content = _phone_by_content(sample if has_header else [first, *sample], width, taken)
        if by_content is None:
            cols = ", ".join(header) if has_header else f"{width} unnamed columns"
            raise UserError(f"{name}: no phone column: no header names a phone and no column holds phone numbers "
                            f"(columns: {cols}); say which column is the phone")
        fields["phone"] = by_content
        taken.add(by_content)
    if "name" in fields and ("first_name" in fields or "last_name" in fields):
        del fields["name"]  # a full-name column next to first/last stays a custom field
        taken = set(fields.values()) | set(ignored)
    custom = tuple((i, header[i]) for i in range(len(header)) if i not in taken)
    return ColumnMap(tuple(header), has_header, fields, custom, ignored)


def _unique(names: list[str], width: int) -> list[str]:
    out: list[str] = []
    seen: set[str] = set()
    for i in range(width):
        base = names[i] if i < len(names) and names[i] else f"column_{i + 1}"
        cand, n = base, 2
        while cand in seen:
            cand, n = f"{base} ({n})", n + 1
        seen.add(cand)
        out.append(cand)
    return out


def _explicit(explicit: Mapping[str, str], header: list[str], name: str) -> dict[str, int]:
    fields: dict[str, int] = {}
    lowered = {h.lower(): i for i, h in enumerate(header)}
    for field, col in explicit.items():
        if field not in FIELDS:
            raise UserError(f"--map {field}={col}: unknown field {field!r} (fields: {', '.join(FIELDS)})")
        if col.isdigit() and 1 <= int(col) <= len(header):
            fields[field] = int(col) - 1
        elif col.lower() in lowered:
            fields[field] = lowered[col.lower()]
        else:
            raise UserError(f"--map {field}={col}: {name} has no column {col!r} "
                            f"(columns: {', '.join(header)}; or give a column number)")
    return fields


def _phone_by_content(rows: Sequence[Sequence[str]], width: int, taken: set[int]) -> int | None:
    best, best_share = None, 0.5
    for i in range(width):
        if i in taken:
            continue
        cells = [r[i].strip() for r in rows if i < len(r) and r[i].strip()]
        if not cells:
            continue
        share = sum(looks_like_phone(c) for c in cells) / len(cells)
        if share > best_share:
            best, best_share = i, share
    return best


US_STATES = {
    "alabama": "AL", "alaska": "AK", "arizona": "AZ", "arkansas": "AR", "california": "CA", "colorado": "CO",
    "connecticut": "CT", "delaware": "DE", "districtofcolumbia": "DC", "florida": "FL", "georgia": "GA",
    "hawaii": "HI", "idaho": "ID", "illinois": "IL", "indiana": "IN", "iowa": "IA", "kansas": "KS",
    "kentucky": "KY", "louisiana": "LA", "maine": "ME", "maryland": "MD", "massachusetts": "MA",
    "michigan": "MI", "minnesota": "MN", "mississippi": "MS", "missouri": "MO", "montana": "MT",
    "nebraska": "NE", "nevada": "NV", "newhampshire": "NH", "newjersey": "NJ", "newmexico": "NM",
    "newyork": "NY", "northcarolina": "NC", "northdakota": "ND", "ohio": "OH", "oklahoma": "OK", "oregon": "OR",
    "pennsylvania": "PA", "rhodeisland": "RI", "southcarolina": "SC", "southdakota": "SD", "tennessee": "TN",
    "texas": "TX", "utah": "UT", "vermont": "VT", "virginia": "VA", "washington": "WA", "westvirginia": "WV",
    "wisconsin": "WI", "wyoming": "WY", "puertorico": "PR", "guam": "GU", "virginislands": "VI",
    "americansamoa": "AS", "northernmarianaislands": "MP", "alberta": "AB", "britishcolumbia": "BC",
    "manitoba": "MB", "newbrunswick": "NB", "newfoundlandandlabrador": "NL", "novascotia": "NS", "ontario": "ON",
    "princeedwardisland": "PE", "quebec": "QC", "saskatchewan": "SK", "northwestterritories": "NT",
    "nunavut": "NU", "yukon": "YT",
}


_STATE_CODES = frozenset(US_STATES.values())
# the traditional abbreviations lists still carry (newspaper and government style), as ``norm`` leaves them
STATE_ABBREVIATIONS = {
    "ala": "AL", "ariz": "AZ", "ark": "AR", "cal": "CA", "calif": "CA", "colo": "CO", "conn": "CT", "del": "DE",
    "fla": "FL", "ill": "IL", "ind": "IN", "kan": "KS", "kans": "KS", "mass": "MA", "mich": "MI", "minn": "MN",
    "miss": "MS", "mont": "MT", "neb": "NE", "nebr": "NE", "nev": "NV", "nmex": "NM", "ndak": "ND", "sdak": "SD",
    "okla": "OK", "ore": "OR", "oreg": "OR", "penn": "PA", "penna": "PA", "tenn": "TN", "tex": "TX", "wash": "WA",
    "wva": "WV", "wis": "WI", "wisc": "WI", "wyo": "WY",
}


def clean_state(raw: str) -> str | None:
    """A two-letter state or province code, or None when the cell is not one (the raw text is kept as custom).

    Reads the code (NY, N.Y.), the name (New York) and the traditional abbreviations (Fla., Calif.): since an
    unreadable state refuses the lead, every spelling a list commonly carries must be read, and nothing guessed."""
    s = raw.strip()
    if len(s) == 2 and s.isalpha() and s.isascii():
        return s.upper()
    key = norm(s)
    if len(key) == 2 and key.upper() in _STATE_CODES:  # N.Y., D.C. (but not N/A)
        return key.upper()
    return (US_STATES.get(key) or STATE_ABBREVIATIONS.get(key)) if s else None


US_REGIONS = ("US", "PR", "GU", "VI", "AS", "MP")  # regions whose postal codes are ZIP codes


def clean_postal(raw: str, region: str) -> str | None:
    """A ZIP (5 digits, leading zeros restored after Excel dropped them) or another short postal code."""
    s = raw.strip().upper()
    if not s:
        return None
    if region in US_REGIONS:
        head = s.split("-", 1)[0].strip()
        parts = head.split()
        if len(parts) == 2 and len(parts[1]) == 4 and parts[1].isdigit():  # ZIP+4 written with a space
            head = parts[0]
        if head.isdigit() and 3 <= len(head) <= 5:
            return head.zfill(5)
        if head.isdigit() and len(head) == 9:
            return head[:5]
        return None
    return s if len(s) <= 10 else None
