"""``dialer dnc``: check a number, manage the suppression sources, see snapshots and a number's history.

Campaigns are named here and resolved to ids (``dnc`` knows campaigns only by id). Reports live in
``dnc_report_cmds``; the import-time scrub is wired in through ``import_scrubber`` (the import writes its ledger
record in its own transaction).
"""

from __future__ import annotations

import getpass
from datetime import UTC, date, datetime
from pathlib import Path

import click
from sqlalchemy import select

from campaigns.campaign.service import get_campaign
from campaigns.compliance.dnc_requests import record_request, revoke_consent
from campaigns.compliance.suppressed import add_consent
from campaigns.compliance.suppressed import load_consents as load_consents_into
from campaigns.db import session_factory
from campaigns.dispatch.service import call_times
from dialer.cli.context import CliContext, emit_json, pass_ctx, table
from dnc import consent, internal, lists, reports
from dnc.errors import UserError
from dnc.gate import evaluate
from dnc.numbers import to_e164
from dnc.reassigned import load_rnd
from dnc.registry import Store, default_store, load_changes, load_full
from dnc.registry.local import hosts, in_force
from dnc.registry.upkeep import KEEP_DAYS, sync_host
from dnc.scrub import DncScrubber
from dnc.tables import ListLoad


def _who(by: str) -> str:
    if by:
        return by
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def _campaign_id(ctx: CliContext, name: str | None) -> int | None:
    if name is None:
        return None
    with ctx.session() as s:
        return get_campaign(s, name).id


def parse_when(text: str | None, ctx: CliContext, what: str = "--at") -> datetime:
    if text is None:
        return ctx.clock.now()
    try:
        t = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise UserError(f"{what}: {text!r} is not an ISO-8601 time (e.g. 2030-01-08T17:00:00Z)") from None
    if t.tzinfo is None:
        raise UserError(f"{what}: {text!r} has no offset; add Z or +HH:MM (local time is ambiguous)")
    return t.astimezone(UTC)


def _version(text: str | None, ctx: CliContext) -> date:
    if text is None:
        return ctx.clock.now().date()
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise UserError(f"--version-date: {text!r} is not a date like 2030-01-08") from None


def import_scrubber(ctx: CliContext, campaign_name: str, operator: str) -> DncScrubber:
    """The scrub every CLI import and the demo apply (campaign resolved when the import starts)."""
    return DncScrubber(session_factory(ctx.engine), campaign=lambda s: get_campaign(s, campaign_name).id,
                       at=ctx.clock.now(), operator=operator or _who(""))


@click.group("dnc")
def dnc() -> None:
    """DNC and TCPA compliance: check numbers, load suppression lists, internal DNC, consent."""


