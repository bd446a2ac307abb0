"""What a campaign's own history says about who answers, when, and for how long: the planner's inputs.

Every figure carries its sample size, because a manager must see that "35 % live at 8 pm" rests on 40 dials.
The distributions are fitted in the simulator's own families (shares, a gamma ring time after a post-dial delay,
lognormal mixtures for talk and wrap) so a plan runs the real dial loop on what this floor really does.
Rows are streamed and duration samples kept in a bounded reservoir: memory stays flat on a long history.
"""

from __future__ import annotations

import math
import random
from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from campaigns.campaign.models import Campaign, Disposition
from campaigns.dispatch.models import Call
from campaigns.leads.models import Lead, LeadList
from dnc.errors import UserError

SAMPLE_CAP = 50_000  # durations kept per distribution: a fit needs thousands, never millions
OUTCOME_SHARES = ("live", "machine", "no_answer", "busy", "failed")
CALLABLE = ("new", "retry", "callback")
MIN_ATTEMPT_LIVES = 200  # an attempt's own live share is used with at least this many live answers behind it (±7 %)
RAKE_ROUNDS = 50  # alternating fits of the hour × attempt model (converged to 1e-6 within ~10 on histories seen)


@dataclass(frozen=True)
class Fit:
    """A lognormal mixture fitted to durations: the simulator's family for talk and wrap times."""

    components: tuple[tuple[float, float, float], ...]  # (weight, median_s, sigma)
    mean_s: float
    samples: int


@dataclass
class Inputs:
    """A campaign's measured behaviour over ``days`` days before ``until``; counts say what each rests on."""

    campaign: str
    timezone: str
    since: datetime
    until: datetime
    dials: int = 0
    shares: dict[str, float] = field(default_factory=dict)  # of dials: live, machine, no_answer, busy, failed
    by_hour: dict[int, dict] = field(default_factory=dict)  # local hour -> {"dials": n, "live": share, ...}
    ring_s: dict = field(default_factory=dict)  # answer delay of live answers: pdd, mean, shape, samples
    talk: Fit | None = None
    wrap: Fit | None = None
    dispositions: dict[str, float] = field(default_factory=dict)  # close / dnc / callback / other of contacts
    contacts: int = 0
    retry_decay: float | None = None  # live share (numbers in service) of attempt k ÷ k-1, fitted over attempts
    live_by_attempt: dict[int, dict] = field(default_factory=dict)  # attempt -> dials, live, failed, alive_live
    live_first: float | None = None  # a first attempt's live share among numbers in service (all hours)
    # attempt -> its own live share among numbers in service at the history's average hour, for attempts with
    # MIN_ATTEMPT_LIVES live answers (later attempts: the last of these × the retry decay per attempt)
    live_on_attempt: dict[int, float] = field(default_factory=dict)
    dead_first: float | None = None  # share of first attempts that failed: numbers out of service
    refail: float | None = None  # share of dials after a failed attempt that failed again
    fail_later: float | None = None  # share of dials after an attempt that did not fail that failed
    callable_leads: int = 0
    callable_by_state: dict[str, int] = field(default_factory=dict)
    callable_by_zone: dict[str, int] = field(default_factory=dict)
    callable_by_attempts: dict[int, int] = field(default_factory=dict)  # attempts already made -> leads

    def attempt_factors(self) -> tuple[float, ...]:
        """Each measured attempt's live share ÷ ``live_first``, attempts 1, 2, … up to the last one measured
        without a gap (what the plan's customers multiply a first attempt's share by); empty: the decay alone."""
        out: list[float] = []
        for k in range(1, len(self.live_on_attempt) + 1):
            share = self.live_on_attempt.get(k)
            if share is None or not self.live_first:
                break
            out.append(round(share / self.live_first, 5))
        return tuple(out)

    def as_dict(self) -> dict:
        d = asdict(self)
        d["since"], d["until"] = self.since.isoformat(), self.until.isoformat()
        return d


class _Reservoir:
    def __init__(self, rng: random.Random) -> None:
        self.rng, self.seen, self.values = rng, 0, []

    def add(self, x: float) -> None:
        self.seen += 1
        if len(self.values) < SAMPLE_CAP:
            self.values.append(x)
        else:
            j = self.rng.randrange(self.seen)
            if j < SAMPLE_CAP:
                self.values[j] = x


