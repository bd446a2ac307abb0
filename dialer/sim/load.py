"""Read a scenario file (TOML) and check every field, naming the file, section and field of each mistake.

A typo must never silently fall back to a default (``lve = 0.3`` would run the base mix), so unknown keys are
errors too. Every error is one ``UserError`` line: ``FILE: [section] field: what is wrong``.
"""

from __future__ import annotations

import math
import tomllib
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from campaigns.campaign.models import PACING_MODES
from campaigns.campaign.service import DEFAULT_DISPOSITIONS
from dialer.sim.scenario import (
    Agents,
    Amd,
    Answer,
    Answering,
    CampaignRules,
    Lognormal,
    Mixture,
    Outcomes,
    Run,
    Scenario,
    Shift,
    Step,
)
from dnc.errors import UserError

SHIPPED_SCENARIOS = Path(__file__).resolve().with_name("scenarios")  # base.toml: the floor `dialer run` simulates

DISPOSITION_CODES = tuple(d[0] for d in DEFAULT_DISPOSITIONS)
MACHINE_ACTIONS = ("hangup", "voicemail")
_MISSING = object()


class Section:
    """One TOML table being read: typed getters that record which keys were used."""

    def __init__(self, src: str, name: str, table: object) -> None:
        self.src, self.name = src, name
        if not isinstance(table, dict):
            raise UserError(f"{src}: {self.where}must be a table (a [section] or {{...}}), got {table!r}")
        self.table = table
        self.used: set[str] = set()

    @property
    def where(self) -> str:
        return f"[{self.name}] " if self.name else ""

    def fail(self, key: str, msg: str) -> UserError:
        return UserError(f"{self.src}: {self.where}{key}: {msg}")

    def _get(self, key: str):
        self.used.add(key)
        return self.table.get(key, _MISSING)

    def number(self, key: str, default: float, lo: float | None = None, hi: float | None = None,
               lo_open: bool = False) -> float:
        v = self._get(key)
        if v is _MISSING:
            return default
        if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v):
            raise self.fail(key, f"must be a number, got {v!r}")
        if lo is not None and (v < lo or (lo_open and v == lo)):
            raise self.fail(key, f"must be {'above' if lo_open else 'at least'} {lo}, got {v}")
        if hi is not None and v > hi:
            raise self.fail(key, f"must be at most {hi}, got {v}")
        return float(v)

    def opt_number(self, key: str, lo: float | None = None, hi: float | None = None,
                   lo_open: bool = False) -> float | None:
        if self.table.get(key, _MISSING) is _MISSING:
            self.used.add(key)
            return None
        return self.number(key, 0.0, lo, hi, lo_open)

    def integer(self, key: str, default: int | None, lo: int | None = None, hi: int | None = None) -> int | None:
        v = self._get(key)
        if v is _MISSING:
            return default
        if isinstance(v, bool) or not isinstance(v, int):
            raise self.fail(key, f"must be a whole number, got {v!r}")
        if lo is not None and v < lo:
            raise self.fail(key, f"must be at least {lo}, got {v}")
        if hi is not None and v > hi:
            raise self.fail(key, f"must be at most {hi}, got {v}")
        return v

    def text(self, key: str, default: str, choices: tuple[str, ...] = ()) -> str:
        v = self._get(key)
        if v is _MISSING:
            return default
        if not isinstance(v, str):
            raise self.fail(key, f"must be a string, got {v!r}")
        if choices and v not in choices:
            raise self.fail(key, f"must be one of {', '.join(choices)}, got {v!r}")
        return v

    def flag(self, key: str, default: bool) -> bool:
        v = self._get(key)
        if v is _MISSING:
            return default
        if not isinstance(v, bool):
            raise self.fail(key, f"must be true or false, got {v!r}")
        return v

    def sub(self, key: str) -> Section:
        v = self._get(key)
        return Section(self.src, f"{self.name}.{key}" if self.name else key, {} if v is _MISSING else v)

    def items(self, key: str) -> list:
        v = self._get(key)
        if v is _MISSING:
            return []
        if not isinstance(v, list):
            raise self.fail(key, f"must be a list, got {v!r}")
        return v

    def raw(self, key: str):
        v = self._get(key)
        return None if v is _MISSING else v

    def done(self) -> None:
        unknown = sorted(set(self.table) - self.used)
        if unknown:
            raise UserError(f"{self.src}: {self.where}unknown field{'s' if len(unknown) > 1 else ''} "
                            f"{', '.join(unknown)} (known: {', '.join(sorted(self.used))})")


