"""SMB sources in the config, and the jobs that refuse them (no server needed)."""
from __future__ import annotations

import pytest

from dataward.errors import ConfigError, RefusedError
from dataward.settings import load_settings


def _config(home, text: str):
    (home / "dataward.yaml").write_text(text)
    return load_settings()


def test_smb_url_source_and_unc_path(dw_home):
    s = _config(dw_home, "sources:\n - {name: a, path: 'smb://fs01/Staff/Year 6'}\n"
                         " - {name: b, path: '\\\\fs01\\Pupils'}\n")
    assert [(x.kind, x.url, x.path) for x in s.sources] == [
        ("smb", "smb://fs01/Staff/Year 6", None), ("smb", "\\\\fs01\\Pupils", None)]
    from dataward.connectors.smb import SmbUrl
    assert SmbUrl.parse(s.sources[0].url).unc("x.docx") == "\\\\fs01\\Staff\\Year 6\\x.docx"


def test_credentials_in_the_url_are_refused(dw_home):
    s = _config(dw_home, "sources:\n - {name: a, path: 'smb://bob:secret@fs01/Staff'}\n")
    from dataward.connectors.smb import SmbUrl
    with pytest.raises(ConfigError, match="must not hold a user name or password"):
        SmbUrl.parse(s.sources[0].url)


def test_retention_and_packaging_refuse_smb(dw_home):
    s = _config(dw_home, "retention: {leavers_csv: l.csv, image_roots: ['smb://fs01/Photos']}\n"
                         "transfer: {allowed_roots: [/tmp]}\n")
    from dataward.retention.planning import inputs_from
    from dataward.transfer.selection import select_files
    with pytest.raises(RefusedError, match="local folders only"):
        inputs_from(s)
    with pytest.raises(RefusedError, match="SMB share"):
        select_files(["\\\\fs01\\Office\\pay.xlsx"], s)
