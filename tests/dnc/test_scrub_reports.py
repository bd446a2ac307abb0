"""Import scrub (wired into `dialer leads import`), reconciliation as of each call, SLA, CSV safety, CLI shapes."""

from __future__ import annotations

import io
import json
from datetime import UTC, date, datetime, timedelta

from dnc import internal, lists, reports
from dnc.reports import CallRecord
from dnc.scrub import DncScrubber

NOON = datetime(2030, 1, 8, 17, 0, tzinfo=UTC)


class Cand:
    def __init__(self, e164, state=None, postal=None, zones=("America/New_York",), line=1):
        self.e164, self.state, self.postal_code, self.zones, self.line = e164, state, postal, zones, line


def test_scrub_every_source_and_ledger_record(sessions, session, registry, clock, tmp_path):
    store = registry("+12125554101")
    internal.add_request(session, "+12125554102", channel="mail", received_at=NOON, added_by="clerk")
    lit = tmp_path / "lit.txt"
    lit.write_text("2125554103,plaintiff\n")
    lists.load_list(session, "litigator", lit, version_date=date(2030, 1, 1), loaded_by="t", now=NOON)
    session.commit()
    scrub = DncScrubber(sessions, campaign=lambda s: 1, at=NOON + timedelta(hours=1), operator="ops", store=store)
    out = scrub([Cand("+12125554100"), Cand("+12125554101"), Cand("+12125554102"), Cand("+12125554103"),
                 Cand("+13055554100", "FL", zones=("America/New_York",)), Cand("+12125554104", zones=()),
                 Cand("+19995554100")])
    assert out == [(), ("national_dnc",), ("internal_dnc",), ("litigator",), ("autodialer_no_consent",),
                   ("unknown_zone",), ("invalid_number",)]  # 999 is not an area code in service
    with sessions.begin() as s:
        scrub.record(s, list_ref="c/list", file_sha256="ab")
    with sessions() as s:
        rows = reports.scrub_ledger(s)
    row = next(r for r in rows if r["kind"] == "lead list")
    assert row["rows"] == 7 and row["suppressed"] == 6 and "litigator: 1" in row["by_reason"]
    assert "national g" in row["sources"] and "litigator" in row["sources"]


def test_reconcile_is_bitemporal(session, registry, clock):
    store = registry()
    n = "+12125554150"
    calls = [CallRecord(n, NOON, 1, ref="a")]
    internal.add_request(session, n, channel="web", received_at=NOON + timedelta(hours=1), added_by="web")
    calls += [CallRecord(n, NOON + timedelta(hours=2), 1, ref="b"),  # after the request: a violation
              CallRecord("+12125554151", NOON + timedelta(hours=10), 1, ref="c"),  # 22:00 in New York
              CallRecord("+12125554152", NOON - timedelta(days=30), 1, ref="d")]  # before any registry load
    rows = {r["call"]: r for r in reports.reconcile(session, calls, store)}
    assert set(rows) == {"b", "c", "d"}
    assert rows["b"]["codes"] == "internal_dnc" and rows["c"]["codes"] == "outside_window"
    assert "registry_stale" in rows["d"]["codes"]
    assert [r["call"] for r in reports.window_exceptions(session, calls, store)] == ["c"]


def test_florida_cap_in_reconciliation(session, registry):
    store = registry()
    from dnc import consent

    n = "+13055554199"
    consent.add(session, n, kind="pewc", granted_at=NOON - timedelta(days=2), evidence_ref="f", added_by="t",
                recorded_at=NOON)
    calls = [CallRecord(n, NOON + timedelta(hours=h), 1, ref=str(h)) for h in range(4)]
    rows = reports.reconcile(session, calls, store)
    assert [(r["call"], r["codes"]) for r in rows] == [("3", "state_cap")]


def test_sla_and_formula_safe_csv(session, clock):
    internal.add_request(session, "+12125554160", channel="mail", received_at=NOON - timedelta(days=20),
                         added_by="clerk", recorded_at=NOON, reason="=cmd|' /C calc'!A0")
    internal.add_request(session, "+12125554161", channel="keypress", received_at=NOON, added_by="caller")
    internal.remove(session, "+12125554161", removed_by="compliance", reason="@mistyped", at=NOON)
    out = reports.sla(session)
    assert out["breaches"] == 1
    assert {c["channel"]: c["breaches"] for c in out["channels"]} == {"keypress": 0, "mail": 1}
    assert out["removals"][0]["removed_by"] == "compliance"
    buf = io.StringIO()
    reports.write_csv(out["removals"], buf)
    assert ",'@mistyped" in buf.getvalue()


def test_cli_check_add_history_and_import_suppressed(dialer, sessions, registry, tmp_path, clock):
    registry("+12125554101")
    assert dialer("campaigns", "create", "c1", "--caller-id", "+12125554100").code == 0
    r = dialer("dnc", "check", "+12125554101", "--campaign", "c1", "--at", "2030-01-08T17:00:00Z", "--json")
    out = json.loads(r.out)
    assert r.code == 0 and out["allowed"] is False and out["codes"] == ["national_dnc"]
    r = dialer("dnc", "check", "212-555-4100", "--at", "2030-01-08T17:00:00Z", "--json")
    assert json.loads(r.out)["allowed"] is True
    assert dialer("dnc", "add", "2125554100", "--channel", "web", "--reason", "asked").code == 0
    r = dialer("dnc", "check", "2125554100", "--at", "2099-01-08T17:00:00Z", "--json")
    assert "internal_dnc" in json.loads(r.out)["codes"]
    r = dialer("dnc", "remove", "2125554100", "--reason", "")
    assert r.code == 2 and "needs a reason" in r.err
    r = dialer("dnc", "check", "12", "--json")  # no number at all: the gate's documented invalid_number decision
    assert r.code == 0 and json.loads(r.out)["codes"] == ["invalid_number"]
    (tmp_path / "l.csv").write_text("name,phone\nA,(212) 555-4101\nB,212.555.4199\nC,123\n")
    r = dialer("leads", "import", str(tmp_path / "l.csv"), "--campaign", "c1", "--json")
    out = json.loads(r.out)
    assert (out["accepted"], out["suppressed"], out["suppressed_by"]) == (1, 1, {"national_dnc": 1})
    r = dialer("dnc", "report", "scrubs", "--json")
    assert any(row["kind"] == "lead list" and row["suppressed"] == 1 for row in json.loads(r.out)["rows"])
    r = dialer("dnc", "history", "+12125554100", "--json")
    assert [row["kind"] for row in json.loads(r.out)["rows"]] == ["internal_add"]
    assert dialer("audit", "verify").code == 0


def test_consent_file_is_all_or_nothing(dialer, tmp_path):
    f = tmp_path / "c.csv"
    f.write_text("number,kind,granted_at,evidence\n2125554100,pewc,2030-01-01T00:00:00Z,form 1\n"
                 "2125554101,ebr_purchase,2030-01-01,receipt\n")
    r = dialer("dnc", "load-consents", str(f))
    assert r.code == 2 and "line 3" in r.err and "offset" in r.err
    f.write_text("2125554100,pewc,2030-01-01T00:00:00Z,form 1\n2125554101,ebr_purchase,2030-01-01T00:00Z,r\n")
    r = dialer("dnc", "load-consents", str(f), "--json")
    assert r.code == 0 and json.loads(r.out)["recorded"] == 2
