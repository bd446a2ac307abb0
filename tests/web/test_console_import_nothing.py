"""Finding 2 of issue 15 through the console, on the product's SQLite locking: a list whose rows are all duplicates
stores nothing (no second list, no ledger record) and says so at once and truly; a retry says the same."""

from __future__ import annotations

import io
import re

import pytest
from sqlalchemy import func, select

from campaigns.campaign.service import create_campaign
from campaigns.leads.models import LeadList
from dnc.tables import LedgerRecord
from tests.web.conftest import AuthActions

FIRST = b"Name,Phone\nAnn,(212) 736-4421\nBob,(212) 736-4422\n"
AGAIN = b"Phone,Name\n212.736.4421,Ann L\n+1 212 736 4422,Bob R\n"


@pytest.fixture
def console(product_app):
    with product_app.config["SESSIONS"].begin() as s:
        cid = create_campaign(s, "Spring", "+12125554100", product_app.config["CLOCK"].now()).id
    client = product_app.test_client()
    auth = AuthActions(client)
    auth.login("manager")
    return client, auth, cid, product_app.config["SESSIONS"]


def _import(client, auth, cid: int, content: bytes, name: str) -> dict:
    token = auth.token(f"/campaigns/{cid}/upload")
    r = client.post(f"/campaigns/{cid}/upload", content_type="multipart/form-data",
                    data={"csrf_token": token, "file": (io.BytesIO(content), name)})
    job = re.fullmatch(r"/uploads/([0-9a-f]{32})", r.headers["Location"]).group(1)
    assert auth.post(f"/uploads/{job}", {"map_phone": "Phone"}).status_code == 303
    return client.get(f"/uploads/{job}/status").get_json() | {"job": job}


def _stored(sessions) -> tuple[list[str], int]:
    with sessions() as s:
        return (s.scalars(select(LeadList.name).order_by(LeadList.id)).all(),
                s.scalar(select(func.count()).select_from(LedgerRecord).where(LedgerRecord.kind == "scrub")))


def test_a_list_of_duplicates_stores_nothing_and_says_why(console):
    client, auth, cid, sessions = console
    assert _import(client, auth, cid, FIRST, "may.csv")["state"] == "done"
    assert _stored(sessions) == (["may"], 1)
    expected = ("june.csv: 0 leads imported: all 2 rows were duplicates of leads already in list 'may'; "
                "nothing was stored.")
    for _ in range(2):  # the manager retries: the same true answer, still no second list
        status = _import(client, auth, cid, AGAIN, "june.csv")
        assert (status["state"], status["error"]) == ("failed", expected)
        assert _stored(sessions) == (["may"], 1)
    page = client.get(f"/uploads/{status['job']}").get_data(as_text=True)
    assert "0 leads imported: all 2 rows were duplicates of leads already in list &#39;may&#39;" in page
