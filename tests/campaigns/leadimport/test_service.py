"""Importing into a real database (SQLite and PostgreSQL): every row accounted for, all or nothing."""

import csv
import io
import json

import pytest
from sqlalchemy import func, select

from campaigns.campaign.service import CampaignSettings, create_campaign
from campaigns.leadimport.export import export_rejects
from campaigns.leadimport.service import import_leads, lists_of
from campaigns.leads.models import Lead, LeadList, RejectedRow
from dnc.errors import UserError

MESSY = (
    "\ufeffFirst Name,Last Name,Phone #,State,ZIP,Notes,Extra\r\n"
    "Ann,Lee,(212) 555-0123,NY,10001,\"likes calls,\nafter 5\",\r\n"         # line 2 (spans 2 lines)
    "Bob,Ray,+1 212.555.0124,new york,2134,=HYPERLINK(\"http://evil\"),\r\n"  # line 4
    "Cy,Day,2125550125 ext 4,ZZZ,02134-1234,@SUM(1+1),\r\n"                    # line 5
    "\r\n"                                                                       # blank
    "Di,Eve,123,CA,90210,,\r\n"                                                  # line 7: impossible
    "Ed,Fox,(911) 555-0100,CA,90210,,\r\n"                                       # line 8: invalid
    "Flo,Gu,212-555-0123,NY,10001,,\r\n"                                         # line 9: duplicate of line 2
    "Gil,Ho,2125550126,NY,10001,+cmd|' /C calc'!A0,x,y\r\n"                      # line 10: ragged
    "Hal,Ivy,,NY,10001,,\r\n"                                                    # line 11: empty phone
    "Ivy,Jo,1 (212) 555-0127,TX,75201,ok,\r\n"                                   # line 12
)


@pytest.fixture
def campaign(sessions, clock):
    with sessions.begin() as s:
        create_campaign(s, "Spring", "+12125550100", clock.now())
    return "Spring"


def _write(tmp_path, name, text, encoding="utf-8"):
    p = tmp_path / name
    p.write_bytes(text.encode(encoding))
    return p


@pytest.mark.parametrize("parallel", [False, True], ids=["inline", "child-parser"])
def test_messy_file_counts_add_up_and_rejects_reimport_once_fixed(sessions, campaign, clock, tmp_path, parallel):
    r = import_leads(sessions, campaign, _write(tmp_path, "messy.csv", MESSY), now=clock.now(), uploaded_by="amy",
                     parallel=parallel)
    assert (r.rows, r.accepted, r.duplicates, r.rejected, r.suppressed) == (9, 4, 1, 4, 0)
    assert r.rows == r.accepted + r.duplicates + r.rejected + r.suppressed and r.blank_lines == 1
    with sessions() as s:
        lst = s.scalars(select(LeadList)).one()
        assert (lst.rows, lst.accepted, lst.duplicates, lst.rejected, lst.uploaded_by) == (9, 4, 1, 4, "amy")
        leads = {ld.line: ld for ld in s.scalars(select(Lead))}
        assert sorted(leads) == [2, 4, 5, 12]
        ann, bob, cy = leads[2], leads[4], leads[5]
        assert (ann.phone, ann.first_name, ann.last_name, ann.state, ann.postal_code) == (
            "+12125550123", "Ann", "Lee", "NY", "10001")
        assert ann.custom == {"Notes": "likes calls,\nafter 5"}
        assert ann.timezones and ann.status == "new" and ann.created_at == clock.now()
        assert (bob.state, bob.postal_code, bob.custom["Notes"]) == ("NY", "02134", '=HYPERLINK("http://evil")')
        assert cy.phone == "+12125550125" and cy.custom["phone_ext"] == "4"
        assert cy.state == "??" and cy.custom["State"] == "ZZZ"  # kept, and marked unreadable: never dialed
        rejects = {r.line: r for r in s.scalars(select(RejectedRow))}
        assert rejects[9].kind == "duplicate" and "duplicates line 2" in rejects[9].reason
        assert "too short" in rejects[7].reason and rejects[7].column == "Phone #"
        assert "invalid" in rejects[8].reason
        assert "8 cells but the header has 7" in rejects[10].reason and rejects[10].column == "column 8"
        assert "empty" in rejects[11].reason
        out = io.StringIO()
        assert export_rejects(s, campaign, "messy", out) == 4
    exported = list(csv.reader(io.StringIO(out.getvalue())))
    assert exported[0] == ["First Name", "Last Name", "Phone #", "State", "ZIP", "Notes", "Extra", "reason"]
    gil = next(row for row in exported if row[0] == "Gil")
    assert gil[5] == "'+cmd|' /C calc'!A0"  # formula-safe on the way out
    # The user fixes every row in a spreadsheet and uploads the export again.
    fixes = {"Di": "(415) 555-0101", "Ed": "(415) 555-0102", "Gil": "2125550126", "Hal": "415.555.0103"}
    fixed = [exported[0]] + [[*row[:2], fixes[row[0]], *row[3:7], row[-1]] for row in exported[1:]]
    buf = io.StringIO()
    csv.writer(buf).writerows(fixed)
    r2 = import_leads(sessions, campaign, _write(tmp_path, "fixed.csv", buf.getvalue()), now=clock.now(),
                      parallel=parallel)
    assert (r2.rows, r2.accepted, r2.duplicates, r2.rejected) == (4, 4, 0, 0)
    with sessions() as s:
        gil = s.scalars(select(Lead).where(Lead.first_name == "Gil")).one()
        assert gil.custom["Notes"] == "+cmd|' /C calc'!A0"  # the export's quote is gone again
        assert "reason" not in gil.custom
        assert s.scalar(select(func.count()).select_from(Lead)) == 8


