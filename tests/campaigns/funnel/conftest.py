"""A campaign on a migrated database with a small national registry, and a helper that stores leads as the import
would (E.164 number, candidate zones, state and ZIP)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from campaigns.campaign.service import create_campaign
from campaigns.leads.models import Lead, LeadList
from dnc.registry import Store, generate, load_full
from dnc.zones import candidate_zones
from tests.dnc.audit_helpers import load_state_lists

AREA_CODES = ("212", "305", "512", "808", "850", "602", "801", "405", "718")


@pytest.fixture
def store(tmp_path, setenv):
    root = tmp_path / "dnc"
    setenv(DIALER_DNC_DIR=str(root))
    return Store(root)


@pytest.fixture
def registry(session, store, clock, tmp_path):
    """Load a generated registry for AREA_CODES (version = today) that also lists the given numbers."""

    def load(*numbers: str, area_codes=AREA_CODES, age_days: int = 0) -> Store:
        path = generate(tmp_path / "registry.txt", 2_000, area_codes=area_codes, seed=3,
                        include=numbers).path
        load_full(session, store, [path], version_date=(clock.now() - timedelta(days=age_days)).date(),
                  loaded_by="test", now=clock.now(), area_codes=",".join(area_codes))
        load_state_lists(session, tmp_path, clock.now())  # a version of every state's own list, naming nobody
        session.flush()
        return store

    return load


@pytest.fixture
def campaign(session, clock):
    c = create_campaign(session, "Floor", "+12125550100", clock.now())
    c.status = "active"
    session.flush()
    return c


class Leads:
    def __init__(self, session, campaign, now) -> None:
        self.session, self.campaign, self.now = session, campaign, now
        self.list = LeadList(campaign_id=campaign.id, name="floor", sha256="f" * 64, uploaded_at=now)
        session.add(self.list)
        session.flush()

    def add(self, phone: str, *, status: str = "new", state: str | None = None, postal: str | None = None,
            zones: str | None = None, **kw) -> Lead:
        tz = ",".join(candidate_zones(phone, postal)) if zones is None else zones
        lead = Lead(campaign_id=self.campaign.id, list_id=self.list.id, phone=phone, state=state, postal_code=postal,
                    timezones=tz, custom={}, status=status, created_at=self.now - timedelta(days=1),
                    updated_at=self.now, **kw)
        self.session.add(lead)
        self.session.flush()
        return lead

    def all(self) -> list[Lead]:
        return list(self.session.scalars(select(Lead).where(Lead.campaign_id == self.campaign.id)
                                         .order_by(Lead.id)))


@pytest.fixture
def leads(session, campaign, clock):
    return Leads(session, campaign, clock.now())
