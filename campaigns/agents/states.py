"""The agent state machine: which state changes are legal, and who may make them.

Pure rules shared by every store (SQL for the product, in-memory for the simulator), so an agent behaves the
same in the benchmark as on the floor. States: ``ready`` (waiting for a call), ``talking`` (on a call),
``wrap`` (after-call work), ``paused`` (with a reason code such as ``break``), ``offline`` (logged out).

Two actors change states. The *agent* (through the console) logs in and out, pauses, goes ready, and may end a
call; the *loop* alone puts an agent on a call (``ready -> talking``), into wrap when the call ends, and back to
``ready`` when answering-machine detection takes a connected call away (no wrap after a machine).
"""

from __future__ import annotations

import re

from campaigns.agents.models import AGENT_STATES
from dnc.errors import UserError

AGENT_MOVES: dict[str, frozenset[str]] = {
    "offline": frozenset({"ready", "paused"}),
    "ready": frozenset({"paused", "offline"}),
    "paused": frozenset({"ready", "paused", "offline"}),  # paused -> paused changes the reason code
    "talking": frozenset({"wrap", "offline"}),  # end the call / log out mid-call (the call is hung up)
    "wrap": frozenset({"ready", "paused", "offline"}),
}
LOOP_MOVES: dict[str, frozenset[str]] = {
    "ready": frozenset({"talking"}),
    "talking": frozenset({"wrap", "ready"}),  # ready: detection said machine after the connect
}
REASON_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
DEFAULT_PAUSE_REASONS = ("break", "lunch", "training", "meeting", "coaching", "technical", "other")
# how every page names a state's reason code (the codes stay in the data: reports group by them)
REASON_WORDS = {"break": "break", "lunch": "lunch", "training": "training", "meeting": "meeting",
                "coaching": "coaching", "technical": "technical problem", "other": "other",
                "wrap-limit": "wrap-up limit reached", "line-down": "phone line down",
                "floor": "taken off the floor", "team": "taken off the team", "unattended": "page left"}


def reason_words(code: str | None) -> str:
    """A reason code in words (an unknown code, e.g. one a script set, with its dashes as spaces)."""
    return "" if not code else REASON_WORDS.get(code, code.replace("-", " ").replace("_", " "))


def check_reason(reason: str | None) -> str:
    """A pause needs a short reason code (letters, digits, ``_ . -``); reports group pause time by it."""
    if reason is None or not reason.strip():
        raise UserError("a pause needs a reason code, e.g. break, lunch, training")
    reason = reason.strip()
    if not REASON_RE.match(reason):
        raise UserError(f"pause reason {reason!r} must be 1-64 letters, digits, '_', '.' or '-'")
    return reason


def check_move(current: str, target: str, actor: str = "agent") -> bool:
    """Raise ``UserError`` for an illegal change; return False when ``target`` is already the state (a no-op).

    ``actor`` is ``"agent"`` (console) or ``"loop"`` (the dial loop).
    """
    if target not in AGENT_STATES:
        raise UserError(f"agent state {target!r} is not one of {', '.join(AGENT_STATES)}")
    if current == target and target != "paused":
        return False
    moves = (LOOP_MOVES if actor == "loop" else AGENT_MOVES).get(current, frozenset())
    if target not in moves:
        hint = {"talking": " (only the dial loop puts an agent on a call)",
                "wrap": " (wrap follows a call)"}.get(target, "")
        if current == "talking" and target in ("ready", "paused"):
            hint = " (end the call first)"
        raise UserError(f"an agent who is {current} cannot become {target}{hint}")
    return True
