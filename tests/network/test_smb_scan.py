"""Scanning an SMB share in place on a real Samba domain controller: permissions decide
the audience, paths are shown as the school sees them, rescans reuse unchanged items."""
from __future__ import annotations

from pathlib import Path

import pyarrow.parquet as pq

from dataward.pipelines.scan import run_scan
from dataward.settings import load_settings

from .conftest import ODD_NAMES, SPELLING, UNKNOWN_SID
from .samba_dc import ADMIN_PASS, SVC_PASS


def _items(result) -> dict[str, dict]:
    rows = pq.read_table(Path(result.out_dir) / "items.parquet").to_pylist()
    return {r["path"]: r for r in rows}


def test_scan_reads_permissions_over_smb(net_home, samba_dc):
    settings = load_settings()
    result = run_scan(settings)
    items = _items(result)
    plan = items[samba_dc.unc("Year 6", "Health", "care plan.txt")]
    assert plan["status"] == "ok", plan["error"]
    assert plan["locator"] == f"smb://{samba_dc.addr}/School/Year%206/Health/care%20plan.txt"
    assert plan["audience"] == "pupils"
    assert plan["special_category"] is True
    assert plan["risk_level"] == "critical"
    assert "Pupils" in plan["readers"].split(", ")
    assert f"Pupils: {samba_dc.unc('Year 6')}" in plan["readers_from"]
    assert f"Staff: {samba_dc.unc()}" in plan["readers_from"]
    payroll = items[samba_dc.unc("Office", "payroll.txt")]
    assert payroll["audience"] == "admin"
    assert f"Office: {samba_dc.unc('Office')}" in payroll["readers_from"]
    assert "Staff" not in payroll["readers"]
    sen = items[samba_dc.unc("Staff", "SEN register.txt")]
    assert sen["audience"] == "staff" and sen["special_category"] is True
    # Who can open it weighs the risk: the staff-only register scores below the care plan
    # pupils can read, although it holds as much.
    assert sen["risk_score"] < plan["risk_score"]


    odd = [r for p, r in items.items() if "\\odd\\" in p]
    assert sorted(p.rsplit("\\", 1)[1] for p in items if "\\odd\\" in p) == sorted(ODD_NAMES)
    assert all(r["status"] == "ok" for r in odd)
    unknown = items[samba_dc.unc("Year 6", "unknown sid.txt")]
    assert unknown["status"] == "ok" and UNKNOWN_SID in unknown["error"]
    assert UNKNOWN_SID in unknown["readers"] and unknown["audience"] == "pupils"
    assert result.errors == 0


def test_unchanged_rescan_reads_nothing_and_a_write_is_read_again(net_home, samba_dc):
    settings = load_settings()
    first = run_scan(settings)
    again = run_scan(settings)
    assert again.read == 0 and again.reused == first.items
    target = samba_dc.share / "Year 6" / "spelling.txt"
    target.write_text(SPELLING + "Extra words: rhythm.\n")
    third = run_scan(settings)
    assert third.read == 1 and third.changed == 1
    target.write_text(SPELLING)


def _open_sessions(samba_dc):
    import smbclient
    cache: dict = {}
    smbclient.register_session(samba_dc.addr, username="Administrator@oakfield.test",
                               password=ADMIN_PASS, connection_cache=cache)
    return smbclient, cache


def test_file_locked_by_another_client_is_an_error_then_read_next_scan(net_home, samba_dc):
    settings = load_settings()
    smbclient, cache = _open_sessions(samba_dc)
    locked = samba_dc.unc("Year 6", "locked.txt")
    with smbclient.open_file(locked, mode="rb", share_access=None, connection_cache=cache):
        during = _items(run_scan(settings))
    row = during[locked]
    assert row["status"] == "error" and "locked" in row["error"]
    assert len(during) == len(_items(run_scan(settings)))  # nothing lost
    assert _items(run_scan(settings))[locked]["status"] == "ok"
    smbclient.reset_connection_cache(connection_cache=cache)


