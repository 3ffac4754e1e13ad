"""The backup flows run under a real Prefect server (test harness) and return summaries."""
from __future__ import annotations

import json

import yaml

from dataward.ledger import Ledger
from dataward.backup.records import last_restore_test
from dataward.settings import load_settings


def test_nightly_backup_weekly_verify_and_termly_restore_test(prefect_harness, dw_home, gpg_home,
                                                              tmp_path):
    from dataward.flows.backup import (
        nightly_backup, termly_restore_test, weekly_prune, weekly_verify,
    )
    src = tmp_path / "share"
    (src / "SEN").mkdir(parents=True)
    (src / "SEN" / "EHCP Priya Sharma.txt").write_bytes(b"EHCP review for Priya Sharma\n" * 300)
    (src / "timetable.txt").write_bytes(b"period 1 maths\n" * 300)
    cfg = {"backup": {"paths": [str(src)], "recovery_keys": [gpg_home["recovery"]],
                      "gnupghome": gpg_home["home"], "chunk_avg_kib": 64, "keep_last": 1,
                      "keep_daily": 0, "keep_weekly": 0, "keep_monthly": 0, "keep_yearly": 0,
                      "targets": [{"name": "usb", "url": str(tmp_path / "usb")}]}}
    config = dw_home / "dataward.yaml"
    config.write_text(yaml.safe_dump(cfg))

    rows = nightly_backup(str(config))
    assert len(rows) == 1 and rows[0]["target"] == "usb" and rows[0]["files"] == 2
    again = nightly_backup(str(config))
    assert again[0]["unchanged"] == 2 and again[0]["bytes_new"] == 0
    checked = weekly_verify(str(config), read_data=100.0)
    assert checked[0]["ok"] and checked[0]["packs_read"] >= 1
    test = termly_restore_test(str(config), files=2)
    assert test["status"] == "passed" and test["matched"] == 2
    # The weekly prune verifies first, then applies the policy (keep the newest one).
    pruned = weekly_prune(str(config), read_data=100.0)
    assert pruned[0]["snapshots_deleted"] == 1 and pruned[0]["packs_deleted"] == 0
    from dataward.backup.service import backup_list
    assert len(backup_list(load_settings(config))[0][1]) == 1
    # Summaries only: nothing a flow returns names a file or holds content.
    returned = json.dumps([rows, again, checked, test, pruned])
    assert "Priya" not in returned and "EHCP" not in returned and "timetable" not in returned
    with Ledger(load_settings(config).ledger_url) as ledger:
        assert last_restore_test(ledger).status == "passed"
