"""Clear error pages (400, 403, 404, 405, 413, 429, 500) and one JSON shape for scripts and the console's own JS.

A ``UserError`` that escapes a view (a service refusing something the form could not know about) becomes a 400
page with its one-line message, never a traceback.
"""

from __future__ import annotations

from flask import Flask, current_app, g, jsonify, render_template, request
from flask_login import AnonymousUserMixin
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import InterfaceError, OperationalError
from werkzeug.exceptions import HTTPException, InternalServerError

from dnc.errors import UserError
from web.roles import wants_json

MESSAGES = {
    400: ("The request could not be used", "Something in it was missing or malformed."),
    401: ("Please sign in", "This page needs a signed-in user."),
    403: ("Not for your role", "Your role does not give access to this page. Ask an administrator if you need it."),
    404: ("Not found", "There is nothing at this address. It may have been removed, or the link is wrong."),
    405: ("Not allowed", "This address does not accept that kind of request."),
    413: ("File too large", "The upload is larger than this console accepts."),
    429: ("Too many attempts", "Wait a little, then try again."),
    503: ("The database is unreachable", "The console cannot reach its database just now, so nothing can be shown "
                                         "or saved. Try again in a minute; if it lasts, tell an administrator."),
    500: ("Something went wrong on our side", "The error was logged. Try again; if it keeps happening, tell an "
                                              "administrator what you were doing."),
}


def render_error(code: int, detail: str | None = None):
    title, text = MESSAGES.get(code, (f"Error {code}", ""))
    if wants_json() or request.path.startswith("/twilio/"):
        return jsonify(error=detail or title), code
    return render_template("error.html", code=code, title=title, text=text, detail=detail), code


def init_errors(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def csrf_error(e: CSRFError):
        return render_error(400, "The form expired or did not come from this console (missing or invalid CSRF "
                                 "token). Go back, reload the page and send it again.")

    @app.errorhandler(UserError)
    def user_error(e: UserError):
        return render_error(400, str(e))

    @app.errorhandler(413)
    def too_large(e):
        limit = current_app.config.get("MAX_CONTENT_LENGTH") or 0
        return render_error(413, f"The limit is {limit // (1024 * 1024):,} MB (setting DIALER_MAX_UPLOAD_MB). "
                                 "Split the list into several files.")

    @app.errorhandler(HTTPException)
    def http_error(e: HTTPException):
        if e.code is None or e.code < 400:
            return e
        custom = e.description and e.description != type(e).description  # a reason the view gave, not the stock one
        detail = e.description if custom else None
        return render_error(e.code, detail)

    @app.errorhandler(InternalServerError)
    def server_error(e: InternalServerError):
        return render_error(500)

    @app.errorhandler(OperationalError)
    @app.errorhandler(InterfaceError)
    def database_unreachable(e):
        """The database is down (or refused the connection): a styled page that says so. The page must not ask the
        database again, so the user is shown as signed out for this one response (their session is untouched)."""
        current_app.logger.error("database unreachable: %s", str(e).splitlines()[0][:300])
        g._login_user = AnonymousUserMixin()
        return render_error(503)
