"""Browser: a list upload refused says one thing. Sending the form without a file said "Choose a file to upload."
next to the field; choosing an empty file then and sending it again added "Empty.csv: the file is empty." in plain
text under the red "Choose a file to upload." that no longer applied, and the two contradicted each other."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from campaigns.campaign.service import create_campaign
from tests.web.conftest import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.refusals]


def test_an_empty_file_after_no_file_says_only_that_the_file_is_empty(browser_page, sessions, clock, tmp_path):
    page = browser_page
    with sessions() as s:
        cid = create_campaign(s, "Spring", "+12125550100", clock.now()).id
        s.commit()
    sign_in(page, "manager")
    page.goto(f"/campaigns/{cid}/upload")
    page.get_by_role("button", name="Upload and check columns").click()
    expect(page.locator("#file-error")).to_have_text("Choose a file to upload.")

    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    page.get_by_label("Lead file").set_input_files(str(empty))
    page.get_by_role("button", name="Upload and check columns").click()
    alert = page.get_by_role("alert")
    expect(alert).to_have_text("empty.csv: the file is empty.")
    expect(page.get_by_text("Choose a file to upload.")).to_have_count(0)
    expect(alert).to_have_class(re.compile(r"\bform-error\b"))  # in the console's red, as every refusal