@dnc.command("check")
@click.argument("number")
@click.option("--campaign", default=None, help="Campaign name (its campaign-scope DNC and consent apply).")
@click.option("--at", "at_text", default=None, help="ISO-8601 instant to judge (default: now).")
@click.option("--state", default=None, help="The lead's state (two letters).")
@click.option("--zip", "postal", default=None, help="The lead's ZIP code.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@pass_ctx
def check(ctx: CliContext, number: str, campaign: str | None, at_text: str | None, state: str | None,
          postal: str | None, as_json: bool) -> None:
    """May NUMBER be called now (or --at)? Prints the decision and every reason (no ledger record).

    A number nobody can be called at ("911", area code 555) is a decision too: NOT ALLOWED, ``invalid_number``."""
    at = parse_when(at_text, ctx)
    try:
        e164 = to_e164(number)
    except UserError:
        e164 = number.strip()  # the gate's own verdict: invalid_number
    cid = _campaign_id(ctx, campaign)
    store = Store(default_store().root, auto_fetch=False)  # a fetch started here would die with the command
    with ctx.session() as s:
        d = evaluate(s, e164, campaign=cid, at=at, state=state, postal_code=postal, call_times=call_times(s),
                     registry=store)
    if as_json:
        emit_json(d.as_dict())
        return
    click.echo(f"{e164} at {at:%Y-%m-%d %H:%M} UTC: {'ALLOWED' if d.allowed else 'NOT ALLOWED'}")
    for r in d.reasons:
        click.echo(f"  {r.code}: {r.text}")
    click.echo(f"  zones {', '.join(d.zones) or '—'}; states {', '.join(d.states) or '—'}; window "
               + (", ".join(f"{z} {w}" for z, w in d.window.items()) or "—"))
    if d.opens_at:
        click.echo(f"  callable again at {d.opens_at:%Y-%m-%d %H:%M} UTC")


def _load_out(load: ListLoad, as_json: bool, what: str) -> None:
    row = {"load_id": load.id, "source": load.source, "list_key": load.list_key, "mode": load.mode,
           "version_date": str(load.version_date), "lines": load.lines, "count": load.count, "added": load.added,
           "deleted": load.deleted, "malformed": load.malformed, "sha256": load.sha256,
           "area_codes": load.area_codes, "generation": load.generation}
    if as_json:
        emit_json(row)
    else:
        click.echo(f"loaded {what} version {load.version_date}: {load.lines:,} lines, {load.count:,} numbers in "
                   f"force (+{load.added:,} / -{load.deleted:,}), {load.malformed} malformed; load #{load.id}")


_common = [
    click.option("--version-date", "version", default=None, help="Version date of the list (default: today)."),
    click.option("--max-malformed", type=click.IntRange(0), default=0, show_default=True,
                 help="Tolerate up to N malformed lines (they are counted and skipped)."),
    click.option("--by", default="", help="Who loads it (default: $USER)."),
    click.option("--json", "as_json", is_flag=True, help="Print one JSON object."),
]


def common(f):
    for opt in reversed(_common):
        f = opt(f)
    return f


@dnc.command("load-national")
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--area-codes", default=None, help="Load only these area codes (e.g. 212,646); others stay.")
@common
@pass_ctx
def load_national(ctx: CliContext, files: tuple[Path, ...], area_codes: str | None, version: str | None,
                  max_malformed: int, by: str, as_json: bool) -> None:
    """Load National DNC Registry full list file(s) (one 10-digit number per line) as a new snapshot."""
    with ctx.session() as s:
        load = load_full(s, default_store(), files, version_date=_version(version, ctx), loaded_by=_who(by),
                         now=ctx.clock.now(), area_codes=area_codes, max_malformed=max_malformed)
    _load_out(load, as_json, "national registry")


@dnc.command("load-changes")
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--area-codes", default=None, help="Area codes this change list refreshes (default: all covered).")
@common
@pass_ctx
def load_changes_cmd(ctx: CliContext, file: Path, area_codes: str | None, version: str | None, max_malformed: int,
                     by: str, as_json: bool) -> None:
    """Apply a registry change list (NUMBER,A or NUMBER,D per line) to the snapshot in force."""
    with ctx.session() as s:
        load = load_changes(s, default_store(), file, version_date=_version(version, ctx), loaded_by=_who(by),
                            now=ctx.clock.now(), area_codes=area_codes, max_malformed=max_malformed)
    _load_out(load, as_json, "registry change list")


def _list_command(name: str, source: str, doc: str, with_state: bool = False):
    @click.argument("file", type=click.Path(path_type=Path))
    @click.option("--vendor", default="", help="Who supplied the list.")
    @common
    @pass_ctx
    def cmd(ctx: CliContext, file: Path, vendor: str, version: str | None, max_malformed: int, by: str,
            as_json: bool, state: str = "") -> None:
        with ctx.session() as s:
            load = lists.load_list(s, source, file, key=state, version_date=_version(version, ctx),
                                   loaded_by=_who(by), now=ctx.clock.now(), vendor=vendor,
                                   max_malformed=max_malformed)
        _load_out(load, as_json, f"{state + ' ' if state else ''}{source} list")

    cmd.__doc__ = doc
    if with_state:
        cmd = click.argument("state")(cmd)
    dnc.command(name)(cmd)


_list_command("load-state", "state", "Load STATE's do-not-call list FILE (one number per line) as its new version.",
              with_state=True)
_list_command("load-litigator", "litigator", "Load a litigator list (one number per line, optional ,note).")
_list_command("load-wireless", "wireless", "Load wireless / ported-to-wireless numbers (one per line).")
_list_command("load-prefixes", "prefix", "Load area-code or prefix wildcard blocks (212 or 212555, one per line).")


@dnc.command("load-rnd")
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--changes", is_flag=True, help="Add these disconnections to the RND data in force (default: the "
                                              "file is the whole of it, a new version).")
@click.option("--vendor", default="", help="Who supplied the data (the RND administrator, a reseller).")
@common
@pass_ctx
def load_rnd_cmd(ctx: CliContext, file: Path, changes: bool, vendor: str, version: str | None, max_malformed: int,
                 by: str, as_json: bool) -> None:
    """Load Reassigned Numbers Database data: CSV number,disconnected_on (the permanent-disconnect date).

    --version-date is the day the data are as of; a call resting on consent needs data no older than the rules
    allow. A consent or EBR dated on or before a number's disconnection no longer covers it."""
    with ctx.session() as s:
        load = load_rnd(s, file, version_date=_version(version, ctx), loaded_by=_who(by), now=ctx.clock.now(),
                        mode="changes" if changes else "full", vendor=vendor, max_malformed=max_malformed)
    _load_out(load, as_json, f"Reassigned Numbers Database {'changes' if changes else 'data'}")


@dnc.command("add")
@click.argument("number")
@click.option("--channel", required=True, type=click.Choice(internal.CHANNELS), help="How the request came in.")
@click.option("--reason", required=True, help="What the person asked / why.")
@click.option("--campaign", default=None, help="Only this campaign (default: the whole company).")
@click.option("--received-at", default=None, help="When the request was received (default: now).")
@click.option("--source-ref", default="", help="Reference to the request (ticket, letter, call SID).")
@click.option("--by", default="", help="Who enters it (default: $USER).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@pass_ctx
def add(ctx: CliContext, number: str, channel: str, reason: str, campaign: str | None, received_at: str | None,
        source_ref: str, by: str, as_json: bool) -> None:
    """Put NUMBER on the internal DNC list, effective at once."""
    e164, cid, now = to_e164(number), _campaign_id(ctx, campaign), ctx.clock.now()
    with ctx.session() as s:
        e = record_request(s, e164, scope="campaign" if cid is not None else "company", campaign=cid,
                                 channel=channel, received_at=parse_when(received_at, ctx, "--received-at"),
                                 added_by=_who(by), source_ref=source_ref, reason=reason, recorded_at=now)
        out = {"id": e.id, "e164": e164, "scope": e.scope, "campaign": cid, "effective_at": e.effective_at,
               "honor_deadline": e.honor_deadline}
    if as_json:
        emit_json(out)
    else:
        click.echo(f"{e164} is on the {e.scope} internal DNC list from {e.effective_at:%Y-%m-%d %H:%M} UTC "
                   f"(entry #{e.id}; honor deadline {e.honor_deadline:%Y-%m-%d})")


@dnc.command("remove")
@click.argument("number")
@click.option("--reason", required=True, help="Why the number may be called again (kept in the audit trail).")
@click.option("--campaign", default=None, help="Remove the campaign-scope entry of this campaign.")
@click.option("--by", default="", help="Who removes it (default: $USER).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@pass_ctx
def remove(ctx: CliContext, number: str, reason: str, campaign: str | None, by: str, as_json: bool) -> None:
    """Take NUMBER off the internal DNC list (the request stays on record), and the same person's numbers its
    request listed with it; a number listed only as another's same person is refused (remove the one it names)."""
    e164, cid = to_e164(number), _campaign_id(ctx, campaign)
    with ctx.session() as s:
        gone = internal.remove(s, e164, scope="campaign" if cid is not None else "company", campaign=cid,
                               removed_by=_who(by), reason=reason, at=ctx.clock.now())
    own = [e for e in gone if e.e164 == e164]
    linked = [e for e in gone if e.e164 != e164]
    if as_json:
        emit_json({"e164": e164, "removed": len(own), "entries": [e.id for e in own],
                   "linked": [{"e164": e.e164, "entry": e.id, "linked_to": e.linked_to} for e in linked]})
    else:
        click.echo(f"removed {e164} from the internal DNC list ({len(own)} entr{'y' if len(own) == 1 else 'ies'})"
                   + (f", and the same person's numbers listed with it: {', '.join(sorted({e.e164 for e in linked}))}"
                      if linked else ""))


@dnc.command("consent")
@click.argument("number")
@click.option("--kind", required=True, type=click.Choice(consent.KINDS))
@click.option("--granted-at", default=None, help="When consent was given / the purchase or inquiry (default now).")
@click.option("--evidence", required=True, help="Where the signed agreement or transaction record is kept.")
@click.option("--campaign", default=None, help="Only for this campaign (default: every campaign).")
@click.option("--expires-at", default=None, help="Earlier expiry (EBR expiry follows from its kind).")
@click.option("--revoke", "revoke_reason", default=None, help="Revoke the consent in force instead, with a reason.")
@click.option("--by", default="")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@pass_ctx
def consent_cmd(ctx: CliContext, number: str, kind: str, granted_at: str | None, evidence: str,
                campaign: str | None, expires_at: str | None, revoke_reason: str | None, by: str,
                as_json: bool) -> None:
    """Record prior express written consent (pewc) or an EBR (ebr_purchase, ebr_inquiry) for NUMBER."""
    e164, cid, now = to_e164(number), _campaign_id(ctx, campaign), ctx.clock.now()
    with ctx.session() as s:
        if revoke_reason is not None:
            gone = revoke_consent(s, e164, at=now, by=_who(by), reason=revoke_reason, campaign=cid)
            out = {"e164": e164, "revoked": [c.id for c in gone]}
        else:
            r = add_consent(s, e164, kind=kind, granted_at=parse_when(granted_at, ctx, "--granted-at"),
                            evidence_ref=evidence, added_by=_who(by), now=now, campaign=cid,
                            expires_at=parse_when(expires_at, ctx, "--expires-at") if expires_at else None)
            c = r.consent
            out = {"id": c.id, "e164": e164, "kind": kind, "granted_at": c.granted_at, "expires_at": c.expires_at,
                   "leads_now_dialable": len(r.dialable), "leads_still_suppressed": len(r.narrowed)}
    if as_json:
        emit_json(out)
    else:
        click.echo(", ".join(f"{k}: {v}" for k, v in out.items()))


@dnc.command("load-consents")
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--by", default="")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@pass_ctx
def load_consents(ctx: CliContext, file: Path, by: str, as_json: bool) -> None:
    """Record consent/EBR from CSV: number,kind,granted_at,evidence_ref[,campaign_id] (all or nothing)."""
    with ctx.session() as s:
        n, r = load_consents_into(s, file, added_by=_who(by), now=ctx.clock.now())
    if as_json:
        emit_json({"file": str(file), "recorded": n, "leads_now_dialable": len(r.dialable),
                   "leads_still_suppressed": len(r.narrowed)})
    else:
        click.echo(f"recorded {n:,} consent/EBR records from {file}; {len(r.dialable):,} suppressed leads became "
                   f"dialable, {len(r.narrowed):,} kept other reasons")


@dnc.command("snapshots")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@pass_ctx
def snapshots(ctx: CliContext, as_json: bool) -> None:
    """The registry snapshot in force, what this host serves, every host's last sync, and every list load."""
    snap, now = default_store().current(), ctx.clock.now()
    with ctx.session() as s:
        force = in_force(s)
        host_rows = [{"host": h.host, "dnc_dir": h.dnc_dir, "serves": h.generation, "state": h.state,
                      "checked_at": f"{h.checked_at:%Y-%m-%d %H:%M}", "detail": h.detail} for h in hosts(s)]
        loads = s.scalars(select(ListLoad).order_by(ListLoad.id)).all()
        rows = [{"id": ld.id, "source": ld.source + (f":{ld.list_key}" if ld.list_key else ""), "mode": ld.mode,
                 "version": str(ld.version_date), "age_days": (now.date() - ld.version_date).days,
                 "count": ld.count, "malformed": ld.malformed, "loaded_at": f"{ld.loaded_at:%Y-%m-%d %H:%M}",
                 "by": ld.loaded_by, "sha256": ld.sha256[:12], "generation": ld.generation} for ld in loads]
    current = None
    if snap is not None:
        oldest = min(c.version_date for c in snap.coverage.values()) if snap.coverage else None
        current = {"generation": snap.generation, "area_codes": len(snap.coverage), "numbers": snap.count,
                   "oldest_version": str(oldest) if oldest else None,
                   "oldest_age_days": (now.date() - oldest).days if oldest else None}
    if as_json:
        emit_json({"in_force": force.generation if force else None, "current": current, "hosts": host_rows,
                   "loads": rows})
        return
    if force is None:
        click.echo("no national registry snapshot: nothing may be dialed until one is loaded")
    elif current is None or current["generation"] != force.generation:
        click.echo(f"in force: {force.generation}; this host ({default_store().root}) does not serve it "
                   f"({'it serves ' + current['generation'] if current else 'it has none'}): its gate refuses what "
                   "the registry covers until `dialer dnc sync` or the worker's registry-sync job fetches it")
    else:
        click.echo(f"in force and served here: {current['generation']}, {current['area_codes']} area codes, "
                   f"{current['numbers']:,} numbers, oldest version {current['oldest_version']} "
                   f"({current['oldest_age_days']} days)")
    if host_rows:
        click.echo(table(host_rows, ["host", "dnc_dir", "serves", "state", "checked_at", "detail"]))
    click.echo(table(rows))


@dnc.command("sync")
@click.option("--publish", is_flag=True,
              help="Also store the generation in force in the database when this host has it and the database does "
                   "not (a load made before snapshots were stored there).")
@click.option("--keep-days", type=click.IntRange(0), default=KEEP_DAYS, show_default=True,
              help="Keep generations a call was placed under for this many days (the reconciliation report judges "
                   "calls against them); prune the rest.")
@click.option("--no-prune", is_flag=True, help="Fetch only; prune nothing.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@pass_ctx
def sync_cmd(ctx: CliContext, publish: bool, keep_days: int, no_prune: bool, as_json: bool) -> None:
    """Make this host's DIALER_DNC_DIR serve the registry snapshot in force: fetch it from the database when it is
    missing (checksums verified before it is used), prune old generations, and say what was done. Exits 1 when this
    host still lacks the snapshot in force."""
    store = default_store()
    report = sync_host(ctx.engine, store, ctx.clock.now(), wait=True, publish=publish, prune=not no_prune,
                       keep_days=keep_days)
    if as_json:
        emit_json({**report.to_dict(), "dnc_dir": str(store.root)})
    else:
        click.echo(f"{store.root}: {report.text()}")
    if report.action in ("failed", "unstored"):
        click.get_current_context().exit(1)


@dnc.command("history")
@click.argument("number")
@click.option("--csv", "csv_path", type=click.Path(path_type=Path, dir_okay=False), default=None)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@pass_ctx
def history_cmd(ctx: CliContext, number: str, csv_path: Path | None, as_json: bool) -> None:
    """Every decision and change about NUMBER, with reasons, zones and the window applied."""
    e164 = to_e164(number)
    with ctx.session() as s:
        rows = reports.history(s, e164)
    from dialer.cli.dnc_report import output

    output(rows, csv_path, as_json, {"e164": e164},
           ["seq", "at", "kind", "campaign", "allowed", "codes", "actor", "detail"])
