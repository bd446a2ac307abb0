"""Finding 2 of issue 15: an import that yields no lead stores nothing and says so truly; an import that stores a
list stores its scrub-ledger record in the same transaction (all or nothing); neither waits on its own lock."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from campaigns.campaign.service import CampaignSettings, create_campaign
from campaigns.leadimport.service import import_leads
from campaigns.leads.models import Lead, LeadList, RejectedRow
from dnc.errors import UserError
from dnc.scrub import DncScrubber
from dnc.tables import LedgerRecord

FIRST = "Name,Phone\nAnn,(212) 736-4421\nBob,(212) 736-4422\nCy,(212) 736-4423\n"
SAME_NUMBERS = "Phone,Name\n212.736.4421,Ann L\n+1 212 736 4422,Bob R\n2127364423,Cy D\n"


@pytest.fixture
def spring(sessions, clock):
    with sessions.begin() as s:
        create_campaign(s, "Spring", "+12125550100", clock.now())
    return "Spring"


def _file(tmp_path, name: str, text: str):
    path = tmp_path / name
    path.write_text(text)
    return path


def _stored(sessions) -> tuple[int, int, int, int]:
    """lists, leads, rejected rows, scrub-ledger records"""
    with sessions() as s:
        return (s.scalar(select(func.count()).select_from(LeadList)), s.scalar(select(func.count()).select_from(Lead)),
                s.scalar(select(func.count()).select_from(RejectedRow)),
                s.scalar(select(func.count()).select_from(LedgerRecord).where(LedgerRecord.kind == "scrub")))


def _scrubber(sessions, clock, campaign: str) -> DncScrubber:
    from campaigns.campaign.service import get_campaign

    return DncScrubber(sessions, campaign=lambda s: get_campaign(s, campaign).id, at=clock.now(), operator="amy")


@pytest.mark.parametrize("parallel", [False, True], ids=["inline", "child-parser"])
def test_a_file_of_duplicates_stores_nothing_and_names_the_list_holding_them(sessions, spring, clock, tmp_path,
                                                                            parallel):
    import_leads(sessions, spring, _file(tmp_path, "may.csv", FIRST), now=clock.now(),
                 scrubber=_scrubber(sessions, clock, spring))
    assert _stored(sessions) == (1, 3, 0, 1)
    with pytest.raises(UserError) as e:
        import_leads(sessions, spring, _file(tmp_path, "june.csv", SAME_NUMBERS), now=clock.now(),
                     scrubber=_scrubber(sessions, clock, spring), parallel=parallel)
    assert str(e.value) == ("june.csv: 0 leads imported: all 3 rows were duplicates of leads already in list 'may'; "
                            "nothing was stored")
    assert _stored(sessions) == (1, 3, 0, 1)  # no second list, no rejected rows, no second ledger record


def test_a_file_of_rejected_rows_stores_nothing_and_says_why(sessions, spring, clock, tmp_path):
    text = "Name,Phone\nAnn,123\nBob,(911) 555-0100\nCy,\nDi,456\n"
    with pytest.raises(UserError) as e:
        import_leads(sessions, spring, _file(tmp_path, "bad.csv", text), now=clock.now(),
                     scrubber=_scrubber(sessions, clock, spring))
    msg = str(e.value)
    assert msg.startswith("bad.csv: 0 leads imported: all 4 rows were rejected (")
    assert "; first rejected: line 2, column 'Phone': " in msg and msg.endswith("'123'; nothing was stored")
    assert _stored(sessions) == (0, 0, 0, 0)


def test_duplicates_and_rejects_together_name_both(sessions, clock, tmp_path):
    with sessions.begin() as s:
        create_campaign(s, "Other", "+12125550100", clock.now())
        create_campaign(s, "Wide", "+12125550100", clock.now(), CampaignSettings(dedupe_scope="system"))
    import_leads(sessions, "Other", _file(tmp_path, "vendor.csv", FIRST), now=clock.now())
    text = SAME_NUMBERS + "2127364423,dup of line 4\n12,short\n"
    with pytest.raises(UserError) as e:
        import_leads(sessions, "Wide", _file(tmp_path, "mixed.csv", text), now=clock.now())
    msg = str(e.value)
    assert msg.startswith("mixed.csv: 0 leads imported: 4 of the 5 rows were duplicates of leads already in list "
                          "'vendor' of campaign 'Other' and 1 of the 5 rows was rejected (")
    assert "first rejected: line 6, column 'Phone'" in msg
    assert _stored(sessions)[:3] == (1, 3, 0)


def test_suppressed_leads_are_an_import(sessions, spring, clock, tmp_path):
    """Every row suppressed is still a load (the leads are kept with their reasons, never dialed)."""
    r = import_leads(sessions, spring, _file(tmp_path, "all-dnc.csv", FIRST), now=clock.now(),
                     scrubber=lambda candidates: [("internal_dnc",)] * len(candidates))
    assert (r.accepted, r.suppressed) == (0, 3)
    assert _stored(sessions)[:2] == (1, 3)


class FailingRecord:
    """A scrubber whose ledger record cannot be written (the audit trail's write fails)."""

    def __call__(self, candidates):
        return [()] * len(candidates)

    def record(self, session, *, list_ref: str, file_sha256: str) -> None:
        raise RuntimeError("ledger unavailable")


def test_the_scrub_ledger_record_commits_with_the_list_or_not_at_all(sessions, spring, clock, tmp_path):
    with pytest.raises(RuntimeError, match="ledger unavailable"):
        import_leads(sessions, spring, _file(tmp_path, "may.csv", FIRST), now=clock.now(), scrubber=FailingRecord())
    assert _stored(sessions) == (0, 0, 0, 0)
    r = import_leads(sessions, spring, _file(tmp_path, "may.csv", FIRST), now=clock.now(),
                     scrubber=_scrubber(sessions, clock, spring))
    with sessions() as s:
        rec = s.scalars(select(LedgerRecord).where(LedgerRecord.kind == "scrub")).one()
        body = json.loads(rec.body)
    assert body["list"] == f"Spring/{r.list_name} ({r.source})" and body["file_sha256"] == r.sha256
    assert body["rows"] == 3 and rec.actor == "amy"


def test_cli_says_what_happened_at_once_with_the_products_locking(dialer, setenv, tmp_path, sessions):
    """With the product's SQLite locking (every transaction takes the write lock), the ledger record used to be
    written after the import by a second session that waited 30 s for the lock its own first session held, failed,
    and left the list stored with no record and a message saying nothing was imported."""
    setenv(DIALER_SQLITE_LOCKING="immediate")
    assert dialer("campaigns", "create", "Spring", "--caller-id", "+12125550100").code == 0
    first = dialer("leads", "import", _file(tmp_path, "may.csv", FIRST), "--campaign", "Spring", "--json")
    assert first.code == 0, first.err
    again = dialer("leads", "import", _file(tmp_path, "june.csv", SAME_NUMBERS), "--campaign", "Spring")
    assert again.code == 2
    assert again.err == ("error: june.csv: 0 leads imported: all 3 rows were duplicates of leads already in list "
                         "'may'; nothing was stored\n")
    lists = json.loads(dialer("leads", "lists", "--campaign", "Spring", "--json").out)["lists"]
    assert [x["name"] for x in lists] == ["may"]
    assert _stored(sessions) == (1, 3, 0, 1)
