"""The sales lead's list of reports reads as sentences: some descriptions started in lower case with no full stop
("agents ranked by closes, then conversion", "every dial by how it ended") between ones that were sentences (found
opening the reports on the demo as the sales lead)."""

from __future__ import annotations

import re

from campaigns.campaign.service import create_campaign


def test_every_report_is_described_in_a_sentence(client, auth, sessions, clock):
    with sessions() as s:
        create_campaign(s, "Spring", "+12125550100", clock.now())
        s.commit()
    auth.login("sales")
    html = client.get("/reports/").get_data(as_text=True)
    about = re.findall(r'<td class="muted">([^<]*)</td>', html)
    assert len(about) > 10
    assert [a for a in about if not (a.lstrip("(")[:1].isupper() and a.rstrip().endswith((".", ")")))] == []
