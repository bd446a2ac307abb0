"""``/``: every role lands on its own main page (or, where a build has none yet, on a page of what it can open)."""

from flask import Blueprint, current_app, redirect, render_template, url_for
from flask_login import current_user

from web.auth import HOMES

bp = Blueprint("home", __name__)


@bp.get("/")
def index():
    endpoint = HOMES.get(current_user.role)
    if endpoint in current_app.view_functions:
        return redirect(url_for(endpoint))
    return render_template("home.html")
