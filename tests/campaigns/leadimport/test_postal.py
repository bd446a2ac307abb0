"""ZIP cells as lists carry them: what the import reads, and what it must not guess (an unreadable ZIP is kept
as written and the lead refused, so a wrong guess would put an address in the wrong state)."""

import pytest

from campaigns.leadimport.mapping import clean_postal, clean_state


@pytest.mark.parametrize(("cell", "zip_code"), [
    ("02134", "02134"),
    ("2134", "02134"),  # a spreadsheet dropped the leading zero
    ("601", "00601"),
    ("02134-1234", "02134"),
    ("02134 1234", "02134"),  # ZIP+4 with a space instead of the dash
    ("021341234", "02134"),
    (" 10001 ", "10001"),
])
def test_zip_cells_that_name_one_zip_code(cell: str, zip_code: str) -> None:
    assert clean_postal(cell, "US") == zip_code


@pytest.mark.parametrize("cell", ["Boston", "1234 5", "02134 12", "12", "1234567", "N/A"])
def test_zip_cells_that_do_not(cell: str) -> None:
    assert clean_postal(cell, "US") is None


@pytest.mark.parametrize(("cell", "state"), [
    ("NY", "NY"), ("ny", "NY"), ("N.Y.", "NY"), ("D.C.", "DC"), ("New York", "NY"), ("Rhode Island", "RI"),
    ("Fla.", "FL"), ("Calif.", "CA"), ("Penna.", "PA"), ("W. Va.", "WV"), ("Wisc.", "WI"), ("Ontario", "ON"),
])
def test_state_cells_in_the_spellings_lists_carry(cell: str, state: str) -> None:
    assert clean_state(cell) == state


@pytest.mark.parametrize("cell", ["N/A", "ZZZ", "Flo.", "Atlantis", "New Yrok", "n.a.x.y."])
def test_state_cells_that_name_no_state(cell: str) -> None:
    assert clean_state(cell) is None
