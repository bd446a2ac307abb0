"""A campaign's team for its manager: which agents may join the campaign (everyone, or only those ticked), each
agent's seat now, and the history of team changes.

The rule and its enforcement are ``campaigns.agents.teams``' (checked when a seat joins or goes ready, whatever the
agent's page offered); this page only edits the list. ``dialer campaigns agents`` does the same from a shell.
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import func, select
from wtforms import RadioField

from campaigns.accounts.models import User
from campaigns.agents import teams
from campaigns.agents.models import Agent
from campaigns.campaign.history import changes
from campaigns.campaign.models import Campaign
from dnc.errors import UserError
from web.context import db, now
from web.forms import as_id, choices, sentence

bp = Blueprint("team", __name__, url_prefix="/campaigns/<int:campaign_id>/agents")
WHO = {"everyone": "Every agent may join", "team": "Only the agents ticked below"}


class TeamForm(FlaskForm):
    who = RadioField("Who may join this campaign", choices=choices(WHO.items()), default="everyone")


def _campaign(campaign_id: int) -> Campaign:
    campaign = db().get(Campaign, campaign_id)
    if campaign is None:
        abort(404)
    return campaign


def _seats() -> list[dict]:
    """People's seats (simulated seats are not limited by teams), with their login and where they are now."""
    names = dict(db().execute(select(Campaign.id, Campaign.name)).all())
    rows = db().execute(select(Agent, User.username).outerjoin(User, User.agent_id == Agent.id)
                        .where(Agent.simulated.is_(False)).order_by(func.lower(Agent.name))).all()
    return [{"id": a.id, "name": a.name, "login": login, "state": a.state, "reason": a.state_reason,
             "campaign": names.get(a.campaign_id) if a.state != "offline" else None} for a, login in rows]


def _page(campaign: Campaign, form: TeamForm, ticked: set[int], status: int = 200):
    simulated = db().scalar(select(func.count(Agent.id)).where(Agent.simulated.is_(True),
                                                               Agent.campaign_id == campaign.id)) or 0
    return render_template("campaigns/team.html", campaign=campaign, form=form, seats=_seats(), ticked=ticked,
                           simulated=simulated, history=changes(db(), campaign.id, subject="team", limit=30)), status


@bp.route("/", methods=["GET", "POST"])
def edit(campaign_id: int):
    campaign = _campaign(campaign_id)
    current = {a.id for a in teams.team(db(), campaign.id)}
    form = TeamForm(data={"who": "team" if current else "everyone"} if request.method == "GET" else None)
    if request.method == "GET" or not form.validate_on_submit():
        return _page(campaign, form, current, 200 if request.method == "GET" else 400)
    ticked = {i for i in map(as_id, request.form.getlist("agent")) if i is not None}
    if form.who.data == "team" and not ticked:
        form.who.errors = ["Tick at least one agent, or let every agent join."]
        return _page(campaign, form, ticked, 400)
    try:
        changed = teams.set_team(db(), campaign, ticked if form.who.data == "team" else set(),
                                 current_user.username, now())
        db().commit()
    except UserError as e:
        db().rollback()
        form.who.errors = [sentence(str(e))]
        return _page(campaign, form, ticked, 400)
    if changed:
        flash(f"Saved: {teams.team_names(db(), campaign.id)} may join {campaign.name}. Agents taken off the team "
              "leave the campaign now, or after the call they are on.", "success")
    else:
        flash("Nothing changed.", "success")
    return redirect(url_for("team.edit", campaign_id=campaign.id))