def measure(session: Session, campaign_name: str, now: datetime, days: int = 14) -> Inputs:
    """Measure ``campaign_name`` over the ``days`` days before ``now``."""
    campaign = session.scalar(select(Campaign).where(Campaign.name == campaign_name))
    if campaign is None:
        raise UserError(f"no campaign named {campaign_name!r}")
    if not 1 <= days <= 366:
        raise UserError("days of history must be between 1 and 366")
    since = now - timedelta(days=days)
    zone = ZoneInfo(campaign.timezone)
    out = Inputs(campaign.name, campaign.timezone, since, now)
    kinds = _disposition_kinds(session, campaign.id)
    rng = random.Random(campaign.id)
    ring, talk, wrap = _Reservoir(rng), _Reservoir(rng), _Reservoir(rng)
    totals: Counter = Counter()
    hours: dict[int, Counter] = {}
    attempts: dict[int, Counter] = {}
    hour_attempts: dict[tuple[int, int], Counter] = {}
    after: dict[bool, Counter] = {True: Counter(), False: Counter()}  # by "the lead's previous attempt failed"
    last: dict[int, str] = {}  # each lead's last outcome in the window (memory: one entry per lead dialed)
    disp: Counter = Counter()
    rows = session.execute(
        select(Call.placed_at, Call.answered_at, Call.connected_at, Call.ended_at, Call.dispositioned_at,
               Call.outcome, Call.attempt, Call.disposition_code, Call.lead_id)
        .where(Call.campaign_id == campaign.id, Call.placed_at >= since, Call.placed_at < now,
               Call.ended_at.is_not(None))
        .order_by(Call.placed_at, Call.id)
        .execution_options(yield_per=5000))
    for placed, answered, connected, ended, dispositioned, outcome, attempt, code, lead in rows:
        kind = _outcome_kind(outcome)
        totals[kind] += 1
        hour, k = placed.astimezone(zone).hour, min(int(attempt or 1), 10)
        hours.setdefault(hour, Counter())[kind] += 1
        attempts.setdefault(k, Counter())[kind] += 1
        hour_attempts.setdefault((hour, k), Counter())[kind] += 1
        previous = last.get(lead)
        if previous is not None and k > 1:
            after[previous == "failed"][kind] += 1
        last[lead] = kind
        if kind == "live" and answered is not None:
            ring.add((answered - placed).total_seconds())
        if connected is not None:
            talk.add(max(1.0, (ended - connected).total_seconds()))
            if dispositioned is not None:
                wrap.add(max(0.0, (dispositioned - ended).total_seconds()))
            disp[kinds.get(code or "", "other")] += 1
    out.dials = sum(totals.values())
    if out.dials:
        out.shares = {k: round(totals[k] / out.dials, 5) for k in OUTCOME_SHARES}
    out.by_hour = {h: {"dials": sum(c.values()), **{k: round(c[k] / sum(c.values()), 5) for k in OUTCOME_SHARES}}
                   for h, c in sorted(hours.items())}
    out.live_by_attempt = {a: {"dials": sum(c.values()), "live": round(c["live"] / sum(c.values()), 5),
                               "failed": round(c["failed"] / sum(c.values()), 5),
                               "alive_live": round(c["live"] / max(1, sum(c.values()) - c["failed"]), 5)}
                           for a, c in sorted(attempts.items())}
    out.retry_decay = _retry_decay(out.live_by_attempt)
    _answer_model(out, attempts, hour_attempts, after)
    out.ring_s = _ring(ring.values)
    out.talk, out.wrap = fit_lognormal_mixture(talk.values), fit_lognormal_mixture(wrap.values, components=1)
    out.contacts = sum(disp.values())
    if out.contacts:
        out.dispositions = {k: round(v / out.contacts, 5) for k, v in sorted(disp.items())}
    _callable(session, campaign.id, out)
    return out


def _outcome_kind(outcome: str | None) -> str:
    if outcome in ("completed", "abandoned"):
        return "live"
    return outcome if outcome in ("machine", "no_answer", "busy") else "failed"


