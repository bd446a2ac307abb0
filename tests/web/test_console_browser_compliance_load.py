"""Browser: the compliance officer's load page holds three forms (consent, a suppression list, RND data). Each label
must lead to its own form's field: they shared ids ("file", "version", "vendor"), so the RND form's "RND file (CSV)"
label chose the consent form's file box and its "Data as of" the list form's date, for a click, a screen reader and
a test alike; the RND file then went nowhere."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.web.conftest import sign_in

pytestmark = pytest.mark.browser


def test_every_field_of_the_load_page_is_reached_by_its_own_label(browser_page, tmp_path):
    page = browser_page
    sign_in(page, "compliance")
    page.goto("/compliance/load")
    duplicated = page.evaluate("""() => {
        const seen = {};
        document.querySelectorAll('[id]').forEach((e) => { seen[e.id] = (seen[e.id] || 0) + 1; });
        return Object.keys(seen).filter((k) => seen[k] > 1);
    }""")
    assert duplicated == []
    for form, labels in {"#consent-form": ["Consent file (CSV)"],
                         "#list-form": ["List", "State (for a state list)", "Version date", "Vendor", "List file"],
                         "#rnd-form": ["Data as of", "From", "RND file (CSV)"]}.items():
        for label in labels:
            field = page.get_by_label(label, exact=True)
            expect(field).to_have_count(1)
            assert field.evaluate("(e, f) => e.closest('form') === document.querySelector(f)", form), (label, form)

    rnd = tmp_path / "rnd.csv"
    rnd.write_text("number,disconnected_on\n+12127364421,2029-06-01\n")
    page.get_by_label("Data as of").fill("2030-01-07")
    page.get_by_label("RND file (CSV)").set_input_files(str(rnd))
    page.get_by_role("button", name="Load RND data").click()
    expect(page.locator(".flash.success")).to_contain_text("Reassigned Numbers Database data of 2030-01-07: 1 numbers")
