"""What every report is made of: columns with a kind, rows of plain values, the chart to draw, group labels.

Kept apart from the report builders so ``lists`` and ``boards`` can share them without an import cycle.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from campaigns.agents.models import Agent
from campaigns.campaign.models import Campaign
from campaigns.leads.models import LeadList
from campaigns.reports import queries as q
from campaigns.reports.metrics import FloorCounts
from campaigns.reports.period import Period

KINDS = ("text", "int", "rate", "seconds", "number")
NO_AGENT = "calls no agent took"  # the row apart of a by-agent report: abandons, machines, no answers …
# a dial belongs to no agent (the pacer places it; an agent gets only the answered ones): never a per-agent figure
NOT_PER_AGENT = frozenset({"dials_per_agent_hour"})
NO_AGENT_NOTE = (f"{NO_AGENT} (abandoned, machines, no answer …) are no agent's: shown apart from the agents and "
                 "counted in the total")


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    kind: str = "int"

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"column {self.key!r}: kind {self.kind!r} is not one of {', '.join(KINDS)}")


@dataclass(frozen=True)
class Series:
    """What to chart: ``x`` against one or more rate/number columns, optionally with a horizontal limit line."""

    x: str
    ys: tuple[str, ...]
    limit: float | None = None
    limit_label: str = ""


@dataclass
class Report:
    name: str
    title: str
    campaign: str
    period: Period
    columns: list[Column]
    rows: list[dict]
    by: str | None = None
    series: Series | None = None
    single: bool = False  # one object, not a list (summary)
    notes: list[str] = field(default_factory=list)
    total: dict | None = None  # the rows added up (rates on the sums), shown and exported after the rows
    # by agent: what the calls no agent took add to the figures (an opt-out at the safe-harbor message …), shown
    # between the agents and the total, never as an agent's row; None when they add nothing to the columns shown
    apart: dict | None = None

    def payload(self):
        """The JSON shape: one object for ``summary``, a list of objects otherwise."""
        return self.rows[0] if self.single else self.rows


@dataclass
class Ctx:
    session: Session
    campaign: Campaign
    period: Period
    now: datetime
    by: str


def label_of(ctx: Ctx, by: str) -> Callable[[Hashable], str]:
    """How a group key reads in a report: list and agent names, ISO dates, "14:00"."""
    s = ctx.session
    if by == "list":
        names = dict(s.execute(select(LeadList.id, LeadList.name).where(LeadList.campaign_id == ctx.campaign.id)).all())
        return lambda k: names.get(k, f"list {k}") if k is not None else "(no list)"
    if by == "agent":
        names = dict(s.execute(select(Agent.id, Agent.name)).all())
        return lambda k: names.get(k, f"agent {k}") if k is not None else NO_AGENT
    if by == "day":
        return lambda k: k.isoformat()
    if by == "hour":
        return lambda k: f"{k:02d}:00"
    return lambda k: ctx.campaign.name


def group_keys(ctx: Ctx, groups: dict) -> list:
    """Keys in report order; days and hours are listed even when nothing happened (a zero row is a fact)."""
    if ctx.by in ("day", "hour"):
        return fitted_keys(ctx.period.days() if ctx.by == "day" else list(range(24)), groups)
    if ctx.by == "campaign":
        return [q.TOTAL]
    if ctx.by == "agent":  # agents only: the calls no agent took are the row apart
        return sorted(k for k in groups if k is not None)
    return sorted(groups, key=lambda k: (k is None, k))


def fitted_keys(keys: list, groups: dict) -> list:
    """Days or hours from the first to the last with any activity: a one-day campaign shows one day, not 29 rows
    of zeros; a quiet day between two busy ones stays (a zero row there is a fact). Nothing at all: no rows."""
    busy = [i for i, k in enumerate(keys) if _active(groups.get(k))]
    return keys[busy[0]:busy[-1] + 1] if busy else []


def _active(fc: FloorCounts | None) -> bool:
    return fc is not None and any(v for v in fc.counts().values())


def total_row(ctx: Ctx, fields: list[tuple[str, str, str]], groups: dict[Hashable, FloorCounts]) -> dict:
    """The groups added up, with every rate computed on the sums (not an average of the rows' rates); by agent,
    the calls no agent took too, so the total is the campaign's whatever the grouping."""
    fc = FloorCounts()
    for k in group_keys(ctx, groups) + ([None] if ctx.by == "agent" and None in groups else []):
        fc = fc + groups.get(k, FloorCounts())
    values = {**fc.counts(), **fc.rates()}
    return {ctx.by: "Total", **{key: values.get(key) for key, _, _ in fields}}


def grouped(ctx: Ctx, fields: list[tuple[str, str, str]], groups: dict[Hashable, FloorCounts]) -> list[dict]:
    label = label_of(ctx, ctx.by)
    return [_row(ctx.by, label(k), fields, groups.get(k, FloorCounts())) for k in group_keys(ctx, groups)]


def _row(by: str, name: str, fields: list[tuple[str, str, str]], fc: FloorCounts) -> dict:
    values = {**fc.counts(), **fc.rates()}
    hidden = NOT_PER_AGENT if by == "agent" else frozenset()
    return {by: name, **{key: None if key in hidden else values.get(key) for key, _, _ in fields}}


def apart_row(ctx: Ctx, fields: list[tuple[str, str, str]], groups: dict[Hashable, FloorCounts],
              make: Callable[[str, FloorCounts], dict] | None = None) -> dict | None:
    """By agent: the calls no agent took, as a row apart, when they add anything to the columns shown."""
    fc = groups.get(None) if ctx.by == "agent" else None
    if fc is None:
        return None
    row = make(NO_AGENT, fc) if make else _row(ctx.by, NO_AGENT, fields, fc)
    return row if any(v for k, v in row.items() if k != ctx.by and isinstance(v, int | float)) else None


def key_column(by: str) -> Column:
    return Column(by, by, "text")


def grouped_report(name: str, title: str, fields: list[tuple[str, str, str]], ys: tuple[str, ...],
                    limit: float | None = None) -> Callable[[Ctx], Report]:
    def build(ctx: Ctx) -> Report:
        groups = q.floor_counts(ctx.session, ctx.campaign, ctx.period, ctx.now, ctx.by,
                                frozenset(k for k, _, _ in fields))
        rows = grouped(ctx, fields, groups)
        apart = apart_row(ctx, fields, groups)
        series = Series(ctx.by, ys, limit) if ctx.by in ("day", "hour") else None
        cols = [key_column(ctx.by)] + [Column(k, lbl, kind) for k, lbl, kind in fields]
        total = total_row(ctx, fields, groups) if ctx.by != "campaign" and len(rows) + bool(apart) > 1 else None
        rep = Report(name, title, ctx.campaign.name, ctx.period, cols, rows, ctx.by, series, total=total,
                     apart=apart)
        if apart:
            rep.notes.append(NO_AGENT_NOTE)
        return rep
    return build


def kind_of(key: str, value) -> str:
    if isinstance(value, str):
        return "text"
    if key.endswith("_seconds"):
        return "seconds"
    if key in RATE_KEYS:
        return "rate"
    if key == "agent_hours" or key.endswith("_per_agent_hour"):
        return "number"
    return "int"


RATE_KEYS = {"hit_rate", "answer_rate", "first_call_close", "conversion", "abandon_rate", "occupancy",
             "dnc_request_rate", "completion_rate", "abandon_rate_30d", "penetration", "close_rate",
             "contact_rate", "share", "talk_share", "wrap_share"}


