"""The console's forms line their fields up: side by side in a row, each input keeps its own height. A field without a
help line was stretched to the height of its neighbour's label, input and help (the new campaign's "Attempts per
lead at most" box stood half as tall again as "Abandon target" beside it; found creating a campaign on the demo)."""

from __future__ import annotations

import pytest

from tests.web.conftest import sign_in

pytestmark = pytest.mark.browser


def test_fields_side_by_side_keep_their_inputs_height(browser_page, live_server):
    page = browser_page
    sign_in(page, "manager")
    page.goto("/campaigns/new")
    target = page.get_by_label("Abandon target (%)").bounding_box()
    attempts = page.get_by_label("Attempts per lead at most").bounding_box()
    name = page.get_by_label("Name", exact=True).bounding_box()
    assert abs(attempts["height"] - name["height"]) < 1 and abs(target["height"] - name["height"]) < 1, \
        (name["height"], target["height"], attempts["height"])
    assert abs(attempts["y"] - target["y"]) < 1  # and they start level
