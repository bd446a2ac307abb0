"""Abandon alerts: warnings before the legal cap, not after, and progressive pacing by itself at the cap.

The rolling 30-day abandon rate of a campaign (``campaigns.reports.metrics.abandon_rate`` on the counts of
``campaigns.reports.history.abandon_history``: the same numbers the reports and the pacer use) is checked every few
seconds by the worker's ``abandon-guard`` job. Levels:

- ``warn`` at ``abandon_warn_1`` (2.5 %) and ``high`` at ``abandon_warn_2`` (2.8 %): shown on the floor and posted
  to the campaign's webhook, once enough live answers stand behind the rate (``alert_min_live_answers``);
- ``over`` above the campaign's ``abandon_target`` (3 % at most; the target itself is lawful): the campaign falls
  back to progressive pacing by itself (``effective_mode``, read by the dial loop) and says so, whatever the sample,
  because the rate the law reads really is over; predictive pacing comes back once the rate is below
  ``abandon_warn_1`` again.

Every change of level is an ``abandon_alerts`` row; the webhook gets a JSON POST per row through an outbox
(``alert_deliveries``) that a separate job empties with retries and backoff, so a slow or dead endpoint is logged
and retried, and never holds up dialing. Machine hang-ups by answering-machine detection are counted and reported
beside the abandons, never inside them. The levels are ``campaigns.alerts.levels.abandon_level``, the rule every
page and the command line colour a rate by.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from campaigns.alerts.levels import abandon_level
from campaigns.alerts.models import AbandonAlert, AbandonGuard, AlertDelivery
from campaigns.campaign.dial_settings import Settings, settings_of
from campaigns.campaign.models import Campaign
from campaigns.reports.metrics import abandon_rate, percent_text, target_text

log = logging.getLogger(__name__)
FALLBACK_FROM = ("predictive", "power")  # the modes that dial ahead of agents and can abandon
CHECK_EVERY_S = 30  # how often the worker's abandon-guard job checks every active campaign (the floor says so)
WINDOW = timedelta(days=30)
MAX_ATTEMPTS = 10
BACKOFF_S = 30


def machines_30d(session: Session, campaign: Campaign, now: datetime) -> int:
    """Answering machines hung up on (or left a message) by detection over the 30 days, from the rollups."""
    from campaigns.reports.models import GRAIN_TOTAL, CallRollup

    return int(session.scalar(select(func.sum(CallRollup.machines)).where(
        CallRollup.campaign_id == campaign.id, CallRollup.grain == GRAIN_TOTAL,
        CallRollup.bucket >= now - WINDOW, CallRollup.bucket <= now)) or 0)


def _message(c: Campaign, level: str, rate: float | None, live: int, ab: int, fallback: bool, s: Settings) -> str:
    r = percent_text(rate)
    head = {"ok": "back under the first warning level",
            "warn": f"at or above the {target_text(s.abandon_warn_1)} warning",
            "high": f"at or above the {target_text(s.abandon_warn_2)} warning",
            "over": f"above the campaign's {target_text(c.abandon_target)} target (legal cap 3 %)"}[level]
    text = f"{c.name}: 30-day abandon rate {r} ({ab} of {live} live answers) is {head}"
    if fallback:
        text += f"; pacing falls back to progressive until it is under {target_text(s.abandon_warn_1)}"
    return text[:400]


@dataclass(frozen=True)
class GuardState:
    level: str
    fallback: bool
    rate: float | None
    live_answers: int
    abandoned: int
    machines: int
    changed: bool
    message: str

    def as_dict(self) -> dict:
        return dict(self.__dict__)


@dataclass(frozen=True)
class Assessment:
    """What the guard read about a campaign (no lock held while reading): its 30-day counts and settings."""

    settings: Settings
    live: int
    abandoned: int
    rate: float | None
    machines: int


def assess(session: Session, campaign: Campaign, now: datetime, absorb: bool = True) -> Assessment:
    """The campaign's 30-day counts. ``absorb``: bring the rollups up to date first (a write); without it the
    counts are still exact (``abandon_history`` reads the hours the rollups have not absorbed from the calls)."""
    from campaigns.reports.history import abandon_history

    s = settings_of(session, campaign.id)
    live, ab = abandon_history(session, campaign.id, now, absorb=absorb)
    return Assessment(s, live, ab, abandon_rate(ab, live), machines_30d(session, campaign, now))


def check(session: Session, campaign: Campaign, now: datetime) -> GuardState:
    """Recompute the campaign's level; on a change, write an alert (and its webhook delivery)."""
    return record(session, campaign, assess(session, campaign, now), now)