def test_same_file_refused_unless_forced_and_dedupe_scopes(sessions, campaign, clock, tmp_path):
    p = _write(tmp_path, "a.csv", "phone\n2125550123\n2125550124\n")
    import_leads(sessions, campaign, p, now=clock.now())
    with pytest.raises(UserError, match="already imported into campaign 'Spring' as list 'a'.*with force"):
        import_leads(sessions, campaign, p, now=clock.now())
    with pytest.raises(UserError, match="0 leads imported: all 2 rows were duplicates of leads already in list 'a'"):
        import_leads(sessions, campaign, p, now=clock.now(), force=True)  # nothing new: no second, empty list
    with sessions.begin() as s:
        create_campaign(s, "PerList", "+12125550100", clock.now(), CampaignSettings(dedupe_scope="list"))
        create_campaign(s, "System", "+12125550100", clock.now(), CampaignSettings(dedupe_scope="system"))
    assert import_leads(sessions, "PerList", p, now=clock.now()).accepted == 2
    assert import_leads(sessions, "PerList", p, now=clock.now(), force=True).accepted == 2
    with pytest.raises(UserError, match=r"duplicates of leads already in lists 'a' of campaign 'Spring', 'a' of "
                                        r"campaign 'PerList', 'a \(2\)' of campaign 'PerList'; nothing was stored"):
        import_leads(sessions, "System", p, now=clock.now())
    with sessions() as s:
        assert [x["name"] for x in lists_of(s, "PerList")] == ["a", "a (2)"]
        assert [x["name"] for x in lists_of(s, campaign)] == ["a"] and lists_of(s, "System") == []


@pytest.mark.parametrize("parallel", [False, True], ids=["inline", "child-parser"])
def test_scrubber_hook_stores_suppressed_leads_with_reasons(sessions, campaign, clock, tmp_path, parallel):
    seen = []

    def scrub(candidates):
        seen.extend(candidates)
        return [("internal_dnc", "litigator") if c.e164.endswith("4") else () for c in candidates]

    p = _write(tmp_path, "s.csv", "phone,state,zip\n2125550123,NY,10001\n2125550124,NY,10002\nbad,NY,1\n")
    r = import_leads(sessions, campaign, p, now=clock.now(), scrubber=scrub, parallel=parallel)
    assert (r.rows, r.accepted, r.suppressed, r.rejected) == (3, 1, 1, 1)
    assert r.suppressed_by == {"internal_dnc": 1, "litigator": 1}
    assert [(c.e164, c.state, c.postal_code, c.line) for c in seen] == [
        ("+12125550123", "NY", "10001", 2), ("+12125550124", "NY", "10002", 3)]
    assert all(c.zones for c in seen)
    with sessions() as s:
        lead = s.scalars(select(Lead).where(Lead.phone == "+12125550124")).one()
        assert (lead.status, lead.suppression) == (
            "suppressed", "internal_dnc: On the internal do-not-call list; litigator: On the litigator list")
        assert s.scalars(select(LeadList)).one().suppressed == 1


@pytest.mark.parametrize("text, message", [
    ("phone,name\n", "only a header line"),
    ("\n\n \n", "only blank lines"),
    ("name,city\nAnn,Boston\n", "no phone column"),
])
def test_bad_files_leave_nothing(sessions, campaign, clock, tmp_path, text, message):
    with pytest.raises(UserError, match=message):
        import_leads(sessions, campaign, _write(tmp_path, "x.csv", text), now=clock.now())
    with sessions() as s:
        assert s.scalar(select(func.count()).select_from(LeadList)) == 0


