"""Fixtures of the asset tests: a state folder whose config names the school's real
gpg signing key, an imported inventory, and the real nwipe sample logs."""
from __future__ import annotations

from pathlib import Path

import pytest

from tests.samples import SAMPLES

NWIPE = SAMPLES / "nwipe-generated"


class NwipeLogs:
    """The real nwipe 0.34 logs of the shared samples."""

    ZERO_OK = NWIPE / "nwipe-0.34_zero_verify-last_success.log"
    DOD_OK = NWIPE / "nwipe-0.34_dodshort_verify-all_quiet-anonymised_success.log"
    VERIFY_OK = NWIPE / "nwipe-0.34_verify-zero_success.log"
    VERIFY_FAILED = NWIPE / "nwipe-0.34_verify-zero_FAILED.log"
    ABORTED = NWIPE / "nwipe-0.34_regular-file_not-block-device_UABORTED.log"


@pytest.fixture(scope="session")
def logs() -> type[NwipeLogs]:
    return NwipeLogs


INVENTORY = """\
Asset Tag,TYPE,Make,Model,Serial Number,Storage-Serials,Location,Assigned To,Purchase Date
OAK-0042,laptop,Dell,Latitude 5420,7XK2L53,S4EWNX0R123456,Staff room,Ms Imogen Thornbury,01/09/2021
OAK-0043,desktop,HP,ProDesk 400 G7,CZC1234XYZ,WD-WX12A3456789;S5GENX0T999111,ICT suite,,2020-03-15
OAK-0100,monitor,Iiyama,ProLite E2483HS,1172A0000123,,ICT suite,,
"""


@pytest.fixture
def signing_env(dw_home: Path, gpg_home: dict[str, str],
                monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """dw_home plus config naming the school's signing key in the test keyring."""
    monkeypatch.setenv("DATAWARD_ASSETS__SIGNING_KEY", gpg_home["school"])
    monkeypatch.setenv("DATAWARD_ASSETS__GNUPG_HOME", gpg_home["home"])
    return {"home": str(dw_home), "gnupghome": gpg_home["home"],
            "school": gpg_home["school"], "recovery": gpg_home["recovery"]}


@pytest.fixture
def inventory(tmp_path: Path) -> Path:
    p = tmp_path / "inventory.csv"
    p.write_text(INVENTORY, encoding="utf-8")
    return p


@pytest.fixture
def registered(cli, signing_env, inventory) -> dict[str, str]:
    """The three inventory assets imported into the register."""
    r = cli("assets", "import", inventory)
    assert r.exit_code == 0, r.output
    return signing_env
