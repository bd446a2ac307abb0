"""The migration that rewrites a manager's DNC note saved before notes were stored through ``dnc.reasons.stored``:
``internal_dnc: marked by mia: litigator; national_dnc, asked twice`` read back as two codes, the second one only
words of the note. After the upgrade the note's ';' is a ',' (the current format), so it reads as ``internal_dnc``
alone, its words kept; rows any other writer stored, several reasons among them, are left exactly as they were."""

from __future__ import annotations

from sqlalchemy import text

from dialer.schema.migrate import current, head, upgrade
from dnc.reasons import stored_codes

BEFORE = "r20261207125729"  # the head before the repair
OLD_NOTES = {  # as campaigns.leads.edit.mark_dnc wrote them: f"internal_dnc: marked by {by}: {reason}"[:400]
    "internal_dnc: marked by mia: litigator; national_dnc, asked twice":
        "internal_dnc: marked by mia: litigator, national_dnc, asked twice",
    "internal_dnc: marked by console: said; state_dnc: on file; call never":
        "internal_dnc: marked by console: said, state_dnc: on file, call never",
    "internal_dnc: marked by bob: " + "x" * 340 + "; litigator":
        "internal_dnc: marked by bob: " + "x" * 340 + ", litigator",
}
KEPT = (  # rows of other writers: nothing to repair
    "national_dnc: on the National DNC Registry (area code 212 version 3); litigator: on the litigator list",
    "internal_dnc: on the company internal DNC list (web request; the entry says since when)",
    "internal_dnc: marked by mia: no semicolon, nothing to do",
    "internal_dnc,national_dnc",
)


def _old_floor(engine, suppressions) -> None:
    """A campaign, a list and one closed lead per stored text, written as the older release wrote them."""
    with engine.begin() as conn:
        conn.execute(text(
            "INSERT INTO campaigns (id, name, caller_id, region, timezone, status, pacing_mode, power_ratio, "
            "abandon_target, max_attempts, retry_no_answer_s, retry_busy_s, retry_machine_s, calling_hours, "
            "dedupe_scope, seller_name, callback_number, machine_action, voicemail_message, created_at, updated_at) "
            "VALUES (1, 'Spring', '+12125550100', 'US', 'America/New_York', 'active', 'predictive', 2, 0.03, 5, 1, "
            "1, 1, 'strictest', 'campaign', '', '', 'hangup', '', '2030-01-08', '2030-01-08')"))
        conn.execute(text(
            "INSERT INTO lead_lists (id, campaign_id, name, source_filename, sha256, uploaded_by, uploaded_at, rows, "
            "accepted, duplicates, rejected, suppressed, active) VALUES (1, 1, 'l', 'l.csv', :sha, 'mia', "
            "'2030-01-08', 0, 0, 0, 0, 0, true)"), {"sha": "0" * 64})
        for i, suppression in enumerate(suppressions, start=1):
            conn.execute(text(
                "INSERT INTO leads (id, campaign_id, list_id, line, phone, first_name, last_name, timezones, custom, "
                "status, priority, attempts, suppression, created_at, updated_at) VALUES (:id, 1, 1, :id, :phone, "
                "'', '', '', '{}', 'dnc', 0, 1, :s, '2030-01-08', '2030-01-08')"),
                {"id": i, "phone": f"+1212555{i:04d}", "s": suppression})


def _stored(engine) -> list[str]:
    with engine.connect() as conn:
        return list(conn.execute(text("SELECT suppression FROM leads ORDER BY id")).scalars())


def test_old_dnc_notes_are_rewritten_so_their_words_never_read_as_a_code(old_engine):
    upgrade(old_engine, BEFORE)
    _old_floor(old_engine, [*OLD_NOTES, *KEPT])
    assert stored_codes(next(iter(OLD_NOTES))) == ["internal_dnc", "national_dnc"]  # the defect, as it read
    upgrade(old_engine)
    assert current(old_engine) == {head()}
    after = _stored(old_engine)
    assert after == [*OLD_NOTES.values(), *KEPT]
    assert [stored_codes(s) for s in after[:len(OLD_NOTES)]] == [["internal_dnc"]] * len(OLD_NOTES)
    assert [stored_codes(s) for s in after[len(OLD_NOTES):]] == [stored_codes(s) for s in KEPT]
