"""The disposition form of the agent's seat: how the call ended, a callback's time in the customer's own clock and
whom it is for, the notes, and where the seat goes next (ready or paused with a reason).

Its own module because it is the part of the seat an agent fills in under time pressure, with its own checks.
"""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import RadioField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from campaigns.agents.states import DEFAULT_PAUSE_REASONS
from web.callbacks import parse_local
from web.forms import choices

PAUSE_LABELS = {"break": "Break", "lunch": "Lunch", "training": "Training", "meeting": "Meeting",
                "coaching": "Coaching", "technical": "Technical problem", "other": "Other"}
PERSONAL = {"personal": True, "anyone": False}  # the callback choice; none sent: the campaign's setting


class DispositionForm(FlaskForm):
    code = RadioField("Disposition", validate_choice=False, validators=[DataRequired("Choose a disposition.")])
    callback_at = StringField("Callback at", validators=[Optional()], render_kw={"type": "datetime-local"})
    callback_for = RadioField("The callback is for", validate_choice=False,
                              choices=choices([("personal", "personal (only me)"),
                                               ("anyone", "anyone on the campaign")]))

    def validate_callback_for(self, field) -> None:
        if field.data not in (None, "", "personal", "anyone"):
            raise ValidationError("Choose personal (only me) or anyone on the campaign.")
    notes = TextAreaField("Notes", validators=[Optional(), Length(max=4000)], render_kw={"rows": 3})
    then = SelectField("Then", choices=choices([("ready", "Ready for the next call"), ("pause", "Pause")]),
                       default="ready")
    pause_reason = SelectField("Pause reason", default="break",
                               choices=choices((r, PAUSE_LABELS.get(r, r)) for r in DEFAULT_PAUSE_REASONS))

    def validate_callback_at(self, field) -> None:
        if field.data:
            parse_local(field.data, "UTC")  # the same refusals as moving a callback (the zone is the lead's, below)
