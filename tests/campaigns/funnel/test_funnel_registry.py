"""The funnel on a server that does not have the national registry snapshot in force yet: the leads it covers are
counted under ``registry_unavailable`` (as the gate refuses them), a note says why in plain words, and a dialing
host that lacks it is named too."""

from __future__ import annotations

from datetime import timedelta

from campaigns.funnel.result import LABELS
from campaigns.funnel.service import funnel
from campaigns.funnel.sources import forget
from dnc.gate import evaluate
from dnc.registry import Store, generate, load_full
from dnc.registry.upkeep import sync_host
from dnc.tables import RegistryHost

LISTED = "+12125552001"
CLEAN = ["+12125551001", "+12125551002", "+12125551003"]
BOSTON = "+12035552008"  # 203 (Connecticut, no state list of its own): not covered by the registry loaded below


def _setup(session, leads, clock, tmp_path):
    forget()
    a = Store(tmp_path / "host-a", auto_fetch=False)
    path = generate(tmp_path / "registry.txt", 2_000, area_codes=("212", "305"), seed=3, include=[LISTED]).path
    load = load_full(session, a, [path], version_date=clock.now().date(), loaded_by="ops", now=clock.now(),
                     area_codes="212,305")
    for phone in (*CLEAN, LISTED, BOSTON):
        leads.add(phone)
    session.commit()
    return load, Store(tmp_path / "host-b", auto_fetch=False)


def test_leads_wait_for_the_registry_this_server_lacks_and_the_funnel_says_so(session, engine, leads, campaign,
                                                                             clock, tmp_path):
    load, b = _setup(session, leads, clock, tmp_path)
    now = clock.now()
    f = funnel(session, campaign, now, registry=b)
    assert f.blocked == {"registry_unavailable": 4, "registry_stale": 1} and f.dialable == 0 and f.adds_up
    assert f.as_dict()["labels"]["registry_unavailable"] == LABELS["registry_unavailable"] == \
        "national registry not yet on this server"
    assert (f"this server does not have the national registry snapshot in force ({load.generation}): it has not "
            "been fetched yet; the leads it covers wait until it has it") in f.notes
    for lead in leads.all():  # the same verdict as the gate, lead by lead
        d = evaluate(session, lead.phone, campaign=campaign.id, at=now, state=lead.state, registry=b)
        assert d.codes == (("registry_stale",) if lead.phone == BOSTON else ("registry_unavailable",))
    session.commit()  # end the session's read (SQLite's write lock, as in the product) before the fetch
    assert sync_host(engine, b, now).action == "fetched"
    f = funnel(session, campaign, now, registry=b)
    assert f.blocked == {"national_dnc": 1, "registry_stale": 1} and f.dialable == 3
    assert not any("snapshot in force" in n for n in f.notes)


def test_a_dialing_host_without_the_snapshot_in_force_is_named(session, leads, campaign, clock, tmp_path):
    load, _ = _setup(session, leads, clock, tmp_path)
    a = Store(tmp_path / "host-a", auto_fetch=False)
    now = clock.now()
    session.add(RegistryHost(key="dialer-2:/srv/dnc", host="dialer-2", dnc_dir="/srv/dnc", generation=None,
                             in_force=load.generation, state="failed",
                             detail="national.bits: chunk 3 fails its checksum", checked_at=now - timedelta(minutes=1)))
    session.add(RegistryHost(key="old:/srv/dnc", host="old", dnc_dir="/srv/dnc", generation=None, in_force=None,
                             state="failed", detail="gone", checked_at=now - timedelta(days=3)))  # not seen since
    session.add(RegistryHost(key="dialer-1:/srv/dnc", host="dialer-1", dnc_dir="/srv/dnc",
                             generation=load.generation, in_force=load.generation, state="ok", checked_at=now))
    session.commit()
    notes = funnel(session, campaign, now, registry=a).notes
    named = [n for n in notes if n.startswith("host ")]
    assert named == [f"host dialer-2 (/srv/dnc) does not have the national registry snapshot in force "
                     f"({load.generation}): its last fetch failed (national.bits: chunk 3 fails its checksum); its "
                     "gate refuses the numbers that snapshot covers until it has it"]