def record(session: Session, campaign: Campaign, a: Assessment, now: datetime) -> GuardState:
    """Write the level ``a`` gives: the previous level is read here, under the guard row's lock, so two checks
    at once (or one that read before another wrote) still record each change of level exactly once."""
    s, live, ab, rate, machines = a.settings, a.live, a.abandoned, a.rate, a.machines
    level = abandon_level(rate, live, s, campaign.abandon_target)
    row = session.get(AbandonGuard, campaign.id, with_for_update=True, populate_existing=True)
    if row is not None and row.checked_at is not None and row.checked_at > now:  # a later check wrote already
        return GuardState(row.level, row.fallback, row.rate, row.live_answers, row.abandoned, row.machines, False,
                          _message(campaign, row.level, row.rate, row.live_answers, row.abandoned, row.fallback, s))
    was_level, was_fallback = (row.level, row.fallback) if row is not None else ("ok", False)
    fallback = s.abandon_fallback and campaign.pacing_mode in FALLBACK_FROM and (
        level == "over" or (was_fallback and rate is not None and rate >= s.abandon_warn_1))
    if row is None:
        row = AbandonGuard(campaign_id=campaign.id, changed_at=now)
        session.add(row)
    changed = (level, fallback) != (was_level, was_fallback)
    row.level, row.fallback, row.rate, row.live_answers, row.abandoned, row.machines = (
        level, fallback, rate, live, ab, machines)
    row.checked_at = now
    message = _message(campaign, level, rate, live, ab, fallback, s)
    if changed:
        row.changed_at = now
        alert = AbandonAlert(campaign_id=campaign.id, level=level, previous=was_level, rate=rate, live_answers=live,
                             abandoned=ab, machines=machines, fallback=fallback, message=message, at=now)
        session.add(alert)
        session.flush()
        (log.warning if level != "ok" else log.info)("abandon alert: %s", message)
        if s.alert_webhook_url:
            session.add(AlertDelivery(alert_id=alert.id, url=s.alert_webhook_url,
                                      payload=payload(campaign, alert, s), attempts=0, next_try_at=now,
                                      created_at=now))
    session.flush()
    return GuardState(level, fallback, rate, live, ab, machines, changed, message)


def payload(campaign: Campaign, alert: AbandonAlert, s: Settings) -> dict:
    return {"event": "abandon_rate", "campaign": campaign.name, "campaign_id": campaign.id, "level": alert.level,
            "previous": alert.previous, "abandon_rate_30d": alert.rate, "live_answers_30d": alert.live_answers,
            "abandoned_30d": alert.abandoned, "machine_hangups_30d": alert.machines,
            "thresholds": {"warn": s.abandon_warn_1, "high": s.abandon_warn_2, "target": campaign.abandon_target},
            "fallback_to_progressive": alert.fallback, "message": alert.message, "at": alert.at.isoformat()}


def check_all(session: Session, now: datetime) -> dict:
    """The guard job: every active campaign (a paused one keeps its last level until it dials again).

    The counts are read with no transaction of ``session`` open (``campaigns.db.reading``): on SQLite a job's
    transaction holds the one write lock, and 30 days of calls take a while to count; each campaign's level is then
    written in a short transaction of its own. The rollups are not absorbed here (the ``reports-refresh`` job
    does that): the counts are exact without it."""
    from campaigns.db import reading

    out = {}
    with reading(session) as reader:
        campaigns = reader.scalars(select(Campaign).where(Campaign.status == "active").order_by(Campaign.id)).all()
        found = [(c, assess(reader, c, now, absorb=False)) for c in campaigns]
    for c, a in found:
        campaign = session.get(Campaign, c.id)
        if campaign is None:  # deleted meanwhile
            continue
        st = record(session, campaign, a, now)
        session.commit()
        out[c.name] = {"level": st.level, "fallback": st.fallback, "rate": st.rate}
    return out


def effective_modes(session: Session, campaign_ids: list[int]) -> dict[int, str]:
    """Campaigns falling back to progressive now: id -> why (what the dial loop and the floor say)."""
    if not campaign_ids:
        return {}
    rows = session.execute(select(AbandonGuard, Campaign).join(Campaign, Campaign.id == AbandonGuard.campaign_id)
                           .where(AbandonGuard.campaign_id.in_(campaign_ids), AbandonGuard.fallback.is_(True)))
    out = {}
    for g, c in rows:
        if c.pacing_mode in FALLBACK_FROM:
            r = percent_text(g.rate)
            out[c.id] = (f"30-day abandon rate {r} is above the {target_text(c.abandon_target)} target: "
                         f"progressive pacing "
                         f"until it is under {target_text(settings_of(session, c.id).abandon_warn_1)}")
    return out


def state(session: Session, campaign: Campaign) -> AbandonGuard | None:
    return session.get(AbandonGuard, campaign.id)


