"""``dialer campaigns``: create, list and change campaigns from scripts."""

from dataclasses import asdict

import click

from campaigns.alerts import service as abandon_alerts
from campaigns.callerid.service import configure
from campaigns.campaign.dial_settings import LEAD_ORDERS, settings_of, update
from campaigns.campaign.models import CAMPAIGN_STATUSES, DEDUPE_SCOPES, PACING_MODES
from campaigns.campaign.readiness import start_warnings
from campaigns.campaign.service import CampaignSettings, create_campaign, get_campaign, list_campaigns, set_status
from campaigns.funnel.result import LABELS
from campaigns.funnel.service import funnel
from campaigns.reports.metrics import percent_text
from dialer.cli import campaign_settings
from dialer.cli.context import CliContext, emit_json, pass_ctx, table
from dialer.cli.report import AT_HELP, parse_at


@click.group("campaigns")
def campaigns() -> None:
    """Create, list, start, pause and finish campaigns."""


@campaigns.command("create")
@click.argument("name")
@click.option("--caller-id", required=True, help="Number shown to the called party, E.164 (+12125550100).")
@click.option("--region", default="US", show_default=True, help="Default region for parsing lead numbers.")
@click.option("--timezone", "tz", default="America/New_York", show_default=True, help="Zone for reports.")
@click.option("--pacing", type=click.Choice(PACING_MODES), default="predictive", show_default=True)
@click.option("--abandon-target", type=float, default=0.03, show_default=True, help="Fraction of live answers.")
@click.option("--max-attempts", type=int, default=5, show_default=True)
@click.option("--dedupe", type=click.Choice(DEDUPE_SCOPES), default="campaign", show_default=True,
              help="Where a lead's number must be unique.")
