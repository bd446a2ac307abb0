"""Every report by name: the service the CLI, the console, the daily job and the benchmark call.

``run_report(session, name, campaign, now, first, last, by)`` refreshes the rollups, then builds a ``Report``:
columns (with the kind of each value, so exports and tables format rates, seconds and counts alike), rows
of plain values (rates are fractions or None) and, for time series, what to chart.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from campaigns.campaign.models import Disposition
from campaigns.campaign.service import get_campaign
from campaigns.reports import metrics as m
from campaigns.reports import queries as q
from campaigns.reports.base import (
    NO_AGENT_NOTE,
    Column,
    Ctx,
    Report,
    Series,
    apart_row,
    group_keys,
    grouped_report,
    key_column,
    kind_of,
    label_of,
)
from campaigns.reports.boards import agent_figures, agent_leaderboard, list_leaderboard
from campaigns.reports.history import abandon_history
from campaigns.reports.lists import list_close_rows
from campaigns.reports.metrics import FloorCounts
from campaigns.reports.models import PASS_CAP
from campaigns.reports.period import day_start, period
from campaigns.reports.rollup import refresh
from dnc.errors import UserError

# The summary's columns in words (its keys stay the JSON's): spreadsheets and the stored daily report show these.
SUMMARY_WORDS = {"timezone": "time zone", "live_answers": "live answers", "no_answers": "no answer",
                 "dnc_requests": "DNC requests", "keypress_optouts": "keypress opt-outs",
                 "first_contacts": "first contacts", "first_contact_closes": "closed on the first contact",
                 "agent_hours": "agent hours", "dials_per_agent_hour": "dials per agent-hour",
                 "contacts_per_agent_hour": "contacts per agent-hour", "closes_per_agent_hour": "closes per agent-hour",
                 "hit_rate": "hit rate", "answer_rate": "answer rate", "first_call_close": "first-call close",
                 "abandon_rate": "abandon rate", "dnc_request_rate": "DNC request rate",
                 "completion_rate": "completion rate", "talk_share": "talk share", "wrap_share": "wrap share",
                 "talk_seconds": "average talk", "wrap_seconds": "average wrap", "aht_seconds": "average handle time",
                 "agent_wait_seconds": "wait between calls", "live_answers_30d": "live answers, 30 days",
                 "abandoned_30d": "abandoned, 30 days", "abandon_rate_30d": "abandon rate, 30 days",
                 "final_leads": "leads with a final status"}


def live_reading(ctx: Ctx, start: datetime, end: datetime) -> tuple[int, int] | None:
    """``(live answers, abandoned)`` of ``[now - 30 days, now)`` when ``[start, end)`` holds now, else None.

    "The 30 days ending with" a day that is still going on end now: the counts the pacer, the abandon guard and the
    compliance page read, so the floor, the summary and the abandon report's row for today agree with them. A
    finished day keeps the 30 local days ending with it. The rollups were just refreshed; the edge hours are exact.
    """
    if not start <= ctx.now < end:
        return None
    return abandon_history(ctx.session, ctx.campaign.id, ctx.now, absorb=False)


def summary(ctx: Ctx) -> Report:
    s, c, p = ctx.session, ctx.campaign, ctx.period
    fc = q.floor_counts(s, c, p, ctx.now, "campaign").get(q.TOTAL, FloorCounts())
    rates = fc.rates()
    live30, ab30 = live_reading(ctx, p.start, p.end) or q.abandon_window(
        s, c, day_start(p.last_day - timedelta(days=29), c.timezone), p.end)
    outcomes = q.lead_outcomes(s, c, p.end, ctx.now)
    leads = sum(v["leads"] for v in outcomes.values())
    final = sum(v["final"] for v in outcomes.values())
    row = {"campaign": c.name, "from": p.first_day.isoformat(), "to": p.last_day.isoformat(), "timezone": p.tz,
           **{k: v for k, v in fc.counts().items() if not k.endswith("_seconds")},
           **rates, "live_answers_30d": live30, "abandoned_30d": ab30,
           "abandon_rate_30d": m.abandon_rate(ab30, live30), "leads": leads, "final_leads": final,
           "penetration": m.penetration(final, leads)}
    cols = [Column(k, SUMMARY_WORDS.get(k, k.replace("_", " ")), kind_of(k, v)) for k, v in row.items()]
    return Report("summary", "Summary", c.name, p, cols, [row], None, None, single=True)


def list_close(ctx: Ctx) -> Report:
    rows = list_close_rows(ctx.session, ctx.campaign, ctx.period.end, ctx.now)
    cols = [Column("list", "list", "text"), Column("prospects", "prospects"), Column("invalid", "invalid"),
            Column("duplicate", "duplicate"), Column("suppressed", "suppressed"),
            Column("suppressed_by", "suppressed by reason", "text"), Column("never_reached", "never reached"),
            Column("reached_not_closed", "reached, not closed"), Column("closed", "closed"),
            Column("close_rate", "close rate", "rate"), Column("penetration", "penetration", "rate")]
    r = Report("list-close", "List close", ctx.campaign.name, ctx.period, cols, rows, "list")
    r.notes.append(f"as of {ctx.period.last_day} (end of the range): every lead counted in its current list, with "
                   "the status it had then")
    return r


def pass_report(ctx: Ctx) -> Report:
    """VICIdial's Lists Pass Report: per list, the 1st … 5th attempt, 6th and later, and all attempts."""
    groups = q.call_counts(ctx.session, ctx.campaign, ctx.period, "list", with_attempt=True)
    label = label_of(ctx, "list")
    per_list: dict[Hashable, dict[str, FloorCounts]] = {}
    for (list_id, attempt), fc in groups.items():
        passes = per_list.setdefault(list_id, {})
        name = str(attempt) if attempt < PASS_CAP else f"{PASS_CAP}+"
        passes[name] = passes.get(name, FloorCounts()) + fc
        passes["lifetime"] = passes.get("lifetime", FloorCounts()) + fc
    rows = []
    order = [str(i) for i in range(1, PASS_CAP)] + [f"{PASS_CAP}+", "lifetime"]
    for list_id in sorted(per_list, key=lambda k: (k is None, k)):
        for name in order:
            fc = per_list[list_id].get(name)
            if fc is None:
                continue
            rows.append({"list": label(list_id), "pass": name, "dials": fc.dials, "contacts": fc.contacts,
                         "contact_rate": m.contact_rate(fc.contacts, fc.dials), "closes": fc.closes,
                         "conversion": m.conversion(fc.closes, fc.contacts), "callbacks": fc.callbacks,
                         "dnc_requests": fc.dnc_requests, "completed": fc.completed})
    cols = [Column("list", "list", "text"), Column("pass", "pass", "text"), Column("dials", "dials"),
            Column("contacts", "contacts"), Column("contact_rate", "contact rate", "rate"),
            Column("closes", "closes"), Column("conversion", "conversion", "rate"), Column("callbacks", "callbacks"),
            Column("dnc_requests", "DNC requests"), Column("completed", "completed")]
    return Report("pass", "Lists pass report", ctx.campaign.name, ctx.period, cols, rows, "list")