def _disposition_kinds(session: Session, campaign_id: int) -> dict[str, str]:
    """Each disposition code as the simulator knows it: close, dnc, callback or other."""
    kinds = {}
    for d in session.scalars(select(Disposition).where(Disposition.campaign_id == campaign_id)):
        kinds[d.code] = ("close" if d.is_close else "dnc" if d.is_dnc else "callback" if d.is_callback
                         else "other")
    return kinds


def _retry_decay(by_attempt: dict[int, dict]) -> float | None:
    """The geometric decay over attempts of the live share among numbers in service, weighted by dials (None with
    too little data). Dead numbers are left out: they fill first attempts (and the one retry a failure gets)
    but not later ones, so the raw share would mistake them for a decay."""
    first = by_attempt.get(1)
    if not first or first["alive_live"] <= 0 or first["dials"] < 100:
        return None
    num = den = 0.0
    for a, row in by_attempt.items():
        if a > 1 and row["dials"] >= 30 and row["alive_live"] > 0:
            w = row["dials"]
            num += w * math.log(row["alive_live"] / first["alive_live"]) / (a - 1)
            den += w
    return round(min(1.0, math.exp(num / den)), 4) if den else None


def _answer_model(out: Inputs, attempts: dict[int, Counter], hour_attempts: dict[tuple[int, int], Counter],
                  after: dict[bool, Counter]) -> None:
    """The simulator's answer model from the history: live share of a first attempt among numbers in service,
    dead numbers, and a live share for each hour and each attempt, each standardised for the other.

    An hour's raw live share mixes the hour with who is dialed in it (the morning works yesterday's retries, which
    answer less, and the fresh leads' dead numbers), and an attempt's mixes the attempt with the hours it is made
    in. So live answers are fitted as numbers in service × an attempt's share × an hour's factor, by alternating
    the two (the Poisson fit of that product). Each attempt keeps its own share where enough answers measure it:
    a geometric decay anchored on the first attempt carried that attempt's luck to every later one (a first
    attempt 3 % lucky and a second 3 % unlucky made a decay of 0.76 where the truth's was 0.8, and a fourth
    attempt, never seen in five days, 11 % worse than it is).
    """
    decay = out.retry_decay if out.retry_decay is not None else 0.8
    alive = {k: sum(c.values()) - c["failed"] for k, c in attempts.items()}
    weight = sum(n * decay ** (k - 1) for k, n in alive.items())
    lives = sum(c["live"] for c in attempts.values())
    out.live_first = round(min(0.98, lives / weight), 5) if weight > 0 else None
    first = attempts.get(1)
    if first and sum(first.values()) >= 100:
        out.dead_first = round(first["failed"] / sum(first.values()), 5)
    for failed_before, name in ((True, "refail"), (False, "fail_later")):
        c = after[failed_before]
        if sum(c.values()) >= 30:
            setattr(out, name, round(c["failed"] / sum(c.values()), 5))
    share, factor = _rake(hour_attempts)
    for hour, row in out.by_hour.items():
        row["factor"] = round(factor.get(hour, 1.0), 4)
    out.live_on_attempt = {k: round(min(0.98, share[k]), 5) for k, c in sorted(attempts.items())
                           if c["live"] >= MIN_ATTEMPT_LIVES and k in share}


def _rake(cells: dict[tuple[int, int], Counter]) -> tuple[dict[int, float], dict[int, float]]:
    """Live answers per (hour, attempt) fitted as numbers in service × the attempt's share × the hour's factor:
    the shares and factors that reproduce every hour's and every attempt's live answers (alternating fits, the
    maximum likelihood of that product under Poisson counts). Factors average 1 over the history's own mix, so a
    share is an attempt's at the history's average hour."""
    alive = {hk: sum(c.values()) - c["failed"] for hk, c in cells.items()}
    live = {hk: c["live"] for hk, c in cells.items()}
    hours = sorted({h for h, _ in cells})
    tries = sorted({k for _, k in cells})
    hour_live = {h: sum(v for (g, _), v in live.items() if g == h) for h in hours}
    try_live = {k: sum(v for (_, j), v in live.items() if j == k) for k in tries}
    factor = dict.fromkeys(hours, 1.0)
    share: dict[int, float] = {}
    for _ in range(RAKE_ROUNDS):
        share = {k: try_live[k] / den if (den := sum(alive.get((h, k), 0) * factor[h] for h in hours)) > 0
                 else 0.0 for k in tries}
        factor = {h: hour_live[h] / den if (den := sum(alive.get((h, k), 0) * share[k] for k in tries)) > 0
                  else 1.0 for h in hours}
    expected = {h: sum(alive.get((h, k), 0) * share.get(k, 0.0) for k in tries) for h in hours}
    total = sum(expected.values())
    mean = sum(expected[h] * factor[h] for h in hours) / total if total > 0 else 1.0
    if mean > 0:
        factor = {h: f / mean for h, f in factor.items()}
        share = {k: v * mean for k, v in share.items()}
    return share, factor