def test_wrong_password_is_a_status_and_keeps_the_last_results(net_home, samba_dc):
    settings = load_settings()
    good = _items(run_scan(settings))
    (net_home / "secrets" / "smb.pass").write_text("not-the-password\n")
    bad = run_scan(load_settings())
    rows = _items(bad)
    assert bad.status == "partial"
    assert "wrong user name or password" in bad.unavailable["school"]
    assert set(good) <= set(rows)  # every item of the last scan is still there
    assert bad.removed == 0
    (net_home / "secrets" / "smb.pass").write_text(SVC_PASS + "\n")
    after = _items(run_scan(load_settings()))
    assert samba_dc.unc() not in after and set(after) == set(good)


def test_a_password_file_others_can_read_is_refused(net_home, samba_dc):
    (net_home / "secrets" / "smb.pass").chmod(0o644)
    result = run_scan(load_settings())
    assert "can be read by others" in result.unavailable["school"]
    (net_home / "secrets" / "smb.pass").chmod(0o600)


def test_share_folder_disappearing_mid_scan(net_home, samba_dc):
    settings = load_settings()
    good = _items(run_scan(settings, full=True))
    moved = []

    def progress(p):
        if p.phase == "reading" and not moved:
            (samba_dc.share / "Year 6").rename(samba_dc.share / "Year 6 (moved)")
            moved.append(True)

    try:
        during = _items(run_scan(settings, full=True, progress=progress))
    finally:
        (samba_dc.share / "Year 6 (moved)").rename(samba_dc.share / "Year 6")
    failed = [r for r in during.values() if r["status"] == "error"]
    assert failed and all("disappeared" in r["error"] for r in failed)
    assert set(during) == set(good)
    after = _items(run_scan(settings))
    assert all(r["status"] == "ok" for r in after.values())


def test_nested_groups_and_a_pupils_own_account_count_as_pupils(net_home, samba_dc):
    """No ACE on Clubs names Pupils: Lunch Club is in Clubs, which is in Pupils, and the
    directory (not the config) says so; ella.txt is readable by one pupil's account."""
    items = _items(run_scan(load_settings()))
    nested = items[samba_dc.unc("Clubs", "allergies.txt")]
    assert nested["status"] == "ok" and nested["special_category"] is True
    assert nested["audience"] == "pupils" and nested["risk_level"] == "critical"
    assert "Lunch Club (member of Pupils)" in nested["readers"].split(", ")
    assert f"Lunch Club (member of Pupils): {samba_dc.unc('Clubs')}" in nested["readers_from"]
    own = items[samba_dc.unc("Clubs", "ella.txt")]
    assert own["audience"] == "pupils" and own["risk_level"] == "critical"
    assert "ebrown (member of Pupils)" in own["readers"].split(", ")


def test_a_membership_changed_in_the_directory_counts_at_the_next_scan(net_home, samba_dc):
    import ldap3

    from .samba_dc import BASE_DN
    settings = load_settings()
    run_scan(settings)
    conn = samba_dc.ldap()
    clubs, pupils = f"CN=Clubs,CN=Users,{BASE_DN}", f"CN=Pupils,CN=Users,{BASE_DN}"
    conn.modify(pupils, {"member": [(ldap3.MODIFY_DELETE, [clubs])]})
    try:
        # No file changed; the memberships did, so the incremental scan reads again.
        changed = run_scan(settings)
        row = _items(changed)[samba_dc.unc("Clubs", "allergies.txt")]
        assert changed.read == changed.items and changed.reused == 0
        assert run_scan(settings).read == 0           # and reuses again once they hold still
    finally:
        conn.modify(pupils, {"member": [(ldap3.MODIFY_ADD, [clubs])]})
        conn.unbind()
    assert row["audience"] == "staff"           # the source's own: no mapped group reads it
    assert row["readers"].split(", ").count("Lunch Club") == 1
