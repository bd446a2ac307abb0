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
