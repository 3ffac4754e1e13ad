"""Inventory CSV import: all rows or none, bad rows named by line, flexible headers."""
from __future__ import annotations

from pathlib import Path

import pytest


def flat(text: str) -> str:
    return " ".join(text.split())  # undo Rich's line wrapping



def _write(tmp_path: Path, text: str, name: str = "inv.csv", encoding: str = "utf-8") -> Path:
    p = tmp_path / name
    p.write_bytes(text.encode(encoding))
    return p


def _tags(cli) -> list[str]:
    r = cli("assets", "list")
    assert r.exit_code == 0, r.output
    return [line.split("│")[1].strip() for line in r.stdout.splitlines()
            if line.startswith("│")]


@pytest.mark.parametrize("header", [
    "asset_tag,type,make,model,serial,storage_serials,location",
    "Asset Tag,Type,Make,Model,Serial,Storage Serials,Location",
    "ASSET-TAG,TYPE,MAKE,MODEL,SERIAL,STORAGE-SERIALS,LOCATION",
    " asset.tag , Type ,make,Model,serial_number,Storage_Serials,location",
])
def test_headers_match_regardless_of_case_and_punctuation(cli, dw_home, tmp_path, header):
    p = _write(tmp_path, header + "\nOAK-7,laptop,Dell,E7450,ABC123,SSD-1;SSD-2,Library\n")
    r = cli("assets", "import", p)
    assert r.exit_code == 0, r.output
    r = cli("assets", "show", "OAK-7")
    assert "Dell" in r.stdout and "SSD-1, SSD-2" in r.stdout and "Library" in r.stdout


def test_bad_csv_imports_nothing_and_names_every_bad_line(cli, dw_home, tmp_path):
    p = _write(tmp_path, (
        "asset_tag,type,make,assigned_to,purchase_date\n"
        "OAK-1,laptop,Dell,Ms Imogen Thornbury,2021-09-01\n"   # line 2 good
        "OAK-2,,HP,,2020-01-01\n"                                # line 3 no type
        "OAK-3,desktop,HP,Mr Tobias Quill,31/02/2020\n"         # line 4 bad date
        "\n"                                                      # line 5 blank
        "OAK-1,monitor,Iiyama,,\n"                               # line 6 repeats line 2
        "bad tag!,laptop,Dell,,\n"                               # line 7 bad tag
        "OAK-8,laptop,Dell,,,extra,cells\n"                      # line 8 too many cells
    ))
    r = cli("assets", "import", p)
    assert r.exit_code == 65
    for line in ("line 3", "line 4", "line 6", "line 7", "line 8"):
        assert line in r.output
    assert "line 2:" not in flat(r.output) and "line 5" not in flat(r.output)
    assert "nothing imported" in flat(r.output)
    assert "Thornbury" not in flat(r.output) and "Quill" not in flat(r.output)  # no personal values
    assert _tags(cli) == []


def test_line_numbers_count_multiline_quoted_cells(cli, dw_home, tmp_path):
    p = _write(tmp_path, (
        "asset_tag,type,location\n"
        'OAK-1,laptop,"Block A\nRoom 2"\n'   # lines 2-3
        "OAK-2,,Hall\n"                      # line 4
    ))
    r = cli("assets", "import", p)
    assert r.exit_code == 65 and "line 4" in flat(r.output)


def test_missing_required_column_is_reported(cli, dw_home, tmp_path):
    p = _write(tmp_path, "type,make\nlaptop,Dell\n")
    r = cli("assets", "import", p)
    assert r.exit_code == 65 and "line 1: no tag column" in flat(r.output)


def test_existing_tags_block_the_import_unless_update(cli, dw_home, tmp_path):
    first = _write(tmp_path, "asset_tag,type,location\nOAK-1,laptop,Hall\n", "a.csv")
    assert cli("assets", "import", first).exit_code == 0
    second = _write(tmp_path, "asset_tag,type,location\nOAK-2,laptop,Hall\noak-1,laptop,Lab\n",
                    "b.csv")
    r = cli("assets", "import", second)
    assert r.exit_code == 65 and "line 3" in flat(r.output) and "--update" in flat(r.output)
    assert _tags(cli) == ["OAK-1"]  # OAK-2 was not half-imported
    r = cli("assets", "import", second, "--update")
    assert r.exit_code == 0 and "1 new" in r.stdout and "updated 1" in r.stdout
    assert "Lab" in cli("assets", "show", "OAK-1").stdout


def test_excel_cp1252_export_with_bom_less_accents_imports(cli, dw_home, tmp_path):
    p = _write(tmp_path, "Asset No,Category,Room\nOAK-9,laptop,Salle café\n",
               encoding="cp1252")
    assert cli("assets", "import", p).exit_code == 0
    assert "Salle café" in cli("assets", "show", "OAK-9").stdout


def test_add_list_and_show(cli, dw_home):
    r = cli("assets", "add", "OAK-50", "--type", "Server", "--make", "Dell",
            "--storage-serial", "D1", "--storage-serial", "D2", "--assigned-to", "Ms A Person",
            "--purchase-date", "15/03/2020")
    assert r.exit_code == 0, r.output
    assert cli("assets", "add", "OAK-50", "--type", "laptop").exit_code == 5
    r = cli("assets", "add", "OAK-51", "--type", "monitor")
    assert "storage: no" in r.stdout
    r = cli("assets", "list", "--status", "in-use")
    assert "OAK-50" in r.stdout and "OAK-51" in r.stdout
    assert "Ms A Person" not in r.stdout  # list leaves out who it is assigned to
    r = cli("assets", "show", "oak-50")
    assert "Ms A Person" in r.stdout and "2020-03-15" in r.stdout and "D1, D2" in r.stdout
    assert cli("assets", "show", "OAK-404").exit_code == 4
    assert "OAK-50" not in cli("assets", "list", "--status", "disposed").stdout