def level_words(campaign: Campaign, guard: AbandonGuard | None, live_answers_30d: int = 0) -> tuple[str, str]:
    """The level as the floor and the strategy page say it, and when it is checked: while the guard has nothing
    to judge (no check yet, or no live answer in 30 days) "no calls yet" with how often it is checked, since a bare
    "ok" would read as an all-clear; else the level alone."""
    if guard is not None and not (guard.level == "ok" and not guard.live_answers):
        return guard.level, ""
    when = (f"checked every {CHECK_EVERY_S} s while the campaign dials" if campaign.status == "active"
            else f"checked every {CHECK_EVERY_S} s once the campaign dials")
    return ("no calls yet" if not live_answers_30d else "first check due", when)


def recent(session: Session, campaign_id: int, limit: int = 20) -> list[AbandonAlert]:
    return list(session.scalars(select(AbandonAlert).where(AbandonAlert.campaign_id == campaign_id)
                                .order_by(AbandonAlert.at.desc(), AbandonAlert.id.desc()).limit(limit)))


# --- the webhook outbox ----------------------------------------------------------------------------------------
Post = Callable[[str, dict], int]  # url, JSON body -> HTTP status; raises on a network error


def http_post(url: str, body: dict, timeout_s: float = 5.0) -> int:
    """POST once, checking the destination again first (its name may point inward by now) and never following a
    redirect (a 3xx is a failed delivery)."""
    import requests

    from campaigns.alerts.destinations import problem

    why = problem(url)
    if why:
        raise PermissionError(f"refused: the webhook URL {why}")
    return requests.post(url, json=body, timeout=timeout_s, allow_redirects=False,
                         headers={"User-Agent": "opendialer-alerts/1", "Content-Type": "application/json"}).status_code


def _receiver(url: str) -> str:
    """The webhook as a log line may name it: scheme and host. Incoming-webhook URLs carry their secret in the path
    or the query, and logs travel further than the database."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.hostname or '?'}{f':{parts.port}' if parts.port else ''}/…"


def _scrubbed(error: str, url: str) -> str:
    """A network error's text without the parts of ``url`` past its host (requests repeats the path in it)."""
    parts = urlsplit(url)
    for secret in (url, parts.path + (f"?{parts.query}" if parts.query else ""), parts.query, parts.path):
        if len(secret) > 1:
            error = error.replace(secret, "/…")
    return error


CLAIM = timedelta(minutes=5)  # longer than a POST may take: a delivery being sent is not due again meanwhile


def deliver(session: Session, now: datetime, post: Post = http_post, limit: int = 20) -> dict:
    """POST the deliveries that are due; a failure is logged and retried later (30 s, 1 min, 2 min ... at most an
    hour apart, ten times), then given up and kept with its last error.

    No transaction is open while a POST is on its way (a slow endpoint would otherwise hold SQLite's one write lock
    for seconds, the dial loop's writes waiting behind it): the due deliveries are claimed in one short transaction
    (their attempt counted, their next try moved past the POST's time, so a second runner or a crash mid-POST does
    not send them twice at once), and each result is written in another short one."""
    due = (select(AlertDelivery.id, AlertDelivery.url, AlertDelivery.payload, AlertDelivery.attempts)
           .where(AlertDelivery.delivered_at.is_(None), AlertDelivery.gave_up_at.is_(None),
                  AlertDelivery.next_try_at <= now)
           .order_by(AlertDelivery.next_try_at, AlertDelivery.id).limit(limit).with_for_update(skip_locked=True))
    claimed = []
    for id_, url, body, attempts in session.execute(due).all():
        took = session.execute(update(AlertDelivery).where(AlertDelivery.id == id_,
                                                           AlertDelivery.attempts == attempts)
                               .values(attempts=attempts + 1, next_try_at=now + CLAIM)
                               .execution_options(synchronize_session=False)).rowcount
        if took:
            claimed.append((id_, url, body, attempts + 1))
    session.commit()
    sent = failed = 0
    for id_, url, body, attempts in claimed:
        try:
            status = post(url, body)
            error = None if 200 <= status < 300 else f"HTTP {status}"
        except Exception as e:  # any network failure: logged and retried, never raised into the worker
            error = f"{type(e).__name__}: {e}"
        mine = update(AlertDelivery).where(AlertDelivery.id == id_, AlertDelivery.attempts == attempts) \
            .execution_options(synchronize_session=False)
        if error is None:
            session.execute(mine.values(delivered_at=now, last_error=None))
            session.commit()
            sent += 1
            continue
        failed += 1
        if attempts >= MAX_ATTEMPTS:
            session.execute(mine.values(gave_up_at=now, last_error=error[:400]))
            log.error("abandon alert webhook %s: giving up after %d attempts: %s", _receiver(url), attempts,
                      _scrubbed(error, url))
        else:
            retry = now + timedelta(seconds=min(3600, BACKOFF_S * 2 ** (attempts - 1)))
            session.execute(mine.values(next_try_at=retry, last_error=error[:400]))
            log.warning("abandon alert webhook %s failed (attempt %d, next at %s): %s", _receiver(url), attempts,
                        retry.isoformat(), _scrubbed(error, url))
        session.commit()
    return {"sent": sent, "failed": failed}
