"""Helpers shared by the console's forms: put a service's refusal next to the field it is about."""

from __future__ import annotations

import re
from collections.abc import Mapping

from flask_wtf import FlaskForm
from werkzeug.routing import IntegerConverter
from wtforms import ValidationError
from wtforms.validators import NumberRange

from campaigns.names import name_problem
from dnc.errors import UserError

# the widest id a database holds: every id column is an INTEGER, 32 bits on PostgreSQL (past it a query raises
# "integer out of range"; SQLite's 64-bit one raises past 2^63)
MAX_ID = 2 ** 31 - 1


def as_id(raw: str | None) -> int | None:
    """An id, a page or a count typed in a link or a form: ASCII digits that fit a database integer, else None.
    (``"²".isdigit()`` is true but ``int("²")`` fails, and 20 digits overflow SQLite: both were server errors.)"""
    raw = (raw or "").strip()
    if not (raw.isascii() and raw.isdigit()) or int(raw) > MAX_ID:
        return None
    return int(raw)


class IdConverter(IntegerConverter):
    """``<int:...>`` in the console's routes: an id too large for the database is a 404, not a server error."""

    def __init__(self, url_map, *args, **kwargs) -> None:
        kwargs.setdefault("max", MAX_ID)
        super().__init__(url_map, *args, **kwargs)


class InRange(NumberRange):
    """WTForms' ``NumberRange`` for a number anyone may send: a whole number too large for a float (a 400-digit
    count) is out of range like any other, where ``NumberRange`` asks ``math.isnan`` of it and raises."""

    def __call__(self, form, field) -> None:
        if isinstance(field.data, int) and abs(field.data) > MAX_ID:
            raise ValidationError(self.message or field.gettext("Number must be between %(min)s and %(max)s.")
                                  % {"min": self.min, "max": self.max})
        super().__call__(form, field)


def sentence(message: str, name: str = "") -> str:
    """Services speak in lower-case fragments (CLI style); forms show sentences. A message that starts with
    ``name`` (the file the user uploaded) keeps it as they spelt it: "empty.csv" is not "Empty.csv"."""
    message = message.strip()
    if not message:
        return message
    if not (name and message.startswith(name)):
        message = message[0].upper() + message[1:]
    return message if message.endswith((".", "?", "!")) else message + "."


def attach_error(form: FlaskForm, error: UserError, fields_by_prefix: Mapping[str, str]) -> None:
    """Show ``error`` under the field whose prefix starts the message (``"caller ID" -> caller_id``), else on top."""
    text = str(error)
    for prefix, name in fields_by_prefix.items():
        if text.lower().startswith(prefix.lower()) and name in form:
            form[name].errors = [*form[name].errors, sentence(text)]
            return
    form.form_errors.append(sentence(text))


def has_errors(form: FlaskForm) -> bool:
    return bool(form.errors or form.form_errors)


def choices(pairs) -> list:
    """Select options from ``(value, label)`` pairs: ``SelectChoice`` on WTForms 3.3+ (tuples are deprecated there)."""
    try:
        from wtforms.fields.choices import SelectChoice
    except ImportError:  # WTForms < 3.3
        return list(pairs)
    return [SelectChoice(value, label) for value, label in pairs]


def download_name(*parts: str) -> str:
    """A download's file name from names people typed: ASCII letters, digits and ``. _ -`` only. It travels in a
    ``Content-Disposition`` header, which servers write in Latin-1 (anything else is a 500) and where a quote would
    end the name early."""
    return re.sub(r"[^A-Za-z0-9._-]+", "-", "-".join(p for p in parts if p)).strip("-") or "download"


class OneLine:
    """A form's refusal of a name holding a line break or another control character, next to its field: the name
    goes into mail headers, file names and spoken words (``campaigns.names``). The service refuses it too."""

    def __init__(self, what: str) -> None:
        self.what = what

    def __call__(self, form: FlaskForm, field) -> None:
        if problem := name_problem(self.what, (field.data or "").strip()):
            raise ValidationError(sentence(problem))
