"""An edited repository config is damage (exit 6, integrity), not a wrong key (exit 12):
issue 16. The keys are right; the config they authenticate was changed."""
from __future__ import annotations

import json

import pytest
import yaml


@pytest.mark.parametrize("edit", [
    lambda d: d["params"].update({k: (v * 2 if isinstance(v, int) else v)
                                  for k, v in d["params"].items()}),
    lambda d: d["recipients"].append("0" * 40),
    lambda d: d.update(created="2020-01-01T00:00:00+00:00"),
], ids=["params", "recipients", "created"])
def test_an_edited_config_exits_6(cli, dw_home, gpg_home, tmp_path, edit):
    src = tmp_path / "share"
    src.mkdir()
    (src / "a.txt").write_text("attendance notes\n" * 50)
    target = tmp_path / "repo"
    (dw_home / "dataward.yaml").write_text(yaml.safe_dump(
        {"backup": {"recovery_keys": [gpg_home["recovery"]], "gnupghome": gpg_home["home"]}}))
    r = cli("backup", "run", "--target", target, src)
    assert r.exit_code == 0, r.output

    doc = json.loads((target / "config").read_text())
    edit(doc)
    (target / "config").write_text(json.dumps(doc, indent=1))

    r = cli("backup", "run", "--target", target, src)          # the server's own keys
    assert r.exit_code == 6, r.output
    assert "was altered" in " ".join(r.output.split())
    r = cli("backup", "restore", "latest", "--to", tmp_path / "out", "--target", target,
            "--gnupghome", gpg_home["home"])                   # a recovery key
    assert r.exit_code == 6, r.output
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").rglob("a.txt"))
