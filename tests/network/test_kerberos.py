"""Kerberos against the real domain controller's KDC: a share scanned and the directory
read with the service account's ticket (from the ticket cache kinit filled, or from a
keytab), no password anywhere; an expired ticket is a status with the reason, the last
results are kept, and the scan after a renewal reads the share again."""
from __future__ import annotations

import shutil
import subprocess
import time
from pathlib import Path

import pyarrow.parquet as pq
import pytest
import yaml

from dataward.connectors.directory import find_directory, read_directory
from dataward.errors import TransientError
from dataward.pipelines.scan import run_scan
from dataward.settings import load_settings


def _items(result) -> dict[str, dict]:
    return {r["path"]: r for r in pq.read_table(Path(result.out_dir) / "items.parquet").to_pylist()}


@pytest.fixture
def krb_home(net_home: Path, kerberos, monkeypatch, tmp_path: Path) -> Path:
    """The network config with Kerberos for the share and the directory, and no password
    file or variable at all. Returns the ticket cache the process uses (empty)."""
    cache = tmp_path / "ccache"
    monkeypatch.setenv("KRB5_CONFIG", str(kerberos.conf))
    monkeypatch.setenv("KRB5CCNAME", f"FILE:{cache}")
    for var in ("DATAWARD_SMB_PASSWORD", "DATAWARD_LDAP_PASSWORD"):
        monkeypatch.delenv(var, raising=False)
    shutil.rmtree(net_home / "secrets")
    cfg_path = net_home / "dataward.yaml"
    cfg = yaml.safe_load(cfg_path.read_text())
    cfg["smb"] = {"auth": "kerberos", "directory": "ad"}
    cfg["accounts"]["directories"][0] = {"name": "ad", "kind": "ldap", "auth": "kerberos",
                                         "url": cfg["accounts"]["directories"][0]["url"]}
    cfg_path.write_text(yaml.safe_dump(cfg, allow_unicode=True))
    return cache


def _use_keytab(home: Path, kerberos, tmp_path: Path) -> Path:
    keytab = tmp_path / "dataward.keytab"
    shutil.copy(kerberos.keytab, keytab)
    keytab.chmod(0o600)
    cfg_path = home / "dataward.yaml"
    cfg = yaml.safe_load(cfg_path.read_text())
    cfg["smb"].update(keytab=str(keytab), username=kerberos.principal)
    cfg["accounts"]["directories"][0].update(keytab=str(keytab), bind_user=kerberos.principal)
    cfg_path.write_text(yaml.safe_dump(cfg, allow_unicode=True))
    return keytab


def test_scan_and_directory_with_the_ticket_kinit_left_in_the_cache(krb_home, net_home, kerberos, samba_dc):
    kerberos.kinit(krb_home)
    result = run_scan(load_settings())
    items = _items(result)
    assert result.status == "complete" and not result.unavailable
    plan = items[samba_dc.unc("Year 6", "Health", "care plan.txt")]
    assert plan["status"] == "ok" and plan["error"] == ""   # group names came over LDAP too
    assert plan["audience"] == "pupils" and plan["risk_level"] == "critical"
    assert "Pupils" in plan["readers"].split(", ")
    tickets = kerberos.klist(krb_home).stdout
    assert f"cifs/{samba_dc.addr}@" in tickets and f"ldap/{samba_dc.addr}@" in tickets
    accounts = read_directory(find_directory(load_settings(), "ad"))
    assert {"ebrown", "svc-dataward"} <= {a.login for a in accounts}


def test_keytab_logs_on_without_a_ticket_cache_and_is_checked_like_a_password_file(
        krb_home, net_home, kerberos, samba_dc, tmp_path):
    keytab = _use_keytab(net_home, kerberos, tmp_path)
    result = run_scan(load_settings())
    assert result.status == "complete" and not result.unavailable
    assert _items(result)[samba_dc.unc("Office", "payroll.txt")]["audience"] == "admin"
    assert not krb_home.exists()        # the tickets stayed in memory
    keytab.chmod(0o644)
    refused = run_scan(load_settings())
    assert "can be read by others" in refused.unavailable["school"]


def _wait_expired(kerberos, cache: Path) -> None:
    deadline = time.monotonic() + 60
    while subprocess.run(["klist", "-s", "-c", f"FILE:{cache}"], env=kerberos.env(cache),
                         check=False).returncode == 0:
        assert time.monotonic() < deadline, "the short ticket did not expire"
        time.sleep(1)


def test_expired_ticket_is_a_status_keeps_the_results_and_a_renewal_recovers(
        krb_home, kerberos, samba_dc):
    kerberos.kinit(krb_home)
    good = _items(run_scan(load_settings()))
    kerberos.kinit(krb_home, lifetime="5s")
    _wait_expired(kerberos, krb_home)
    bad = run_scan(load_settings())
    assert bad.status == "partial"
    assert "Kerberos ticket has expired" in bad.unavailable["school"]
    assert set(good) <= set(_items(bad)) and bad.removed == 0       # nothing lost
    with pytest.raises(TransientError, match="Kerberos ticket has expired"):
        read_directory(find_directory(load_settings(), "ad"))
    kerberos.kinit(krb_home)                                         # cron's kinit -k -t
    after = run_scan(load_settings())
    assert not after.unavailable and set(_items(after)) == set(good)


def test_no_ticket_at_all_says_so(krb_home, samba_dc):
    result = run_scan(load_settings())
    assert "no Kerberos ticket" in result.unavailable["school"]
