"""What the manager is told beside the counts: why nothing is dialed when the counts alone do not say it.

A missing or absent registry snapshot (on this server or on a dialing host), a campaign not running, an exhausted
caller-ID pool, leads with no agent ready, missed callbacks, and the runway in words.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.orm import Session

from campaigns.funnel.classify import Classifier
from campaigns.funnel.result import STATUS_WORDS, Funnel
from dnc.registry.local import hosts, in_force
from dnc.registry.sync import Unavailable

HOST_FRESH = timedelta(hours=1)  # a host row older than this is a host that stopped syncing: not reported


def registry_notes(session: Session, cl: Classifier) -> list[str]:
    """This server or a dialing host without the registry snapshot in force: its gate refuses what it covers."""
    out = []
    if isinstance(cl.snap, Unavailable):
        out.append(f"this server does not have the national registry snapshot in force ({cl.snap.generation}): "
                   f"{cl.snap.why}; the leads it covers wait until it has it")
    force = in_force(session)
    for h in hosts(session):
        if force is None or h.checked_at < cl.now - HOST_FRESH or h.generation == force.generation:
            continue
        why = f"its last fetch failed ({h.detail})" if h.state == "failed" else (
            "it is fetching it" if h.state == "fetching" else "it has not fetched it yet")
        out.append(f"host {h.host} ({h.dnc_dir}) does not have the national registry snapshot in force "
                   f"({force.generation}): {why}; its gate refuses the numbers that snapshot covers until it has it")
    return out


def notes(f: Funnel, cl: Classifier, blocker: str | None) -> list[str]:
    """The campaign's own blockers and the runway, after the registry's (``registry_notes``)."""
    out = []
    if cl.snap is None:
        out.append("no national DNC registry is loaded: nothing can be dialed until one is (dialer dnc load-national)")
    waiting = f.blocked.get("campaign_paused", 0)
    if blocker == "campaign_paused" and waiting:
        out.append(f"the campaign is {STATUS_WORDS.get(f.status, f.status)}: start it to dial the {waiting:,} "
                   f"{'lead' if waiting == 1 else 'leads'} that would be dialable now")
    elif blocker == "campaign_paused" and not f.total:  # a new campaign: its first step is a list, then the start
        out.append("no lead to call yet: upload a list of leads")
    if blocker == "no_caller_id":
        out.append("every number of the caller-ID pool is retired or at its daily cap: add numbers or raise the cap")
    if f.dialable and not f.agents_ready and f.status == "active":
        out.append(f"{f.dialable:,} {'lead is' if f.dialable == 1 else 'leads are'} dialable but no agent is ready")
    if f.callbacks.get("missed"):
        out.append(f"{f.callbacks['missed']} missed callback(s) wait in the callback queue")
    out.append(f.runway_text())
    return out
