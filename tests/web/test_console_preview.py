"""Preview dialing from the agent's seat: the next lead is shown and held, the agent dials it or skips it, and the
pre-dial gate still decides (no registry loaded: refused and rescheduled; registry loaded: the call is queued)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from campaigns.accounts.models import User
from campaigns.campaign.models import Campaign
from campaigns.campaign.service import create_campaign, set_status
from campaigns.dispatch.models import Call
from campaigns.leads.models import Lead, LeadList
from dnc.registry import generate, load_full
from dnc.registry.snapshot import Store


@pytest.fixture
def preview_campaign(sessions, clock):
    t = clock.now()  # Tuesday 10:00 in New York: inside every window
    with sessions() as s:
        c = create_campaign(s, "Preview", "+12125554100", t - timedelta(days=1))
        c.pacing_mode = "preview"
        set_status(s, c, "active", t)
        lst = LeadList(campaign_id=c.id, name="L", sha256="b" * 64, uploaded_at=t - timedelta(days=1))
        s.add(lst)
        s.flush()
        for i, name in enumerate(("Ann", "Bo")):
            s.add(Lead(campaign_id=c.id, list_id=lst.id, phone=f"+1212555410{i + 1}", first_name=name,
                       last_name="Lee", state="NY", timezones="America/New_York", custom={"Plan": "gold"},
                       status="new", created_at=t - timedelta(minutes=10 - i), updated_at=t))
        s.commit()
        return c.id


@pytest.fixture
def dnc_dir(tmp_path, setenv):
    root = tmp_path / "gate-dnc"
    setenv(DIALER_DNC_DIR=str(root))
    return Store(root)


def _ready(auth, campaign_id):
    auth.login("agent")
    assert auth.post("/agent/start", {"campaign": str(campaign_id)}, page="/agent/").status_code == 302


def _shown(client) -> str:
    return client.get("/agent/").get_data(as_text=True)


def test_preview_shows_holds_and_skips(client, auth, preview_campaign, sessions, dnc_dir):
    _ready(auth, preview_campaign)
    page = _shown(client)
    assert "Next lead (preview" in page and "Ann Lee" in page and "gold" in page
    with sessions() as s:
        ann = s.scalar(select(Lead).where(Lead.first_name == "Ann"))
        seat = s.scalar(select(User.agent_id).where(User.username == "agent-user"))
        assert ann.reserved_agent_id == seat  # held: no worker or other agent takes it meanwhile
    assert "Ann Lee" in _shown(client)  # the same lead again until dialed or skipped
    auth.post("/agent/preview/skip", {"lead_id": str(ann.id)}, page="/agent/")
    with sessions() as s:
        again = s.get(Lead, ann.id)
        assert (again.status, again.attempts) == ("new", 0)


def test_dial_goes_through_the_gate(client, auth, preview_campaign, sessions, clock, dnc_dir, tmp_path):
    _ready(auth, preview_campaign)
    assert "Ann Lee" in _shown(client)
    with sessions() as s:
        ann_id = s.scalar(select(Lead.id).where(Lead.first_name == "Ann"))
    r = auth.post("/agent/preview/dial", {"lead_id": str(ann_id)}, page="/agent/")
    assert "Not dialed: registry stale" in client.get(r.headers["Location"]).get_data(as_text=True)
    with sessions() as s:
        lead = s.get(Lead, ann_id)
        assert lead.attempts == 0 and lead.next_attempt_at is not None  # rescheduled, not counted
        assert s.scalar(select(Call.id)) is None
        path = generate(tmp_path / "reg.txt", 500, area_codes=("212",), seed=1).path
        load_full(s, dnc_dir, [path], version_date=clock.now().date(), loaded_by="test", now=clock.now(),
                  area_codes="212")
        s.commit()
    page = _shown(client)
    assert "Bo Lee" in page  # Ann waits for her new time; Bo is next
    with sessions() as s:
        bo_id = s.scalar(select(Lead.id).where(Lead.first_name == "Bo"))
    auth.post("/agent/preview/dial", {"lead_id": str(bo_id)}, page="/agent/")
    with sessions() as s:
        call = s.scalar(select(Call).where(Call.lead_id == bo_id))
        assert call is not None and call.status == "queued" and call.attempt == 1
        assert s.get(Lead, bo_id).status == "dialing"


def test_preview_is_only_for_preview_campaigns(client, auth, preview_campaign, sessions, dnc_dir):
    with sessions() as s:
        s.get(Campaign, preview_campaign).pacing_mode = "predictive"
        s.commit()
    _ready(auth, preview_campaign)
    assert "Next lead (preview" not in _shown(client)
    r = auth.post("/agent/preview/dial", {"lead_id": "1"}, page="/agent/")
    assert "preview is for campaigns in preview mode" in client.get(r.headers["Location"]).get_data(as_text=True)
