"""A call the seat left without a disposition: the campaign's wrap-up limit ran out (or the manager took the seat off
the floor) while the agent was still choosing the outcome and typing the notes. The seat page offers each such call
with its own form, the notes restored from the tab's draft (``static/js/agent.js``); saving here records the
disposition and the notes on that call and moves its lead on, as the seat's own form would have.

The seat stays as it is: it already moved on (ready, paused or on the next customer), and this form has no "then".
Which calls qualify is ``campaigns.agents.desk.unfinished`` (the agent's own, the lead still waiting on that call).
"""

from __future__ import annotations

from flask import flash, redirect, url_for

from campaigns.agents import service as agents
from campaigns.agents.desk import dispositions_of, unfinished
from campaigns.campaign.models import Campaign
from dnc.errors import UserError
from web.agent import bp
from web.context import db, now
from web.disposition import PERSONAL, callback_time, late_form, take_offer
from web.forms import choices, sentence
from web.seat_call import seat_id
from web.seat_page import seat_page

GONE = ("That call has its disposition already, or its lead has moved on (the dialer returns a lead left without one "
        "to the queue after 30 minutes): nothing was recorded.")


@bp.post("/unfinished/<int:call_id>")
def finish(call_id: int):
    """Record the disposition and the notes of one of the seat's unfinished calls; the seat's state is untouched."""
    mine = {c.id: (c, lead) for c, lead in unfinished(db(), seat_id(), now())}
    if call_id not in mine:
        flash(GONE, "error")
        return redirect(url_for("agent.seat"))
    call, lead = mine[call_id]
    form = late_form(call_id, posted=True)
    shown = dispositions_of(db(), call.campaign_id)
    form.code.choices = choices((x.code, x.label) for x in shown)
    take_offer(form)
    if not form.validate_on_submit():
        return seat_page(status=400, late=form)
    chosen = next((x for x in shown if x.code == form.code.data), None)
    if chosen is None:
        form.code.errors = ["Choose one of the dispositions shown."]
        return seat_page(status=400, late=form)
    zones = lead.zone_list
    campaign = db().get(Campaign, call.campaign_id)
    callback_at, back = callback_time(form, chosen, lead, campaign, zones[0] if zones else campaign.timezone)
    if back is not None:
        return seat_page(status=back[0], offer=back[1], late=form)
    try:
        agents.disposition(db(), call.id, chosen.code, now(), notes=(form.notes.data or "").strip(),
                           callback_at=callback_at, agent_ref=seat_id(),
                           personal=PERSONAL.get(form.callback_for.data))
        db().commit()
    except UserError as e:
        db().rollback()
        target = form.callback_at if "callback" in str(e) else form.code
        target.errors = [*target.errors, sentence(str(e))]
        return seat_page(status=400, late=form)
    name = f"{lead.first_name} {lead.last_name}".strip() or call.phone
    flash(f"Saved: {chosen.label} for your call with {name}.", "success")
    return redirect(url_for("agent.seat"))
