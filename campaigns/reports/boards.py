"""Leaderboards: agents by what they closed, lists by how well they close."""

from __future__ import annotations

from campaigns.reports import metrics as m
from campaigns.reports import queries as q
from campaigns.reports.base import Column, Ctx, Report, label_of, total_row
from campaigns.reports.lists import list_close_rows
from campaigns.reports.metrics import FloorCounts


def agent_leaderboard(ctx: Ctx) -> Report:
    """Agents ranked by closes, then conversion, then fewer seconds per call; only agents who took calls."""
    groups = q.floor_counts(ctx.session, ctx.campaign, ctx.period, ctx.now, "agent")
    label = label_of(ctx, "agent")
    rows = []
    for agent_id, fc in groups.items():
        if agent_id is None or not (fc.handled or fc.contacts):
            continue
        r = fc.rates()
        rows.append({"agent": label(agent_id), "contacts": fc.contacts, "closes": fc.closes,
                     "conversion": r["conversion"], "first_call_close": r["first_call_close"],
                     "closes_per_agent_hour": r["closes_per_agent_hour"], "aht_seconds": r["aht_seconds"],
                     "occupancy": r["occupancy"], "dnc_requests": fc.dnc_requests})
    rows.sort(key=lambda r: (-r["closes"], -(r["conversion"] or 0), r["aht_seconds"] or 0, r["agent"]))
    for i, r in enumerate(rows, start=1):
        r["rank"] = i
    cols = [Column("rank", "#"), Column("agent", "agent", "text"), Column("contacts", "contacts"),
            Column("closes", "closes"), Column("conversion", "conversion", "rate"),
            Column("first_call_close", "first-call close", "rate"),
            Column("closes_per_agent_hour", "closes / agent-hour", "number"), Column("aht_seconds", "AHT", "seconds"),
            Column("occupancy", "occupancy", "rate"), Column("dnc_requests", "DNC requests")]
    return Report("agent-leaderboard", "Agent leaderboard", ctx.campaign.name, ctx.period, cols,
                  [{c.key: r[c.key] for c in cols} for r in rows], "agent")


AGENT_FIELDS = [("contacts", "contacts", "int"), ("agent_hours", "hours logged in", "number"),
                ("contacts_per_agent_hour", "contacts per hour", "number"), ("closes", "closes", "int"),
                ("conversion", "conversion per contact", "rate"), ("first_call_close", "first-call close", "rate"),
                ("talk_share", "talk share", "rate"), ("wrap_share", "wrap share", "rate"),
                ("aht_seconds", "average handle time", "seconds")]


def agent_figures(ctx: Ctx) -> Report:
    """What each agent did with the contacts the dialer gave them. In a predictive dialer a dial belongs to no
    agent (the pacer places it; an agent gets only the answered ones), so an agent has no dials and no hit rate:
    contacts, contacts per logged-in hour, conversion per contact, first-call close, and the shares of logged-in
    time spent talking and in wrap."""
    groups = q.floor_counts(ctx.session, ctx.campaign, ctx.period, ctx.now, "agent")
    label = label_of(ctx, "agent")
    rows = []
    for agent_id in sorted(groups, key=lambda k: label(k)):
        fc = groups[agent_id]
        if agent_id is None or not (fc.contacts or fc.logged_in_seconds):
            continue
        values = {**fc.counts(), **fc.rates()}
        rows.append({"agent": label(agent_id), **{k: values.get(k) for k, _, _ in AGENT_FIELDS}})
    cols = [Column("agent", "agent", "text")] + [Column(k, lbl, kind) for k, lbl, kind in AGENT_FIELDS]
    agents = {k: v for k, v in groups.items() if k is not None}
    total = total_row(Ctx(ctx.session, ctx.campaign, ctx.period, ctx.now, "agent"), AGENT_FIELDS, agents) \
        if len(rows) > 1 else None
    r = Report("agents", "Per agent", ctx.campaign.name, ctx.period, cols, rows, "agent", total=total)
    r.notes.append("dials belong to the campaign, its lists and its hours, not to agents: see the hit-rate report")
    return r


def list_leaderboard(ctx: Ctx) -> Report:
    """Lists ranked by list close rate (as of the range's end), with what their dials did in the range."""
    closing = {r["list_id"]: r for r in list_close_rows(ctx.session, ctx.campaign, ctx.period.end, ctx.now)}
    calls = q.call_counts(ctx.session, ctx.campaign, ctx.period, "list")
    label = label_of(ctx, "list")
    rows = []
    for list_id, lc in closing.items():
        fc = calls.get(list_id, FloorCounts())
        rows.append({"list": label(list_id), "prospects": lc["prospects"], "closed": lc["closed"],
                     "close_rate": lc["close_rate"], "penetration": lc["penetration"], "dials": fc.dials,
                     "contacts": fc.contacts, "hit_rate": m.hit_rate(fc.contacts, fc.dials), "closes": fc.closes,
                     "conversion": m.conversion(fc.closes, fc.contacts)})
    rows.sort(key=lambda r: (-(r["close_rate"] or 0), -(r["conversion"] or 0), r["list"]))
    for i, r in enumerate(rows, start=1):
        r["rank"] = i
    cols = [Column("rank", "#"), Column("list", "list", "text"), Column("prospects", "prospects"),
            Column("closed", "closed"), Column("close_rate", "close rate", "rate"),
            Column("penetration", "penetration", "rate"), Column("dials", "dials in range"),
            Column("contacts", "contacts"), Column("hit_rate", "hit rate", "rate"), Column("closes", "closes"),
            Column("conversion", "conversion", "rate")]
    return Report("list-leaderboard", "List leaderboard", ctx.campaign.name, ctx.period, cols,
                  [{c.key: r[c.key] for c in cols} for r in rows], "list")