def abandon(ctx: Ctx) -> Report:
    """Per local day: that day's rate and the rolling 30 days ending with it (the law's first reading)."""
    c, p = ctx.campaign, ctx.period
    wide = period(c.timezone, ctx.now, p.first_day - timedelta(days=29), p.last_day)
    daily = q.call_counts(ctx.session, c, wide, "day")
    rows = []
    for day in p.days():
        fc = daily.get(day, FloorCounts())
        window = [daily.get(day - timedelta(days=i), FloorCounts()) for i in range(30)]
        live30, ab30 = live_reading(ctx, day_start(day, c.timezone), day_start(day + timedelta(days=1), c.timezone)) \
            or (sum(w.live_answers for w in window), sum(w.abandoned for w in window))
        rows.append({"day": day.isoformat(), "live_answers": fc.live_answers, "abandoned": fc.abandoned,
                     "abandon_rate": m.abandon_rate(fc.abandoned, fc.live_answers), "live_answers_30d": live30,
                     "abandoned_30d": ab30, "abandon_rate_30d": m.abandon_rate(ab30, live30)})
    cols = [Column("day", "day", "text"), Column("live_answers", "live answers"), Column("abandoned", "abandoned"),
            Column("abandon_rate", "day rate", "rate"), Column("live_answers_30d", "live answers, 30 days"),
            Column("abandoned_30d", "abandoned, 30 days"), Column("abandon_rate_30d", "rolling 30-day rate", "rate")]
    series = Series("day", ("abandon_rate_30d", "abandon_rate"), c.abandon_target, "target")
    return Report("abandon", "Abandon rate, rolling 30 days", c.name, p, cols, rows, "day", series)


