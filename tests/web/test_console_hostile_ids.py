"""Numbers in forms that are no numbers ("²" is a digit to str.isdigit(), not to int()): refused in words, never a
server error. The list mix of a campaign and the scope of an internal DNC entry, over real forms with CSRF."""

from __future__ import annotations

from tests.web.test_console_leads import floor  # noqa: F401  (the lead tests' fixture: campaign Spring, two lists)


def test_a_list_weight_written_as_a_superscript_is_refused_in_words(client, auth, floor):  # noqa: F811
    auth.login("manager")
    page = f"/campaigns/{floor['campaign']}/lists/"
    r = auth.post(f"{page}mix", {"mode": "weights", f"value-{floor['april']}": "²", f"value-{floor['may']}": "40"},
                  page=page)
    assert r.status_code == 400 and "as a whole number" in r.get_data(as_text=True)


def test_a_dnc_scope_naming_no_campaign_id_is_not_a_server_error(client, auth, floor):  # noqa: F811
    auth.login("compliance")
    r = auth.post("/compliance/dnc/add", {"number": "(212) 736-4421", "scope": "campaign:²", "channel": "phone"},
                  page="/compliance/lookup")
    assert r.status_code in (302, 400), r.status_code