def _ring(values: list[float]) -> dict:
    """Post-dial delay (the fastest answers) plus a gamma fitted by its moments to the rest."""
    if len(values) < 20:
        return {"samples": len(values)}
    x = np.asarray(values)
    pdd = float(np.quantile(x, 0.02))
    rest = np.clip(x - pdd, 0.05, None)
    mean, var = float(rest.mean()), float(rest.var())
    shape = mean * mean / var if var > 0 else 10.0
    return {"pdd_s": round(pdd, 2), "mean_s": round(mean, 2), "shape": round(min(max(shape, 0.5), 20.0), 3),
            "samples": len(values)}


def fit_lognormal_mixture(values: list[float], components: int = 2, iterations: int = 60) -> Fit | None:
    """EM on the logarithms (a Gaussian mixture): talk times mix quick refusals with real conversations."""
    if len(values) < 20:
        return None
    y = np.log(np.clip(np.asarray(values, dtype=float), 0.5, None))
    k = components if len(values) >= 200 else 1
    qs = np.quantile(y, np.linspace(0.25, 0.75, k)) if k > 1 else np.array([y.mean()])
    mu, sd, w = qs.astype(float), np.full(k, max(y.std(), 0.05)), np.full(k, 1.0 / k)
    for _ in range(iterations):
        dens = w * np.exp(-0.5 * ((y[:, None] - mu) / sd) ** 2) / sd
        resp = dens / np.clip(dens.sum(axis=1, keepdims=True), 1e-300, None)
        nk = resp.sum(axis=0) + 1e-9
        w, mu = nk / len(y), (resp * y[:, None]).sum(axis=0) / nk
        sd = np.sqrt(np.clip((resp * (y[:, None] - mu) ** 2).sum(axis=0) / nk, 0.0025, None))
    keep = w > 0.01
    comps = tuple((round(float(a), 4), round(float(math.exp(m)), 2), round(float(s), 4))
                  for a, m, s in zip(w[keep] / w[keep].sum(), mu[keep], sd[keep], strict=True))
    mean = sum(a * med * math.exp(s * s / 2) for a, med, s in comps)
    return Fit(comps, round(mean, 2), len(values))


def _callable(session: Session, campaign_id: int, out: Inputs) -> None:
    """Leads a dial could still pick, by state and by first time zone (where the calling windows differ); a disabled
    list's leads are not dialed, so they are not counted."""
    off = select(LeadList.id).where(LeadList.campaign_id == campaign_id, LeadList.active.is_(False))
    mine = [Lead.campaign_id == campaign_id, Lead.status.in_(CALLABLE), Lead.list_id.not_in(off)]
    out.callable_leads = int(session.scalar(select(func.count()).select_from(Lead).where(*mine)) or 0)
    rows = session.execute(select(Lead.state, Lead.timezones, func.count()).where(*mine)
                           .group_by(Lead.state, Lead.timezones))
    states: Counter = Counter()
    zones: Counter = Counter()
    for state, tz, n in rows:
        states[state or "unknown"] += n
        zones[(tz or "").split(",")[0].strip() or "unknown"] += n
    out.callable_by_state = dict(states.most_common())
    out.callable_by_zone = dict(zones.most_common())
    out.callable_by_attempts = {int(a or 0): int(n) for a, n in session.execute(
        select(Lead.attempts, func.count()).where(*mine).group_by(Lead.attempts).order_by(Lead.attempts))}
