"""The one check every button of the agent's seat goes through: a call button names the call it was shown with (a
hidden ``call`` field), a state button (Ready, Pause, Log out) the seat as it was shown (``seat``: its state and
call), and the click is refused unless that is still so.

Why: the seat page reloads every ~2 s and the predictive dialer pops the next customer the moment a call is
dispositioned, so a double click, the back button, a second tab or a slow network delivers a click meant for
one customer while the next is on the line. Acted on "whatever call is current", it hung up, held or transferred
him, or put a DNC or a caller-ID flag on his call. A click naming no call comes from a page served before the
call was named (open across an upgrade): it is refused too, asking to reload, since the call it meant is unknown.
A state button shown while ready is as dangerous: a late Log out hung up the customer who had just popped.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from flask import abort, current_app, flash, make_response, request
from flask_login import current_user

from campaigns.agents import service as agents
from campaigns.agents.desk import last_call
from campaigns.agents.models import Agent
from campaigns.dispatch.models import Call
from web.context import db

CHANGED = ("The call has changed since this page was shown: nothing was done on the call you are on now. "
           "Here is the call as it is now.")
UNNAMED = ("This page is out of date (it did not say which call it was for), so nothing was done. "
           "Reload the page and try again.")
SEAT_CHANGED = ("Your seat has changed since this page was shown (a call came in or ended): nothing was done. "
                "Here is your seat as it is now.")


def seat_now(agent_id: int, *, lock: bool = False) -> tuple[Agent, Call | None]:
    """The seat and its call (the current one, else the last one connected), as the check compares them.

    ``lock``: the check reads the seat's row as the action does (``get_agent(lock=True)``: FOR UPDATE, in the
    request's one transaction, committed by the action), so the check and the action are one step: the dial loop's
    connect (a conditional update of that row) waits until the click is done instead of popping a customer in
    between, whom the action would then hang up, hold or flag. Pages only read (no lock)."""
    agent = agents.get_agent(db(), agent_id, lock=True) if lock else db().get(Agent, agent_id)
    return agent, last_call(db(), agent_id)


def as_shown(agent: Agent, call: Call | None) -> str:
    """What a state button carries: the seat's state and call when the page was rendered (``ready:41``)."""
    return f"{agent.state}:{call.id if call is not None else ''}"


def seat_id() -> int:
    if current_user.agent_id is None:
        abort(403, "this user has no agent seat")
    return current_user.agent_id


def refusal(changed: str = CHANGED) -> str | None:
    """Why the click must be refused, or None when it names the seat's call (the current one, else the last one
    connected: what the wrap-up and the caller-ID flag are about). With no call at all nothing can be done to the
    wrong customer, and the action refuses in its own words."""
    _agent, current = seat_now(seat_id(), lock=True)
    if current is None:
        return None
    sent = request.form.get("call", "").strip()
    if not sent:
        return UNNAMED
    return None if sent == str(current.id) else changed


def seat_refusal() -> str | None:
    """Why a state button's click must be refused, or None when the seat is as the page showed it. A click naming
    no seat is refused asking to reload, except from an offline seat: logging in again acts on no call."""
    agent, current = seat_now(seat_id(), lock=True)
    sent = request.form.get("seat", "").strip()
    if not sent:
        return None if agent.state == "offline" else UNNAMED
    return None if sent == as_shown(agent, current) else SEAT_CHANGED


def _guarded(check: Callable[[], str | None]) -> Callable:
    """Decorate a seat action: refused with 409 and the seat page as it is now (its buttons naming the seat and
    call now) when ``check`` gives a reason."""
    def wrap(view: Callable) -> Callable:
        @wraps(view)
        def checked(*args, **kwargs):
            why = check()
            if why is None:
                return view(*args, **kwargs)
            flash(why, "error")
            page = make_response(current_app.view_functions["agent.seat"]())
            page.status_code = 409
            return page
        return checked
    return wrap


def for_the_call_shown(changed: str = CHANGED) -> Callable:
    """Decorate a call action: refused unless the click names the seat's call; ``changed`` words the refusal for
    an earlier call."""
    return _guarded(lambda: refusal(changed))


def for_the_seat_shown() -> Callable:
    """Decorate a state action (Ready, Pause, Log out): refused unless the seat is as the page showed it."""
    return _guarded(seat_refusal)
