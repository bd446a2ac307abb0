"""Compliance → Texts received: every text people sent to our numbers, newest first, paginated, with the number,
the time, the words and what it did (a DNC request made, re-admitted, nothing), for the compliance officer and the
admin. Texts from short codes, other countries or a name are kept but have no North American number, so no
number's history shows them: this page lists them too, marked."""

from __future__ import annotations

import pytest

from campaigns.compliance import sms

SENDER = "+12125554111"
US = "+12125550100"


def receive(sessions, clock, *texts: tuple[str, str]) -> None:
    """``texts``: (sender, body), one a minute, in the order given."""
    with sessions() as s:
        for i, (sender, body) in enumerate(texts):
            clock.advance(60)
            sms.receive(s, provider="twilio", message_sid=f"SM{clock.now():%H%M}{i:06d}", sender=sender, to=US,
                        body=body, now=clock.now())
        s.commit()


def rows(html: str) -> list[str]:
    body = html.split('<tbody>', 1)[1].split('</tbody>', 1)[0]
    return [r for r in body.split("<tr")[1:]]


def test_the_page_lists_texts_newest_first_with_what_each_did(client, auth, sessions, clock):
    receive(sessions, clock, (SENDER, "Who is this?"), (SENDER, "STOP"), (SENDER, "Start"),
            ("72345", "STOP"), ("+442071234567", "stop please"), ("ACME", "<b>hi</b>"))
    auth.login("compliance")
    r = client.get("/compliance/texts")
    html = r.get_data(as_text=True)
    assert r.status_code == 200
    listed = rows(html)
    assert len(listed) == 6
    assert "&lt;b&gt;hi&lt;/b&gt;" in listed[0] and "not a phone number" in listed[0]  # escaped, marked
    assert "+442071234567" in listed[1] and "outside North America" in listed[1] and "nothing done" in listed[1]
    assert "72345" in listed[2] and "short code" in listed[2]
    assert "Start" in listed[3] and "Re-admitted" in listed[3]
    assert "STOP" in listed[4] and "DNC request made" in listed[4]
    assert "Who is this?" in listed[5] and "Nothing" in listed[5]
    assert SENDER in listed[5] and f"/compliance/lookup?number=%2B{SENDER[1:]}" in listed[5]
    assert "2030-01-08 15:01" in listed[5]  # the time it arrived


def test_a_start_with_nothing_to_lift_says_so(client, auth, sessions, clock):
    receive(sessions, clock, (SENDER, "START"))
    auth.login("compliance")
    (row,) = rows(client.get("/compliance/texts").get_data(as_text=True))
    assert "nothing to lift" in row


def test_the_page_is_paginated(client, auth, sessions, clock):
    receive(sessions, clock, *[(SENDER, f"text number {i}") for i in range(55)])
    auth.login("compliance")
    first = client.get("/compliance/texts").get_data(as_text=True)
    assert len(rows(first)) == 50 and "text number 54" in rows(first)[0] and "Page 1 of 2" in first
    assert 'href="/compliance/texts?page=2"' in first
    second = client.get("/compliance/texts?page=2").get_data(as_text=True)
    assert len(rows(second)) == 5 and "text number 4" in rows(second)[0] and "text number 0" in rows(second)[-1]
    assert client.get("/compliance/texts?page=99").status_code == 200  # past the end: an empty page, no error
    assert client.get("/compliance/texts?page=x").status_code == 200


def test_no_texts_says_so_and_the_navigation_links_the_page(client, auth):
    auth.login("compliance")
    html = client.get("/compliance/texts").get_data(as_text=True)
    assert "No text has been received" in html
    assert 'href="/compliance/texts"' in client.get("/compliance/").get_data(as_text=True)


@pytest.mark.parametrize("role", ["manager", "agent", "sales"])
def test_only_the_compliance_officer_and_the_admin_see_texts(client, auth, role):
    auth.login(role)
    assert client.get("/compliance/texts").status_code == 403


def test_the_admin_sees_texts(client, auth, sessions, clock):
    receive(sessions, clock, (SENDER, "STOP"))
    auth.login("admin")
    assert client.get("/compliance/texts").status_code == 200


def test_a_stop_row_says_when_and_by_which_text_a_later_start_lifted_it(client, auth, sessions, clock):
    receive(sessions, clock, (SENDER, "STOP"), (SENDER, "Unstop"), ("+12125554112", "stop"))
    auth.login("compliance")
    other, start, stop = rows(client.get("/compliance/texts").get_data(as_text=True))
    assert "Re-admitted" in start
    assert "Lifted 2030-01-08 15:02" in stop and "by the text “Unstop”" in stop  # when, and by which text
    assert "Lifted" not in other  # a STOP still in force says nothing of the kind


def test_a_stop_row_says_when_an_officer_lifted_it(client, auth, sessions, clock):
    from dnc import internal

    receive(sessions, clock, (SENDER, "STOP"))
    with sessions() as s:
        clock.advance(3600)
        internal.remove(s, SENDER, removed_by="cara", reason="texted by mistake, confirmed by phone", at=clock.now())
        s.commit()
    auth.login("compliance")
    (stop,) = rows(client.get("/compliance/texts").get_data(as_text=True))
    assert "Lifted 2030-01-08 16:01" in stop and "by cara" in stop and "confirmed by phone" in stop


def test_a_repeated_stop_names_the_request_it_repeats(client, auth, sessions, clock):
    receive(sessions, clock, (SENDER, "STOP"), (SENDER, "stop please"))
    auth.login("compliance")
    repeat, first = rows(client.get("/compliance/texts").get_data(as_text=True))
    assert "DNC request made" in first and "request #1" in first
    assert "Repeat" in repeat and "request #1" in repeat and "DNC request made" not in repeat
