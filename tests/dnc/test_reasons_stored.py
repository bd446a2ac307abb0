"""The reasons stored on a closed lead read back as the codes written, in the gate's format and the import's."""

from __future__ import annotations

from dnc.reasons import Reason, stored, stored_codes


def test_stored_reasons_read_back_as_their_codes():
    text = stored([Reason("national_dnc", "on the National DNC Registry (2030-01-08, v3)"),
                   Reason("litigator", "on the litigator list; plaintiff, 2029")])
    assert text.startswith("national_dnc: on the National")
    assert stored_codes(text) == ["national_dnc", "litigator"]


def test_older_comma_codes_notes_and_cut_off_codes():
    assert stored_codes("internal_dnc,national_dnc") == ["internal_dnc", "national_dnc"]
    assert stored_codes("refused by the pre-dial gate") == stored_codes(None) == stored_codes("") == []
    assert stored_codes("national_dnc: " + "x" * 380 + "; litig") == ["national_dnc"]  # cut by the column
    assert len(stored([Reason("state_dnc", "y" * 500)])) == 400


def test_a_note_in_the_words_never_reads_as_a_code():
    """Words are free text (a manager's note, a list's label): a ';' in them must not start a reason of its own."""
    text = stored([Reason("internal_dnc", "marked by mia: litigator; national_dnc, asked twice")])
    assert stored_codes(text) == ["internal_dnc"]
    assert "litigator" in text and "asked twice" in text  # the note is kept, in words


def test_a_bare_code_is_stored_with_its_words():
    """A scrub finds codes, not words about one number: each is stored with the code's words, in the one format."""
    text = stored(["internal_dnc", "litigator"])
    assert text == "internal_dnc: On the internal do-not-call list; litigator: On the litigator list"
    assert stored_codes(text) == ["internal_dnc", "litigator"]