@click.option("--seller-name", default="", help="Name played in the safe-harbor message (default: campaign name).")
@click.option("--callback-number", default="", help="Number that takes DNC requests (default: caller ID).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@pass_ctx
def create(ctx: CliContext, name, caller_id, region, tz, pacing, abandon_target, max_attempts, dedupe, seller_name,
           callback_number, as_json) -> None:
    """Create campaign NAME (status draft)."""
    settings = CampaignSettings(region=region, timezone=tz, pacing_mode=pacing, abandon_target=abandon_target,
                                max_attempts=max_attempts, dedupe_scope=dedupe, seller_name=seller_name,
                                callback_number=callback_number)
    with ctx.session() as s:
        c = create_campaign(s, name, caller_id, ctx.clock.now(), settings)
        out = {"id": c.id, "name": c.name, "caller_id": c.caller_id, "status": c.status, "pacing_mode": c.pacing_mode}
    if as_json:
        emit_json(out)
    else:
        click.echo(f"created campaign {out['name']!r} (caller ID {out['caller_id']}, {out['pacing_mode']}, draft)")


@campaigns.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@pass_ctx
def list_(ctx: CliContext, as_json: bool) -> None:
    """List campaigns with their status and lead counts."""
    with ctx.session() as s:
        rows = [asdict(r) for r in list_campaigns(s)]
    if as_json:
        emit_json({"campaigns": rows})
    else:
        click.echo(table(rows))


def _status_command(status: str, verb: str):
    @click.argument("name")
    @pass_ctx
    def cmd(ctx: CliContext, name: str) -> None:
        with ctx.session() as s:
            c = set_status(s, get_campaign(s, name), status, ctx.clock.now())
            click.echo(f"campaign {c.name!r} is {c.status}")
            if c.status == "active":
                for warning in start_warnings(s, c):
                    click.echo(f"warning: {warning}", err=True)

    cmd.__doc__ = f"{verb} campaign NAME."
    return campaigns.command(verb.lower())(cmd)


for _status, _verb in (("active", "Start"), ("paused", "Pause"), ("finished", "Finish")):
    assert _status in CAMPAIGN_STATUSES
    _status_command(_status, _verb)


@campaigns.command("funnel")
@click.argument("name")
@click.option("--at", "at_raw", default=None, metavar="ISO-TIME", help=AT_HELP.replace("Compute as", "As"))
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@pass_ctx
def funnel_cmd(ctx: CliContext, name: str, at_raw: str | None, as_json: bool) -> None:
    """Why campaign NAME is (not) dialing: every lead counted once under what blocks it now."""
    with ctx.session() as s:
        c = get_campaign(s, name)
        at = parse_at(at_raw, ctx, c.timezone)
        f = funnel(s, c, at)
        out = f.as_dict()
    if as_json:
        emit_json(out)
        return
    click.echo(f"campaign {f.campaign!r} ({f.status}) at {f.at:%Y-%m-%d %H:%M} UTC: {f.total:,} leads")
    rows = [{"": "final", "reason": LABELS[k], "code": k, "leads": v} for k, v in f.final.items() if v]
    if f.dialing:
        rows.append({"": "now", "reason": LABELS["dialing"], "code": "dialing", "leads": f.dialing})
    rows += [{"": "blocked", "reason": LABELS[k], "code": k, "leads": v} for k, v in f.blocked.items()]
    rows.append({"": "dialable", "reason": LABELS["dialable"], "code": "dialable", "leads": f.dialable})
    rows.append({"": "total", "reason": "", "code": "", "leads": f.total})
    click.echo(table(rows, ["", "reason", "code", "leads"]))
    if f.windows:
        click.echo("\nwindow groups (when each opens):")
        click.echo(table([{"zones": ",".join(w.zones), "states": ",".join(w.states), "reason": w.reason,
                           "leads": w.leads, "opens at (UTC)": f"{w.opens_at:%Y-%m-%d %H:%M}" if w.opens_at else "—"}
                          for w in f.windows[:20]]))
    click.echo(f"\npace {f.pace_per_min:g} dials/min, {f.due_next_hour:,} leads come due in the next hour, "
               f"{f.agents_ready} agent(s) ready")
    for note in f.notes:
        click.echo(f"- {note}")


# every strategy/alert setting, as a CLI flag: (flag, setting, type, help)
SETTING_FLAGS = (
    ("--lead-order", "lead_order", click.Choice(LEAD_ORDERS),
     "due: longest waiting first; oldest/newest: by load; follow_sun: zones whose window closes first"),
    ("--new-lead-every", "new_lead_every", int, "N: one dial in N goes to a new lead (0: off)"),
    ("--phone-switch-after", "phone_switch_after", int, "N: move to the lead's next phone after N failures (0: off)"),
    ("--min-recall-gap", "min_recall_gap_s", int, "seconds before a lead or number is called again"),
    ("--lead-daily-cap", "lead_daily_cap", int, "attempts per lead per day (0: none)"),
    ("--phone-daily-cap", "phone_daily_cap", int, "attempts per number per day (0: none)"),
    ("--retry-shift", "retry_shift_s", int, "seconds each retry waits longer than the one before (rotates the hour)"),
    ("--callbacks-personal/--callbacks-shared", "callbacks_personal", None,
     "an agent's callback waits for that agent first"),
    ("--callback-grace", "callback_grace_s", int, "seconds a personal callback waits for its agent"),
    ("--callback-miss", "callback_miss_s", int, "seconds after it was due that a callback counts as missed"),
    ("--abandon-warn", "abandon_warn_1", float, "first warning level (fraction, e.g. 0.025)"),
    ("--abandon-high", "abandon_warn_2", float, "second warning level (fraction, e.g. 0.028)"),
    ("--fallback/--no-fallback", "abandon_fallback", None, "pace progressive by itself at the abandon target"),
    ("--alert-min-live", "alert_min_live_answers", int, "live answers (30 days) needed before a warning"),
    ("--alert-webhook", "alert_webhook_url", str, "URL the alerts are POSTed to as JSON ('' for none)"),
    ("--callerid-min-answer-rate", "callerid_min_answer_rate", float,
     "retire a pool number whose 7-day answer rate falls below this (0: off)"),
    ("--callerid-min-dials", "callerid_min_dials", int, "dials in 7 days before the answer-rate floor applies"),
)
ZERO_IS_NONE = {"lead_daily_cap", "phone_daily_cap", "callerid_min_answer_rate"}
# settings of the caller-ID pool kept on the campaign row itself
POOL_FLAGS = (("--local-presence/--no-local-presence", "local_presence", None,
               "show a pool number of the lead's area code (else state) when there is one"),
              ("--callerid-daily-cap", "caller_id_daily_cap", int, "dials per pool number per day (default 150)"),
              ("--spam-threshold", "spam_flag_threshold", int, "spam flags that retire a pool number (default 3)"))


def _strategy(ctx: CliContext, name: str, as_json: bool, **values) -> None:
    changes = {}
    for _, setting, _, _ in SETTING_FLAGS:
        v = values.get(setting)
        if v is not None:
            changes[setting] = None if setting in ZERO_IS_NONE and v == 0 else v
    pool_changes = {k: values[k] for _, k, _, _ in POOL_FLAGS if values.get(k) is not None}
    with ctx.session() as s:
        c = get_campaign(s, name)
        current = update(s, c, ctx.clock.now(), **changes) if changes else settings_of(s, c.id)
        configure(c, local_presence=pool_changes.get("local_presence"),
                  daily_cap=pool_changes.get("caller_id_daily_cap"),
                  spam_threshold=pool_changes.get("spam_flag_threshold"))
        out = {"campaign": c.name, "changed": sorted([*changes, *pool_changes]),
               "settings": {**current.as_dict(), "local_presence": c.local_presence,
                            "caller_id_daily_cap": c.caller_id_daily_cap,
                            "spam_flag_threshold": c.spam_flag_threshold}}
    if as_json:
        emit_json(out)
        return
    if changes:
        click.echo(f"campaign {name!r}: changed {', '.join(sorted(changes))}")
    click.echo(table([{"setting": k, "value": v} for k, v in out["settings"].items()]))


def _strategy_command() -> click.Command:
    def cmd(ctx: CliContext, name: str, as_json: bool, **values) -> None:
        _strategy(ctx, name, as_json, **values)

    cmd.__doc__ = "Show or change campaign NAME's lead strategy, callback and abandon-alert settings."
    for flag, setting, typ, help_ in reversed((*SETTING_FLAGS, *POOL_FLAGS)):
        if typ is None:
            cmd = click.option(flag, setting, default=None, help=help_)(cmd)
        else:
            cmd = click.option(flag, setting, type=typ, default=None, help=help_)(cmd)
    cmd = click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")(cmd)
    cmd = click.argument("name")(cmd)
    return campaigns.command("strategy")(pass_ctx(cmd))


_strategy_command()


@campaigns.command("alerts")
@click.argument("name")
@click.option("--check", "do_check", is_flag=True, help="Recompute the level now (what the worker's job does).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@pass_ctx
def alerts_cmd(ctx: CliContext, name: str, do_check: bool, as_json: bool) -> None:
    """Campaign NAME's 30-day abandon rate against its warning levels, the fallback, and the recent alerts."""
    now = ctx.clock.now()
    with ctx.session() as s:
        c = get_campaign(s, name)
        if do_check:
            abandon_alerts.check(s, c, now)
        g = abandon_alerts.state(s, c)
        st = settings_of(s, c.id)
        out = {"campaign": c.name, "level": g.level if g else None, "fallback": g.fallback if g else False,
               "abandon_rate_30d": g.rate if g else None, "live_answers_30d": g.live_answers if g else None,
               "abandoned_30d": g.abandoned if g else None, "machine_hangups_30d": g.machines if g else None,
               "checked_at": g.checked_at.isoformat() if g else None,
               "thresholds": {"warn": st.abandon_warn_1, "high": st.abandon_warn_2, "target": c.abandon_target},
               "webhook": st.alert_webhook_url or None,
               "alerts": [{"at": a.at.isoformat(), "level": a.level, "previous": a.previous, "rate": a.rate,
                           "fallback": a.fallback, "message": a.message}
                          for a in abandon_alerts.recent(s, c.id)]}
    if as_json:
        emit_json(out)
        return
    if out["level"] is None:
        click.echo(f"campaign {name!r}: not checked yet (the worker checks active campaigns; or use --check)")
        return
    rate = out["abandon_rate_30d"]
    click.echo(f"campaign {name!r}: level {out['level']}, 30-day abandon rate "
               f"{percent_text(rate)} ({out['abandoned_30d']} of {out['live_answers_30d']} "
               f"live answers); machine hang-ups by AMD (not abandons): {out['machine_hangups_30d']}"
               + ("; FALLING BACK TO PROGRESSIVE" if out["fallback"] else ""))
    click.echo(table([{"at": a["at"][:19], "level": a["level"], "message": a["message"]} for a in out["alerts"]]))


campaign_settings.register(campaigns)