def abandon_periods(ctx: Ctx) -> Report:
    """Successive 30-day periods from ``--from`` (the law's second reading); the last one may be shorter."""
    c, p = ctx.campaign, ctx.period
    rows = []
    first = p.first_day
    while first <= p.last_day:
        last = min(first + timedelta(days=29), p.last_day)
        live, ab = q.abandon_window(ctx.session, c, day_start(first, c.timezone),
                                    day_start(last + timedelta(days=1), c.timezone))
        rows.append({"period_start": first.isoformat(), "period_end": last.isoformat(),
                     "days": (last - first).days + 1, "live_answers": live, "abandoned": ab,
                     "abandon_rate": m.abandon_rate(ab, live)})
        first = last + timedelta(days=1)
    cols = [Column("period_start", "from", "text"), Column("period_end", "to", "text"), Column("days", "days"),
            Column("live_answers", "live answers"), Column("abandoned", "abandoned"),
            Column("abandon_rate", "abandon rate", "rate")]
    series = Series("period_start", ("abandon_rate",), c.abandon_target, "target")
    return Report("abandon-periods", "Abandon rate per successive 30-day period", c.name, p, cols, rows,
                  "period", series)


def refusals(ctx: Ctx) -> Report:
    """Contacts that ended without a close or callback, by the disposition the agent chose (the prospect's no)."""
    rows, total = _refusal_counts(ctx)
    out = [{"disposition": code, "label": lbl, "refusals": n, "share": m.ratio(n, total)} for code, lbl, n in rows]
    cols = [Column("disposition", "disposition", "text"), Column("label", "label", "text"),
            Column("refusals", "refusals"), Column("share", "share", "rate")]
    return Report("refusals", "Refusals by reason", ctx.campaign.name, ctx.period, cols, out, "disposition")


def _refusal_counts(ctx: Ctx) -> tuple[list[tuple[str, str, int]], int]:
    labels = dict(ctx.session.execute(select(Disposition.code, Disposition.label)
                                      .where(Disposition.campaign_id == ctx.campaign.id)).all())
    by_code = q.call_counts(ctx.session, ctx.campaign, ctx.period, "disposition")
    rows = [(code, labels.get(code, code), fc.refusals) for code, fc in by_code.items() if fc.refusals]
    rows.sort(key=lambda r: (-r[2], r[0]))
    return rows, sum(r[2] for r in rows)


def completion(ctx: Ctx) -> Report:
    """Contacts where the agent reached the end of the script (completed flag) and refusals, per group."""
    groups = q.call_counts(ctx.session, ctx.campaign, ctx.period, ctx.by)
    label = label_of(ctx, ctx.by)

    def row(name: str, fc: FloorCounts) -> dict:
        return {ctx.by: name, "contacts": fc.contacts, "completed": fc.completed,
                "completion_rate": m.completion_rate(fc.completed, fc.contacts), "refusals": fc.refusals,
                "refusal_rate": m.ratio(fc.refusals, fc.contacts)}

    rows = [row(label(k), groups.get(k, FloorCounts())) for k in group_keys(ctx, groups)]
    apart = apart_row(ctx, [], groups, row)
    cols = [key_column(ctx.by), Column("contacts", "contacts"), Column("completed", "completed"),
            Column("completion_rate", "completion rate", "rate"), Column("refusals", "refusals"),
            Column("refusal_rate", "refusal rate", "rate")]
    series = Series(ctx.by, ("completion_rate", "refusal_rate")) if ctx.by in ("day", "hour") else None
    rep = Report("completion", "Call completion and refusals", ctx.campaign.name, ctx.period, cols, rows, ctx.by,
                 series, apart=apart)
    if apart:
        rep.notes.append(NO_AGENT_NOTE)
    return rep


F_HIT = [("dials", "dials", "int"), ("live_answers", "live answers", "int"), ("contacts", "contacts", "int"),
         ("hit_rate", "hit rate", "rate"), ("answer_rate", "answer rate", "rate")]
F_FCC = [("first_contacts", "first contacts", "int"), ("first_contact_closes", "closed on first contact", "int"),
         ("first_call_close", "first-call close", "rate")]
F_OUT = [("dials", "dials", "int"), ("live_answers", "live answers", "int"), ("contacts", "contacts", "int"),
         ("abandoned", "abandoned", "int"), ("machines", "machines", "int"), ("no_answers", "no answer", "int"),
         ("busies", "busy", "int"), ("failures", "failed", "int"), ("closes", "closes", "int"),
         ("callbacks", "callbacks", "int"), ("conversion", "conversion", "rate")]
F_AGENT = [("handled", "calls taken", "int"), ("talk_seconds", "avg talk", "seconds"),
           ("wrap_seconds", "avg wrap", "seconds"), ("aht_seconds", "AHT", "seconds"),
           ("occupancy", "occupancy", "rate"), ("agent_wait_seconds", "wait between calls", "seconds"),
           ("agent_hours", "agent-hours", "number"), ("dials_per_agent_hour", "dials / agent-hour", "number"),
           ("contacts_per_agent_hour", "contacts / agent-hour", "number"),
           ("closes_per_agent_hour", "closes / agent-hour", "number")]
