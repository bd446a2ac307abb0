"""The demo: a sample campaign with a generated, realistically messy list, imported by the real import path.

``make demo`` runs it on a fresh clone so a new user sees the product do real work at once: the list lands
in campaign "Demo", the receipt shows how every row was accounted for, and the rejected rows can be exported.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from campaigns.campaign.models import Campaign
from campaigns.campaign.service import CampaignSettings, create_campaign
from campaigns.db import session_scope
from campaigns.leadimport.scrub import Scrubber
from campaigns.leadimport.service import ImportResult, import_leads
from campaigns.leads.models import LeadList
from dialer.demo.listgen import write_list
from dialer.demo.registry import load_demo_registry

DEMO_CAMPAIGN = "Demo"
DEMO_CALLER_ID = "+12125550100"


@dataclass(frozen=True)
class DemoResult:
    campaign: str
    created: bool
    file: Path
    result: ImportResult


def run_demo(sessions: sessionmaker[Session], now: datetime, workdir: Path, rows: int = 5_000,
             scrubber: Scrubber | None = None) -> DemoResult:
    """Create (or reuse) the demo campaign and import a freshly generated list into it."""
    with session_scope(sessions) as s:
        campaign = s.scalar(select(Campaign).where(Campaign.name == DEMO_CAMPAIGN))
        created = campaign is None
        if created:
            campaign = create_campaign(s, DEMO_CAMPAIGN, DEMO_CALLER_ID, now,
                                       CampaignSettings(seller_name="Opendialer Demo Co.", pacing_mode="predictive"))
        n_lists = s.scalar(select(func.count()).select_from(LeadList).where(LeadList.campaign_id == campaign.id))
    workdir.mkdir(parents=True, exist_ok=True)
    seed = 1 + (n_lists or 0)
    path = write_list(workdir / f"demo-leads-{seed}.csv", rows, seed=seed)
    load_demo_registry(sessions, now, path)  # a fresh install dials nothing until a registry is loaded
    result = import_leads(sessions, DEMO_CAMPAIGN, path, now=now, uploaded_by="demo", scrubber=scrubber,
                          list_name=f"demo list {seed}")
    return DemoResult(DEMO_CAMPAIGN, created, path, result)
