"""Realistic generated lead lists for the demo and the import benchmark.

A list vendor's file is messy in predictable ways: numbers in every written form, a few percent that are
impossible or invalid, a few percent repeated (often in another form), a ZIP that lost its leading zero in
Excel, an occasional extension or a formula-looking note. ``generate_rows`` reproduces that mix with a seed,
so the demo and the benchmark are repeatable; ``write_list`` writes it as CSV, TSV, pipe-separated or XLSX.
"""

from __future__ import annotations

import csv
import random
from collections.abc import Iterator
from functools import cache
from pathlib import Path

from dnc.zones import known_zip_codes

HEADER = ("First Name", "Last Name", "Phone", "Email", "State", "ZIP", "Company", "Notes")

# (area code, state, ZIP prefix) of real, assigned NANP area codes across the US time zones.
AREAS = (
    ("212", "NY", "100"), ("718", "NY", "112"), ("516", "NY", "115"), ("617", "MA", "021"), ("203", "CT", "066"),
    ("215", "PA", "191"), ("412", "PA", "152"), ("202", "DC", "200"), ("305", "FL", "331"), ("407", "FL", "328"),
    ("404", "GA", "303"), ("704", "NC", "282"), ("615", "TN", "372"), ("313", "MI", "482"), ("614", "OH", "432"),
    ("317", "IN", "462"), ("312", "IL", "606"), ("414", "WI", "532"), ("612", "MN", "554"), ("314", "MO", "631"),
    ("504", "LA", "701"), ("214", "TX", "752"), ("713", "TX", "770"), ("512", "TX", "787"), ("405", "OK", "731"),
    ("303", "CO", "802"), ("602", "AZ", "850"), ("801", "UT", "841"), ("505", "NM", "871"), ("702", "NV", "891"),
    ("213", "CA", "900"), ("415", "CA", "941"), ("619", "CA", "921"), ("206", "WA", "981"), ("503", "OR", "972"),
    ("907", "AK", "995"), ("808", "HI", "968"), ("208", "ID", "837"), ("406", "MT", "591"), ("402", "NE", "681"),
)
FIRST = ("James", "Mary", "Robert", "Patricia", "John", "Jennifer", "Michael", "Linda", "David", "Elizabeth",
         "William", "Barbara", "Richard", "Susan", "José", "María", "Thomas", "Karen", "Chris", "Nancy", "Daniel",
         "Lisa", "Matthew", "Betty", "Anthony", "Sandra", "Mark", "Ashley", "Zoë", "Kevin", "Priya", "Wei")
LAST = ("Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Rodriguez", "Martinez",
        "Hernandez", "Lopez", "Gonzalez", "Wilson", "Anderson", "Thomas", "Taylor", "Moore", "Jackson", "Martin",
        "Lee", "Perez", "Thompson", "White", "Harris", "O'Brien", "Nguyen", "Kim", "Müller", "Clark")
COMPANIES = ("Acme Corp", "Globex", "Initech", "Umbrella LLC", "Stark Industries", "Wayne Enterprises",
             "Hooli", "Vandelay Industries", "", "", "Soylent, Inc.")
NOTES = ("", "", "", "", "call after 5pm", "prefers Spanish", "met at trade show\nbooth 14", "warm lead",
         "=HYPERLINK(\"http://example.com\")", "+cmd|' /C calc'!A0", "@SUM(1+1)", "VIP; referred by \"Sam\"")
FORMATS = ("({a}) {x}-{n}", "{a}-{x}-{n}", "{a}.{x}.{n}", "+1 {a} {x} {n}", "{a}{x}{n}", "1-{a}-{x}-{n}",
           "+1{a}{x}{n}", "{a} {x} {n}")
INVALID = ("555-{n}", "({a}) {x}-{s}", "123-{x}-{n}", "000-000-0000", "n/a", "", "{a}-{x}-{n}{n}",
           "(911) {x}-{n}", "+1 {a} 1{s}-{n}")


@cache
def zips_under(zip3: str) -> tuple[str, ...]:
    """The real ZIP codes under a 3-digit prefix: a made-up one is an address nobody can place, never dialed."""
    return tuple(z for z in known_zip_codes() if z.startswith(zip3))


def generate_rows(count: int, seed: int = 7, invalid: float = 0.05, duplicates: float = 0.03) -> Iterator[list[str]]:
    """``count`` rows in the order of ``HEADER``: about ``invalid`` bad numbers and ``duplicates`` repeats."""
    rng = random.Random(seed)
    recent: list[tuple[str, str, str]] = []
    rand, choice, randrange = rng.random, rng.choice, rng.randrange
    for i in range(count):
        area, state, zip3 = choice(AREAS)
        x, n = str(randrange(200, 1000)), f"{randrange(10000):04d}"
        roll = rand()
        if roll < duplicates and recent:
            area, x, n = recent[randrange(len(recent))]
            phone = choice(FORMATS).format(a=area, x=x, n=n)
        elif roll < duplicates + invalid:
            phone = choice(INVALID).format(a=area, x=x, n=n, s=n[:2])
        else:
            phone = choice(FORMATS).format(a=area, x=x, n=n)
            if rand() < 0.002:
                phone += f" ext {randrange(1, 999)}"
            if len(recent) < 5000:
                recent.append((area, x, n))
            elif rand() < 0.01:
                recent[randrange(5000)] = (area, x, n)
        first, last = choice(FIRST), choice(LAST)
        zips = zips_under(zip3)
        zipcode = zips[randrange(len(zips))]
        if zipcode.startswith("0") and rand() < 0.3:
            zipcode = zipcode.lstrip("0")  # what Excel does to New England ZIPs
        email = f"{first.lower()}.{last.lower().replace(chr(39), '')}{i % 97}@example.com"
        yield [first, last, phone, email, state, zipcode, choice(COMPANIES), choice(NOTES)]


def write_list(path: str | Path, count: int, fmt: str | None = None, seed: int = 7, **mix: float) -> Path:
    """Write a generated list; ``fmt`` is csv, tsv, pipe or xlsx (default: from the file suffix)."""
    path = Path(path)
    fmt = fmt or {".tsv": "tsv", ".psv": "pipe", ".txt": "pipe", ".xlsx": "xlsx"}.get(path.suffix.lower(), "csv")
    rows = generate_rows(count, seed, **mix)
    if fmt == "xlsx":
        from openpyxl import Workbook

        wb = Workbook(write_only=True)
        ws = wb.create_sheet("Leads")
        ws.append(list(HEADER))
        for row in rows:
            ws.append(row)
        wb.save(path)
        return path
    delimiter = {"csv": ",", "tsv": "\t", "pipe": "|"}[fmt]
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, delimiter=delimiter)
        w.writerow(HEADER)
        w.writerows(rows)
    return path
