"""The one check every call button of the agent's seat goes through: the click names the call it was shown with
(a hidden ``call`` field), and it is refused unless that is still the seat's call.

Why: the seat page reloads every ~2 s and the predictive dialer pops the next customer the moment a call is
dispositioned, so a double click, the back button, a second tab or a slow network delivers a click meant for
one customer while the next is on the line. Acted on "whatever call is current", it hung up, held or transferred
him, or put a DNC or a caller-ID flag on his call. A click naming no call comes from a page served before the
call was named (open across an upgrade): it is refused too, asking to reload, since the call it meant is unknown.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from flask import abort, current_app, flash, make_response, request
from flask_login import current_user

from campaigns.agents.desk import last_call
from web.context import db

CHANGED = ("The call has changed since this page was shown: nothing was done on the call you are on now. "
           "Here is the call as it is now.")
UNNAMED = ("This page is out of date (it did not say which call it was for), so nothing was done. "
           "Reload the page and try again.")


def refusal(changed: str = CHANGED) -> str | None:
    """Why the click must be refused, or None when it names the seat's call (the current one, else the last one
    connected: what the wrap-up and the caller-ID flag are about). With no call at all nothing can be done to the
    wrong customer, and the action refuses in its own words."""
    if current_user.agent_id is None:
        abort(403, "this user has no agent seat")
    current = last_call(db(), current_user.agent_id)
    if current is None:
        return None
    sent = request.form.get("call", "").strip()
    if not sent:
        return UNNAMED
    return None if sent == str(current.id) else changed


def for_the_call_shown(changed: str = CHANGED) -> Callable:
    """Decorate a call action: refused with 409 and the seat page as it is now (its buttons naming the call now on
    the line) unless the click names the seat's call; ``changed`` words the refusal for an earlier call."""
    def wrap(view: Callable) -> Callable:
        @wraps(view)
        def checked(*args, **kwargs):
            why = refusal(changed)
            if why is None:
                return view(*args, **kwargs)
            flash(why, "error")
            page = make_response(current_app.view_functions["agent.seat"]())
            page.status_code = 409
            return page
        return checked
    return wrap
