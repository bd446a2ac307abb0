"""Every format the README lists imports the same three leads, with a progress report to its end (finding 3 of
issue 15: UTF-16 failed at its last progress report, XLSX under any name but ``*.xlsx`` was refused)."""

from __future__ import annotations

import shutil

import pytest
from sqlalchemy import select

from campaigns.campaign.service import create_campaign
from campaigns.leadimport.reader import open_table
from campaigns.leadimport.service import import_leads
from campaigns.leads.models import Lead
from tests.campaigns.leadimport.formats import FORMATS, PHONES, SOURCES, write


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_format_imports_with_progress_to_the_end(sessions, clock, tmp_path, fmt):
    with sessions.begin() as s:
        create_campaign(s, "Spring", "+12125550100", clock.now())
    path = write(fmt, tmp_path)
    reports: list[tuple[int, int, int]] = []
    r = import_leads(sessions, "Spring", path, now=clock.now(), progress=lambda *a: reports.append(a))
    assert (r.rows, r.accepted, r.rejected, r.source) == (3, 3, 0, SOURCES[fmt])
    assert reports and reports[-1][0] == 3  # the last report, after the file's end, still reads the position
    with sessions() as s:
        leads = {ld.phone: (ld.first_name, ld.last_name) for ld in s.scalars(select(Lead))}
        note = s.scalar(select(Lead.custom).where(Lead.phone == "+12127364421"))
    assert leads == PHONES
    assert note == {"Note": "likes calls, after 5"}


@pytest.mark.parametrize("name", ["upload.bin", "leads", "LEADS.XLSX"])
def test_a_workbook_is_read_whatever_its_name(tmp_path, name):
    """The console kept uploads as ``upload.bin``, which openpyxl refuses by name; the content decides."""
    path = tmp_path / name
    shutil.copy(write("xlsx", tmp_path), path)
    table = open_table(path, "leads.xlsx")
    try:
        assert table.kind == "xlsx"
        rows = list(table.rows)
        assert table.bytes_done() == path.stat().st_size
    finally:
        table.close()
    assert rows[1] == (2, ["Zoë", "Müller", "(212) 736-4421", "NY", "likes calls, after 5"])
