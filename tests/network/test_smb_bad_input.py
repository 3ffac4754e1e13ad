"""Bad input on a real SMB share, each a status with a reason, nothing lost, and the next
scan recovers: a share removed from the server in the middle of a scan, and permissions
naming an account the directory does not know. (A wrong password, a locked file and a
folder moved away mid-scan are in test_smb_scan; an expired ticket in test_kerberos.)"""
from __future__ import annotations

from pathlib import Path

import pyarrow.parquet as pq

from dataward.pipelines.scan import run_scan
from dataward.settings import load_settings

from .conftest import UNKNOWN_SID, YEAR6, _file
from .samba_dc import FULL, READ


def _items(result) -> dict[str, dict]:
    return {r["path"]: r for r in pq.read_table(Path(result.out_dir) / "items.parquet").to_pylist()}


def test_share_removed_from_the_server_mid_scan(net_home, samba_dc):
    settings = load_settings()
    good = _items(run_scan(settings, full=True))
    conf = samba_dc.conf.read_text()
    share_block = conf[conf.index("\n[School]"):]
    removed: list[bool] = []

    def remove_share(p) -> None:
        # What an administrator does on the server: the share's definition goes, and the
        # clients connected to it are cut off.
        if p.phase == "reading" and not removed:
            samba_dc.conf.write_text(conf.replace(share_block, "\n"))
            samba_dc.smbcontrol("reload-config")
            samba_dc.smbcontrol("close-share", "School")
            removed.append(True)

    try:
        during = run_scan(settings, full=True, progress=remove_share)
        rows = _items(during)
        failed = [r for r in rows.values() if r["status"] == "error"]
        assert removed and failed
        assert all("share was removed" in r["error"] or "share is not there" in r["error"]
                   for r in failed), sorted({r["error"] for r in failed})
        assert set(rows) == set(good) and during.removed == 0
        gone = run_scan(settings)                  # the next night: the share is still gone
        assert gone.status == "partial" and "share is not there" in gone.unavailable["school"]
        assert set(_items(gone)) == set(good) and gone.removed == 0
    finally:
        samba_dc.conf.write_text(conf)
        samba_dc.smbcontrol("reload-config")
    back = run_scan(settings)
    rows = _items(back)
    assert not back.unavailable and set(rows) == set(good)
    assert all(r["status"] == "ok" for r in rows.values() if not r["path"].endswith("locked.txt"))


def test_unknown_sid_is_noted_and_cleared_once_the_permission_is_fixed(net_home, samba_dc):
    settings = load_settings()
    target = samba_dc.unc("Year 6", "unknown sid.txt")
    first = _items(run_scan(settings))[target]
    assert first["status"] == "ok" and UNKNOWN_SID in first["error"]
    assert first["audience"] == "pupils"          # from the readers the directory names
    plain = _file(YEAR6.replace("{F}", FULL).replace("{R}", READ))
    samba_dc.set_acl("Year 6/unknown sid.txt", plain)
    try:
        # Samba reports the last write as the change time, so a permission change alone is
        # seen by a full scan (Windows moves the change time and the nightly scan sees it).
        fixed = run_scan(settings, full=True)
        row = _items(fixed)[target]
    finally:
        samba_dc.set_acl("Year 6/unknown sid.txt", f"(A;;{READ};;;{UNKNOWN_SID})" + plain)
    assert row["status"] == "ok" and row["error"] == "" and UNKNOWN_SID not in row["readers"]
    assert row["audience"] == "pupils"
