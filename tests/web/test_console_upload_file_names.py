"""A refused lead file is named as the manager named it: the messages start with the file name, and making them
sentences capitalised it ("Empty.csv: the file is empty.", "Hugeline.csv line 2: ..."), a file that does not exist
on their disk (found uploading bad files on the demo)."""

from __future__ import annotations

import io
import re

import pytest

from campaigns.campaign.service import create_campaign


@pytest.fixture
def cid(sessions, clock) -> int:
    with sessions() as s:
        c = create_campaign(s, "Spring", "+12125554100", clock.now())
        s.commit()
        return c.id


def _upload(client, auth, cid: int, content: bytes, name: str):
    token = auth.token(f"/campaigns/{cid}/upload")
    return client.post(f"/campaigns/{cid}/upload", content_type="multipart/form-data",
                       data={"csrf_token": token, "file": (io.BytesIO(content), name)})


def test_an_empty_file_is_named_as_uploaded(client, auth, cid):
    auth.login("manager")
    html = _upload(client, auth, cid, b"", "empty.csv").get_data(as_text=True)
    assert "empty.csv: the file is empty." in html and "Empty.csv" not in html


def test_an_unreadable_file_is_named_as_uploaded(client, auth, cid):
    auth.login("manager")
    r = _upload(client, auth, cid, b"Name,Phone\n", "header-only.csv")
    job = re.fullmatch(r"/uploads/([0-9a-f]{32})", r.headers["Location"]).group(1)
    html = client.get(f"/uploads/{job}").get_data(as_text=True)
    assert "header-only.csv: only a header line, no lead rows." in html and "Header-only.csv" not in html


def test_an_unreadable_file_keeps_the_pages_breadcrumbs(client, auth, cid):
    """The upload and mapping pages start "Campaigns › Spring ›"; the page refusing the file started "Spring ›"."""
    auth.login("manager")
    r = _upload(client, auth, cid, b"Name,Phone\n", "header-only.csv")
    html = client.get(r.headers["Location"]).get_data(as_text=True)
    crumbs = html.split('<div class="crumbs">')[1].split("</div>")[0]
    assert ">Campaigns</a> ›" in crumbs and ">Spring</a> ›" in crumbs