F_DNC = [("contacts", "contacts", "int"), ("dnc_requests", "DNC requests", "int"),
         ("keypress_optouts", "keypress opt-outs", "int"), ("dnc_request_rate", "DNC request rate", "rate")]


@dataclass(frozen=True)
class Spec:
    title: str
    build: Callable[[Ctx], Report]
    default_by: str | None = None
    groups: tuple[str, ...] = ()
    about: str = ""


ALL_GROUPS = q.GROUPS
# a dial belongs to no agent in a predictive dialer (only answered calls reach one): dial-based figures are
# grouped by campaign, list, day or hour, never by agent (every agent would show a 100 % hit rate)
DIAL_GROUPS = tuple(g for g in ALL_GROUPS if g != "agent")
REPORTS: dict[str, Spec] = {
    "summary": Spec("Summary", summary, about="every headline figure of the range in one object"),
    "hit-rate": Spec("Hit rate", grouped_report("hit-rate", "Hit rate", F_HIT, ("hit_rate", "answer_rate")),
                     "day", DIAL_GROUPS, m.GLOSSARY["hit_rate"]),
    "first-call-close": Spec("First-call close", grouped_report("first-call-close", "First-call close", F_FCC,
                                                                 ("first_call_close",)),
                             "day", ALL_GROUPS, m.GLOSSARY["first_call_close"]),
    "list-close": Spec("List close", list_close, about=m.GLOSSARY["list_close_rate"]),
    "pass": Spec("Lists pass report", pass_report, about=m.GLOSSARY["contact_rate"]),
    "abandon": Spec("Abandon rate", abandon, about="per day and rolling 30 days: " + m.GLOSSARY["abandon_rate"]),
    "abandon-periods": Spec("Abandon periods", abandon_periods,
                            about="successive 30-day periods from the first day of the range: "
                                  + m.GLOSSARY["abandon_rate"]),
    "outcomes": Spec("Call outcomes", grouped_report("outcomes", "Call outcomes", F_OUT, ("conversion",)),
                     "day", DIAL_GROUPS, "every dial by how it ended"),
    "agent-time": Spec("Agent time", grouped_report("agent-time", "Agent time", F_AGENT, ("occupancy",)),
                       "agent", ("campaign", "agent", "day", "hour"), m.GLOSSARY["occupancy"]),
    "dnc": Spec("DNC requests", grouped_report("dnc", "DNC requests", F_DNC, ("dnc_request_rate",)),
                "day", ALL_GROUPS, m.GLOSSARY["dnc_requests"]),
    "completion": Spec("Completion and refusals", completion, "day", ALL_GROUPS, m.GLOSSARY["completion_rate"]),
    "refusals": Spec("Refusals by reason", refusals, about=m.GLOSSARY["refusals"]),
    "agents": Spec("Per agent", agent_figures, about="contacts, contacts per hour, conversion per contact, "
                   "first-call close, talk and wrap share of logged-in time"),
    "agent-leaderboard": Spec("Agent leaderboard", agent_leaderboard, about="agents ranked by closes, then conversion"),
    "list-leaderboard": Spec("List leaderboard", list_leaderboard, about="lists ranked by list close rate"),
}


def run_report(session: Session, name: str, campaign_name: str, now: datetime, first: str | date | None = None,
               last: str | date | None = None, by: str | None = None, refreshed: bool = False) -> Report:
    """Refresh the campaign's rollups and build report ``name`` over ``first .. last`` (local dates).

    The refresh writes in the caller's transaction (on SQLite it takes the write lock until the caller commits):
    keep report transactions short and separate from other work; long-running jobs commit between reports.
    ``refreshed``: the caller refreshed and committed already (the floor: its reads then hold no lock).
    """
    spec = REPORTS.get(name)
    if spec is None:
        raise UserError(f"no report named {name!r} (reports: {', '.join(REPORTS)})")
    if by is not None and by not in spec.groups:
        allowed = ", ".join(spec.groups) if spec.groups else "none: it has a fixed layout"
        raise UserError(f"report {name!r} cannot be grouped by {by!r} (groupings: {allowed})")
    campaign = get_campaign(session, campaign_name)
    p = period(campaign.timezone, now, first, last)
    if not refreshed:
        refresh(session, campaign, now)
    if session.get_bind().dialect.name == "postgresql":
        # psycopg prepares a statement run 5 times and PostgreSQL may then switch it to a generic plan, which for
        # these range aggregates can be ten times slower: plan each report query for its own parameters
        session.execute(text("SET LOCAL plan_cache_mode = force_custom_plan"))
    return spec.build(Ctx(session, campaign, p, now, by or spec.default_by or "campaign"))
