"""``explain()["sentence"]``: one plain sentence a floor manager can read at a glance.

It says what the pacer is doing now and the one thing holding it back, in the floor's words (agents, calls, the
30-day abandon budget), never the model's (α, posteriors). The pacer records the binding limit in its explanation
as ``held_by``; this module only words it.
"""

from __future__ import annotations

from typing import Any


def _calls(n: int) -> str:
    return f"{n} call{'' if n == 1 else 's'}"


def _agents(n: int) -> str:
    return f"{n} agent{'' if n == 1 else 's'}"


def _pct(x: float) -> str:
    return f"{100 * x:.1f} %"


def _target(x: float) -> str:
    """As the manager set it and the console shows it: 3 %, 2.5 %."""
    return f"{round(100 * x, 2):g} %"


HELD_BY: dict[str, str] = {
    "risk": "held back by the risk that a person who answers finds no agent free ({risk} for one more call)",
    "budget": "held back because the 30-day abandon budget is thin ({left} abandons left at {rate} of {target})",
    "budget-spent": "the 30-day abandon budget is spent ({rate} of {target}), so it dials one call per ready agent",
    "budget-thin": "the 30-day abandon budget is too thin to risk any ({left} abandons left on {lives} live answers), "
                   "so it dials one call per ready agent",
    "cap": "held at the safety cap on calls per agent",
    "cold": "it dials one call per ready agent until it has seen enough finished calls to predict",
    "warming": "it dials ahead for the ready agents only until it has seen enough finished calls to predict when "
               "busy ones come free",
    "small": "with so few agents it dials one call per ready agent",
    "ready": "one call for each ready agent not already covered by a ringing call",
    "setting": "limited by the campaign's setting ({setting})",
    "nobody": "no agent is logged in and unpaused",
    "preview": "agents place their own calls in preview mode",
}


def sentence(d: dict[str, Any], target: float) -> str:
    """The floor manager's sentence for an ``explain()`` dict (``held_by`` names the binding limit)."""
    n = int(d.get("n", 0))
    held = d.get("held_by") or "ready"
    ready = d.get("agents_ready", 0)
    ringing = d.get("calls_in_flight", 0)
    doing = f"Placing {_calls(n)} now" if n else "Placing no new calls now"
    if held in ("nobody", "preview"):
        return f"Not dialing: {HELD_BY[held]}."
    if d.get("agents_expected_free") is not None and held not in ("cold", "warming", "small", "budget-spent",
                                                                  "budget-thin"):
        soon = max(0.0, float(d["agents_expected_free"]) - ready)
        doing += f" for {_agents(ready)} ready and about {soon:.0f} more expected free in the next seconds"
    else:
        doing += f" ({_agents(ready)} ready, {_calls(ringing)} ringing)"
    setting = ""
    if "k" in d:
        setting = f"{d['k']:g} lines per ready agent"
    elif "dial_level" in d:
        setting = f"dial level {d['dial_level']:g}"
    why = HELD_BY.get(held, held).format(
        risk=_pct(float(d.get("marginal_risk_now", 0.0))), left=f"{max(0.0, d.get('abandon_budget_left', 0.0)):.1f}",
        rate=_pct(float(d.get("abandon_rate_30d", 0.0))), lives=d.get("live_answers_30d", 0), target=_target(target),
        ready=ready, ringing=ringing, setting=setting or "its pacing mode")
    return f"{doing}; {why}."
