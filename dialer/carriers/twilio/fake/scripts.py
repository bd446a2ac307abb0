"""What the called party does, per number: who answers, how long it rings, what they press, when they hang up."""

from __future__ import annotations

import json
from dataclasses import dataclass, fields
from pathlib import Path

from dnc.errors import UserError

ANSWERS = ("human", "machine", "unknown", "busy", "no-answer", "failed")


@dataclass(frozen=True)
class CallScript:
    """One called party's behaviour; durations in (real) seconds so tests can run calls in milliseconds."""

    answer: str = "human"  # human | machine | unknown | busy | no-answer | failed
    ring_s: float = 0.05  # ringing before answer / busy / no-answer
    amd_s: float = 0.02  # answer -> asynchronous AMD verdict
    talk_s: float = 0.1  # connected to an agent -> the customer hangs up
    patience_s: float = 5.0  # answered but left waiting (nothing redirected the call) -> the customer hangs up
    digits: str = ""  # pressed when a <Gather> plays (e.g. "9" at the safe-harbor message)

    def __post_init__(self) -> None:
        if self.answer not in ANSWERS:
            raise UserError(f"script answer {self.answer!r} is not one of {', '.join(ANSWERS)}")
        for f in ("ring_s", "amd_s", "talk_s", "patience_s"):
            if getattr(self, f) < 0:
                raise UserError(f"script {f} must not be negative")

    @property
    def answered_by(self) -> str:
        return {"machine": "machine_start", "unknown": "unknown"}.get(self.answer, "human")


def load_scripts(path: Path) -> tuple[CallScript, dict[str, CallScript], list[tuple[CallScript, float]]]:
    """Read ``{"default": {...}, "+12125550100": {...}, "mix": [{"weight": 0.3, "answer": "busy"}, ...]}`` into a
    default script, per-number scripts and a weighted mix (numbers without a script of their own draw from it)."""
    try:
        raw = json.loads(path.read_text())
    except OSError as e:
        raise UserError(f"{path}: cannot read script file: {e.strerror}") from None
    except json.JSONDecodeError as e:
        raise UserError(f"{path}: line {e.lineno}, column {e.colno}: {e.msg}") from None
    if not isinstance(raw, dict):
        raise UserError(f"{path}: expected a JSON object of number -> script")
    mix_raw = raw.pop("mix", [])
    if not isinstance(mix_raw, list):
        raise UserError(f"{path}: mix must be a list of scripts with a weight")
    scripts = {number: _script(path, number, spec) for number, spec in raw.items()}
    mix = []
    for i, spec in enumerate(mix_raw):
        if not isinstance(spec, dict) or not isinstance(spec.get("weight"), int | float) or spec["weight"] <= 0:
            raise UserError(f"{path}: mix[{i}] needs a positive number \"weight\"")
        mix.append((_script(path, f"mix[{i}]", {k: v for k, v in spec.items() if k != "weight"}), spec["weight"]))
    return scripts.pop("default", CallScript()), scripts, mix


def _script(path: Path, name: str, spec: object) -> CallScript:
    if not isinstance(spec, dict):
        raise UserError(f"{path}: script for {name!r} must be an object")
    unknown = set(spec) - {f.name for f in fields(CallScript)}
    if unknown:
        raise UserError(f"{path}: script for {name!r} has unknown field(s) {', '.join(sorted(unknown))}")
    try:
        return CallScript(**spec)
    except UserError as e:
        raise UserError(f"{path}: {name}: {e}") from None
    except TypeError as e:
        raise UserError(f"{path}: {name}: {e}") from None
