"""The console's consistency rules (issue 16), checked on a page's HTML as a person reads it.

The page is parsed with the standard library into elements; only what a person sees counts: element text (not
``<script>``/``<style>``) and the attributes shown on screen (``title``, ``placeholder``, ``alt``, ``aria-label``,
``data-confirm``). Each ``problems_*`` function returns readable complaints, so a failing page lists all of them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from html.parser import HTMLParser
from zoneinfo import ZoneInfo, available_timezones

SHOWN_ATTRS = ("title", "placeholder", "alt", "aria-label", "data-confirm")
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}
HIDDEN = {"script", "style", "template"}

FLAG = re.compile(r"(?<![\w-])--[a-z][a-z0-9-]*")
SNAKE = re.compile(r"(?<![\w/.{-])[a-z][a-z0-9]*(?:_[a-z0-9]+)+(?![\w}])")
# The short allowlist of lower-case words with underscores a person may see, and why:
SNAKE_ALLOWED_IN = {
    "code": "a <code> element shows text to type or to match exactly elsewhere: a file's header line, a script "
            "placeholder, a reason code printed beside its words for the auditor to find in the ledger",
}
PLACEHOLDER = re.compile(r"\{[a-z_]+\}")  # a call-script placeholder, typed as shown (the script page's example)
ENGINEER_FRACTION = re.compile(r"(?<![\d.,:])0\.\d{3,}(?![\d%])")  # 0.0196: a rate not written as a percentage
RATE_VALUE = re.compile(r"^(—|-?[\d,]+\.\d %)$")
DURATION_VALUE = re.compile(r"^(—|\d+:[0-5]\d:[0-5]\d)$")
RATE_LABEL = re.compile(r"\b(rate|share|conversion|penetration|occupancy)\b|first-call close|close rate", re.I)
DURATION_LABEL = re.compile(r"\bAHT\b|handle time|avg talk|avg wrap|wait between calls|talk time|wrap time|"
                            r"slowest|time to honour", re.I)
STAMP = re.compile(r"\b(\d{1,2}:\d{2}(?::\d{2})?)\s+([A-Z]{2,5}|[+-]\d{2,4})\b")
UNZONED = re.compile(r"\b\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}(?::\d{2})?(?!:?\d)(?!\s*([A-Z]{2,5}\b|[+-]\d{2}))")
TIMES_IN = re.compile(r"Times in ([A-Za-z_]+(?:/[A-Za-z_+-]+)*)")
LEAD_TIME = "lead-time"  # class of a customer's own clock, shown beside the page's time and labelled as such


@dataclass
class Node:
    tag: str
    attrs: dict[str, str]
    children: list = field(default_factory=list)  # Node or str

    def classes(self) -> set[str]:
        return set(self.attrs.get("class", "").split())

    def text(self, skip=lambda n: False) -> str:
        out = []
        for c in self.children:
            if isinstance(c, str):
                out.append(c)
            elif c.tag not in HIDDEN and not skip(c):
                out.append(c.text(skip))
        return " ".join(" ".join(out).split())

    def walk(self):
        yield self
        for c in self.children:
            if isinstance(c, Node):
                yield from c.walk()

    def find(self, tag: str | None = None, cls: str | None = None):
        return [n for n in self.walk() if (tag is None or n.tag == tag) and (cls is None or cls in n.classes())]


class _Builder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Node("#root", {})
        self.stack = [self.root]

    def handle_starttag(self, tag, attrs):
        node = Node(tag, {k: v or "" for k, v in attrs})
        self.stack[-1].children.append(node)
        if tag not in VOID:
            self.stack.append(node)

    def handle_endtag(self, tag):
        for i in range(len(self.stack) - 1, 0, -1):
            if self.stack[i].tag == tag:
                del self.stack[i:]
                return

    def handle_data(self, data):
        self.stack[-1].children.append(data)


def parse(html: str) -> Node:
    b = _Builder()
    b.feed(html)
    b.close()
    return b.root


def shown_attributes(root: Node) -> list[str]:
    return [n.attrs[a] for n in root.walk() for a in SHOWN_ATTRS if n.attrs.get(a) and n.tag not in HIDDEN]


def visible(root: Node, skip=lambda n: False) -> str:
    return root.text(skip) + " " + " ".join(shown_attributes(root))


def problems_words(root: Node) -> list[str]:
    """No command-line flag anywhere; no internal snake_case name outside the allowlist."""
    out = [f"command-line flag {m!r}" for m in FLAG.findall(visible(root))]
    text = PLACEHOLDER.sub("", visible(root, skip=lambda n: n.tag in SNAKE_ALLOWED_IN))
    out += [f"internal name {m!r}" for m in SNAKE.findall(text)]
    return out


def _labelled_values(root: Node):
    """(label, value) pairs a person reads together: tiles, definition lists, and table columns under headers."""
    for tile in root.find(cls="tile"):
        label, value = tile.find(cls="label"), tile.find(cls="value")
        if label and value:
            yield label[0].text(), value[0].text()
    for dl in root.find("dl"):
        kids = [c for c in dl.children if isinstance(c, Node)]
        for dt, dd in zip(kids, kids[1:], strict=False):
            if dt.tag == "dt" and dd.tag == "dd":
                yield dt.text(), dd.text()
    for table in root.find("table"):
        heads = [th.text() for tr in table.find("thead") for th in tr.find("th")]
        for body in table.find("tbody") + table.find("tfoot"):
            for tr in body.find("tr"):
                cells = [c for c in tr.children if isinstance(c, Node) and c.tag in ("td", "th")]
                cells = [None if c.find("progress") else c for c in cells]  # a bar drawn for a count
                if len(cells) == len(heads):
                    yield from ((h, c.text()) for h, c in zip(heads, cells, strict=True) if c is not None)


def problems_figures(root: Node) -> list[str]:
    """Rates are percentages with one decimal, durations h:mm:ss, and no rate hides as a bare fraction."""
    out = []
    for label, value in _labelled_values(root):
        if len(value) > 24 or not re.search(r"\d|—", value):
            continue  # words (a definition beside its term), not a figure
        if DURATION_LABEL.search(label):
            if not DURATION_VALUE.match(value):
                out.append(f"duration {label!r} reads {value!r}, not h:mm:ss")
        elif RATE_LABEL.search(label) and not RATE_VALUE.match(value):
            out.append(f"rate {label!r} reads {value!r}, not a percentage with one decimal")
    out += [f"bare fraction {m!r} (a rate is shown as %)" for m in ENGINEER_FRACTION.findall(visible(root))]
    for since in root.find(cls="since"):  # the floor's agent cards: time in the state
        first = since.text().split(" · ")[0]
        if not DURATION_VALUE.match(first):
            out.append(f"time in state {first!r}, not h:mm:ss")
    return out


def zone_names(zone: str, year: int = 2030) -> set[str]:
    tz = ZoneInfo(zone)
    return {datetime(year, m, 15, 12, tzinfo=tz).tzname() for m in (1, 7)}


def problems_zone(root: Node, want: str) -> list[str]:
    """The page states its zone (``Times in ZONE``), it is ``want``, and every time shown is in it (a customer's
    own clock only beside it, in an element of class ``lead-time``)."""
    text = visible(root)
    stated = set(TIMES_IN.findall(text))
    out = []
    if not stated:
        out.append("the page does not say which time zone its times are in")
    out += [f"the page says its times are in {z}, expected {want}" for z in stated if z != want]
    out += [f"{z} is not a time zone" for z in stated if z not in available_timezones()]
    ours = visible(root, skip=lambda n: LEAD_TIME in n.classes())
    names = zone_names(want)
    out += [f"time {t} {abbr} is not in the page's zone {want} ({'/'.join(sorted(names))})"
            for t, abbr in STAMP.findall(ours) if abbr not in names]
    out += [f"time {m.group(0)!r} without its zone" for m in UNZONED.finditer(text)]
    return out


def callback_rows(root: Node) -> list[tuple[str, str, list[str]]]:
    """Each callback table (class ``callbacks``): its id, the order it states (``data-order``: asc, the default, or
    desc) and the times of its rows in the page's zone, as listed."""
    out = []
    for table in root.find("table", "callbacks"):
        times = []
        for body in table.find("tbody"):
            for tr in body.find("tr"):
                cell = next((c for c in tr.children if isinstance(c, Node) and c.tag == "td"), None)
                if cell is not None:
                    times.append(cell.text(skip=lambda n: LEAD_TIME in n.classes()))
        out.append((table.attrs.get("id", "?"), table.attrs.get("data-order", "asc"), times))
    return out
