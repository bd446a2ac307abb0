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


@pytest.mark.parametrize("width", [1280, 1920])
def test_the_duplicates_field_label_fits_on_one_line_beside_its_neighbours(browser_page, live_server, width):
    """ "A number may appear once" wrapped to two lines, so its select sat lower than Region and the time zone."""
    page = browser_page
    page.set_viewport_size({"width": width, "height": 900})
    sign_in(page, "manager")
    page.goto("/campaigns/new")
    label = page.locator('label[for="dedupe_scope"]').bounding_box()
    region_label = page.locator('label[for="region"]').bounding_box()
    assert abs(label["height"] - region_label["height"]) < 1, (label, region_label)
    boxes = [page.locator(f"#{f}").bounding_box() for f in ("dedupe_scope", "region", "timezone")]
    assert max(b["y"] for b in boxes) - min(b["y"] for b in boxes) < 1, boxes