@pytest.mark.parametrize("parallel", [False, True], ids=["inline", "child-parser"])
def test_failure_midway_rolls_back_everything(sessions, campaign, clock, tmp_path, parallel):
    good = "".join(f"A,2125{i:06d}\n" for i in range(25_000))  # past the encoding sniff, several batches
    p = tmp_path / "late.csv"
    p.write_bytes(b"name,phone\n" + good.encode() + "Zo\u00eb,2125559999\n".encode("cp1252"))
    with pytest.raises(UserError, match="late.csv line 25002"):
        import_leads(sessions, campaign, p, now=clock.now(), parallel=parallel)
    with sessions() as s:
        for model in (Lead, LeadList, RejectedRow):
            assert s.scalar(select(func.count()).select_from(model)) == 0


def test_unknown_campaign_and_explicit_list_name(sessions, campaign, clock, tmp_path):
    p = _write(tmp_path, "b.csv", "Tel;Surname\n2125550123;Lee\n")
    with pytest.raises(UserError, match="no campaign named 'Nope'"):
        import_leads(sessions, "Nope", p, now=clock.now())
    r = import_leads(sessions, campaign, p, now=clock.now(), list_name="May vendor", original_filename="may.csv")
    assert r.list_name == "May vendor" and r.source.startswith("semicolon")
    with pytest.raises(UserError, match="already has a list named 'May vendor'"):
        import_leads(sessions, campaign, p, now=clock.now(), list_name="May vendor", force=True)


def test_cli_import_lists_and_rejects(dialer, tmp_path):
    assert dialer("campaigns", "create", "C", "--caller-id", "+12125550100").code == 0
    f = tmp_path / "l.csv"
    f.write_text("name,phone\nA,(212) 456-7890\nB,212.456.7890\nC,123\n")
    r = dialer("leads", "import", str(f), "--campaign", "C", "--json")
    assert r.code == 0, r.err
    out = json.loads(r.out)
    assert {k: out[k] for k in ("rows", "accepted", "duplicates", "rejected", "suppressed")} == {
        "rows": 3, "accepted": 1, "duplicates": 1, "rejected": 1, "suppressed": 0}
    assert len(r.out.strip().splitlines()) == 1
    r = dialer("leads", "import", str(f), "--campaign", "C")
    assert r.code == 2 and r.err.startswith("error: l.csv: this file (same SHA-256)") and "Traceback" not in r.err
    r = dialer("leads", "lists", "--campaign", "C", "--json")
    assert json.loads(r.out)["lists"][0]["rejected"] == 1
    r = dialer("leads", "rejects", "--campaign", "C", "--list", "l", "-o", str(tmp_path / "rej.csv"))
    assert r.code == 0
    assert (tmp_path / "rej.csv").read_text(encoding="utf-8-sig").splitlines()[1].startswith("C,123,impossible")
    r = dialer("leads", "import", str(tmp_path / "missing.csv"), "--campaign", "C")
    assert r.code == 2 and r.err.strip() == "error: missing.csv: no such file"
    r = dialer("leads", "import", str(f), "--campaign", "C", "--map", "phone=Mobile", "--force")
    assert r.code == 2 and "no column 'Mobile'" in r.err


@pytest.mark.slow
def test_child_parser_gives_the_inline_result_row_for_row(sessions, clock, tmp_path):
    """The same generated messy list imported both ways into two campaigns: same counts, leads and rejects."""
    from dialer.demo.listgen import write_list

    path = write_list(tmp_path / "gen.csv", 12_000, seed=3)
    with sessions.begin() as s:
        for name in ("Inline", "Child"):
            create_campaign(s, name, "+12125550100", clock.now())
    a = import_leads(sessions, "Inline", path, now=clock.now(), parallel=False)
    b = import_leads(sessions, "Child", path, now=clock.now(), parallel=True)
    keys = ("rows", "accepted", "duplicates", "rejected", "suppressed", "blank_lines", "source", "mapping")
    assert {k: getattr(a, k) for k in keys} == {k: getattr(b, k) for k in keys}
    assert a.rejected and a.duplicates

    def stored(list_id):
        with sessions() as s:
            leads = [(x.line, x.phone, x.first_name, x.last_name, x.state, x.postal_code, x.timezones, x.custom,
                      x.status) for x in s.scalars(select(Lead).where(Lead.list_id == list_id).order_by(Lead.line))]
            rejects = [(x.line, x.column, x.kind, x.reason, x.raw) for x in
                       s.scalars(select(RejectedRow).where(RejectedRow.list_id == list_id).order_by(RejectedRow.line))]
            return leads, rejects

    assert stored(a.list_id) == stored(b.list_id)