def load_scenario(path: str | Path) -> Scenario:
    """Read and check a scenario file; every mistake is a ``UserError`` naming the file, section and field."""
    path = Path(path)
    src = str(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UserError(f"{src}: no such scenario file") from None
    except (OSError, UnicodeDecodeError) as e:
        raise UserError(f"{src}: cannot read: {e}") from None
    except tomllib.TOMLDecodeError as e:
        raise UserError(f"{src}: not valid TOML: {e}") from None
    return parse_scenario(data, src)


def parse_scenario(data: dict, src: str = "<scenario>") -> Scenario:
    top = Section(src, "", data)
    name = top.text("name", Path(src).stem)
    description = top.text("description", "")
    seed = top.integer("seed", 1, 0, 2**63 - 1)
    run = _run(top.sub("run"))
    outcomes = _outcomes(top.sub("outcomes"))
    answer = _answer(top.sub("answer"))
    talk = _mixture(top.sub("talk"), Scenario().talk)
    amd = _amd(top.sub("amd"))
    answering = _answering(top, src)
    agents = _agents(top.sub("agents"))
    campaign = _campaign(top.sub("campaign"))
    lst = top.sub("list")
    list_size = lst.integer("size", None, 1, 50_000_000)
    answering = Answering(answering.curve, answering.steps, answering.daily_drift,
                          lst.number("retry_decay", answering.retry_decay, 0.0, 1.0))
    lst.done()
    dispositions, callback_after_h = _dispositions(top.sub("dispositions"))
    pacer_sec = top.sub("pacer")
    pacer = pacer_sec.text("name", "predictive")
    settings = pacer_sec.raw("settings") or {}
    if not isinstance(settings, dict) or not all(isinstance(v, str | int | float) for v in settings.values()):
        raise pacer_sec.fail("settings", "must be a table of plain numbers and strings, e.g. { k = 2.0 }")
    pacer_sec.done()
    top.done()
    for s in answering.steps:
        if s.day > run.days:
            raise UserError(f"{src}: [[steps]] day: {s.day} is after the last day of the run ({run.days})")
    return Scenario(name=name, description=description, seed=seed, run=run, outcomes=outcomes, answer=answer,
                    talk=talk, amd=amd, answering=answering, agents=agents, campaign=campaign, list_size=list_size,
                    dispositions=dispositions, callback_after_h=callback_after_h, pacer=pacer,
                    pacer_settings=dict(settings), source=src)


def _run(s: Section) -> Run:
    d = Run()
    start_raw = s.raw("start")
    start = d.start
    if start_raw is not None:
        if isinstance(start_raw, datetime):
            start = start_raw
        elif isinstance(start_raw, str):
            try:
                start = datetime.fromisoformat(start_raw)
            except ValueError:
                raise s.fail("start", f"must be a local date and time like 2030-01-07T09:00, got {start_raw!r}") \
                    from None
        else:
            raise s.fail("start", f"must be a local date and time like 2030-01-07T09:00, got {start_raw!r}")
        if start.tzinfo is not None:
            raise s.fail("start", "give the local wall time without an offset; the zone is [run] timezone")
    tz = s.text("timezone", d.timezone)
    try:
        ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        raise s.fail("timezone", f"{tz!r} is not an IANA zone such as America/New_York") from None
    run = Run(days=s.integer("days", d.days, 1, 366), hours_per_day=s.number("hours_per_day", d.hours_per_day, 0, 24,
                                                                          lo_open=True),
              start=start, timezone=tz, tick_s=s.number("tick_s", d.tick_s, 0.05, 5.0),
              explain_every_s=s.number("explain_every_s", d.explain_every_s, 1.0, 86400.0))
    s.done()
    return run


def _outcomes(s: Section) -> Outcomes:
    d = Outcomes()
    given = {k for k in ("live", "machine", "no_answer", "busy", "sit") if k in s.table}
    o = Outcomes(*(s.number(k, getattr(d, k), 0.0, 1.0) for k in ("live", "machine", "no_answer", "busy", "sit")))
    s.done()
    total = o.live + o.machine + o.no_answer + o.busy + o.sit
    if abs(total - 1.0) > 1e-6:
        hint = "" if len(given) == 5 else f" (fields not given keep their defaults: {_defaults_of(given)})"
        raise UserError(f"{s.src}: [outcomes]: live + machine + no_answer + busy + sit must add up to 1, "
                        f"got {total:.4g}{hint}")
    if o.sit >= 1.0:
        raise UserError(f"{s.src}: [outcomes] sit: every number would be dead")
    return o


def _defaults_of(given: set[str]) -> str:
    d = Outcomes()
    return ", ".join(f"{k} = {getattr(d, k)}" for k in ("live", "machine", "no_answer", "busy", "sit")
                     if k not in given)


def _span(s: Section, key: str, default: tuple[float, float]) -> tuple[float, float]:
    v = s.raw(key)
    if v is None:
        return default
    if (not isinstance(v, list) or len(v) != 2 or
            not all(isinstance(x, int | float) and not isinstance(x, bool) for x in v) or not 0 <= v[0] <= v[1]):
        raise s.fail(key, f"must be [low, high] seconds with 0 <= low <= high, got {v!r}")
    return float(v[0]), float(v[1])


def _answer(s: Section) -> Answer:
    d = Answer()
    a = Answer(pdd_s=s.number("pdd_s", d.pdd_s, 0, 30), human_mean_s=s.number("human_mean_s", d.human_mean_s, 0, 120,
                                                                             lo_open=True),
               human_shape=s.number("human_shape", d.human_shape, 0, 100, lo_open=True),
               machine_mean_s=s.number("machine_mean_s", d.machine_mean_s, 0, 120, lo_open=True),
               machine_shape=s.number("machine_shape", d.machine_shape, 0, 100, lo_open=True),
               busy_s=_span(s, "busy_s", d.busy_s), sit_s=_span(s, "sit_s", d.sit_s),
               ring_timeout_s=s.integer("ring_timeout_s", d.ring_timeout_s, 20, 120),
               patience_s=s.number("patience_s", d.patience_s, 2, 600),
               safe_harbor_s=s.number("safe_harbor_s", d.safe_harbor_s, 1, 120),
               voicemail_s=s.number("voicemail_s", d.voicemail_s, 1, 300))
    s.done()
    return a


def _mixture(s: Section, default: Mixture) -> Mixture:
    raw = s.items("components")
    s.done()
    if not raw:
        return default
    comps = []
    for i, item in enumerate(raw):
        c = Section(s.src, f"{s.name}.components[{i}]", item)
        if "median_s" not in item:
            raise c.fail("median_s", "is required (the component's median in seconds)")
        comps.append(Lognormal(c.number("weight", 1.0, 0, None, lo_open=True),
                               c.number("median_s", 0, 0, 86400, lo_open=True), c.number("sigma", 0.5, 0, 5)))
        c.done()
    return Mixture(tuple(comps))


def _amd(s: Section) -> Amd:
    d = Amd()
    a = Amd(enabled=s.flag("enabled", d.enabled), delay_s=s.number("delay_s", d.delay_s, 0, 30),
            delay_sigma=s.number("delay_sigma", d.delay_sigma, 0, 3),
            human_as_machine=s.number("human_as_machine", d.human_as_machine, 0, 1),
            machine_as_human=s.number("machine_as_human", d.machine_as_human, 0, 1),
            agent_machine_s=s.number("agent_machine_s", d.agent_machine_s, 0.5, 120))
    s.done()
    return a


def _answering(top: Section, src: str) -> Answering:
    curve_sec = top.sub("curve")
    curve = []
    for key in list(curve_sec.table):
        try:
            hour = float(key)
        except ValueError:
            raise curve_sec.fail(key, "keys are local hours 0-23 (e.g. \"17\" = 1.3)") from None
        if not 0 <= hour < 24:
            raise curve_sec.fail(key, "hour must be 0-23")
        curve.append((hour, curve_sec.number(key, 1.0, 0, 10)))
    curve_sec.done()
    steps = []
    for i, item in enumerate(top.items("steps")):
        s = Section(src, f"steps[{i}]", item)
        day = s.integer("day", 1, 1, 366)
        hour = s.number("hour", 0.0, 0, 24)
        if "live" not in item:
            raise s.fail("live", "is required (the new live share)")
        steps.append(Step(day, hour, s.number("live", 0.0, 0, 1)))
        s.done()
    drift = top.sub("drift")
    d = drift.number("daily", 0.0, 0, 0.9)
    drift.done()
    return Answering(tuple(sorted(curve)), tuple(sorted(steps, key=lambda x: (x.day, x.hour))), d)


def _agents(s: Section) -> Agents:
    d = Agents()
    count = s.integer("count", d.count, 0, 100_000)
    schedule = []
    for i, item in enumerate(s.items("schedule")):
        c = Section(s.src, f"agents.schedule[{i}]", item)
        schedule.append(Shift(c.number("hour", 0.0, 0, 24), c.integer("count", 0, 0, 100_000)))
        c.done()
    wrap = _mixture(s.sub("wrap"), d.wrap)
    a = Agents(count=count, schedule=tuple(sorted(schedule, key=lambda x: x.hour)), wrap=wrap,
               break_every_h=s.number("break_every_h", d.break_every_h, 0, 24),
               break_min=s.number("break_min", d.break_min, 0, 240),
               lunch_at_h=s.number("lunch_at_h", d.lunch_at_h, 0, 24),
               lunch_min=s.number("lunch_min", d.lunch_min, 0, 240),
               stagger_min=s.number("stagger_min", d.stagger_min, 0, 120),
               logouts_per_hour=s.number("logouts_per_hour", d.logouts_per_hour, 0, 60),
               relogin_s=s.number("relogin_s", d.relogin_s, 0, 86400),
               breaks_said_ahead=s.flag("breaks_said_ahead", d.breaks_said_ahead))
    s.done()
    if a.max_count == 0:
        raise UserError(f"{s.src}: [agents] count: a floor with no agent never dials")
    return a


def _campaign(s: Section) -> CampaignRules:
    d = CampaignRules()
    c = CampaignRules(
        pacing_mode=s.text("pacing_mode", d.pacing_mode, PACING_MODES),
        abandon_target=s.number("abandon_target", d.abandon_target, 0, 0.03, lo_open=True),
        max_attempts=s.integer("max_attempts", d.max_attempts, 1, 100),
        retry_no_answer_s=s.integer("retry_no_answer_s", d.retry_no_answer_s, 0, 90 * 86400),
        retry_busy_s=s.integer("retry_busy_s", d.retry_busy_s, 0, 90 * 86400),
        retry_machine_s=s.integer("retry_machine_s", d.retry_machine_s, 0, 90 * 86400),
        max_lines=s.integer("max_lines", None, 1, 1_000_000),
        lines_per_agent=s.opt_number("lines_per_agent", 0, 100, lo_open=True),
        cps=s.opt_number("cps", 0, 10_000, lo_open=True),
        machine_action=s.text("machine_action", d.machine_action, MACHINE_ACTIONS))
    s.done()
    return c


def _dispositions(s: Section) -> tuple[tuple[tuple[str, float], ...], float]:
    callback_after_h = s.number("callback_after_h", 24.0, 0, 24 * 90, lo_open=True)
    codes = [k for k in s.table if k != "callback_after_h"]
    if not codes:
        s.done()
        return Scenario().dispositions, callback_after_h
    out = []
    for code in codes:
        if code not in DISPOSITION_CODES:
            raise s.fail(code, f"is not a disposition code; known: {', '.join(DISPOSITION_CODES)}")
        out.append((code, s.number(code, 0.0, 0, 1)))
    s.done()
    total = sum(w for _, w in out)
    if abs(total - 1.0) > 1e-6:
        raise UserError(f"{s.src}: [dispositions]: the shares must add up to 1, got {total:.4g}")
    return tuple(out), callback_after_h
