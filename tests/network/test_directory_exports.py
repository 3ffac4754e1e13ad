"""User exports from Google Workspace and Microsoft 365 (CSV, as the admin consoles
download them) in the accounts audit. No server needed."""
from __future__ import annotations

from datetime import date

import yaml

from dataward.accounts.service import run_audit
from dataward.ledger import Ledger
from dataward.settings import load_settings

GOOGLE = """First Name [Required],Last Name [Required],Email Address [Required],Password [Required],Org Unit Path [Required],Employee ID,Status [READ ONLY],Last Sign In [READ ONLY]
Finn,Green,finn.green@oakfield.sch.uk,****,/Pupils/Year 6,,Active,2025/06/30 14:02:11
Gus,Hall,gus.hall@oakfield.sch.uk,****,/Pupils/Leavers,,Suspended,2024/07/01 09:00:00
Ella,Brown,ella.brown@oakfield.sch.uk,****,/Pupils/Year 5,,Active,2025/08/30 08:00:00
Year6,iPad,year6.ipad@oakfield.sch.uk,****,/Devices,,Active,Never logged in
"""
M365 = ("Block credential,Display name,First name,Last name,Last password change time stamp,"
        "User principal name,When created\n"
        "False,Ben Okafor,Ben,Okafor,01/09/2024 10:00:00,ben.okafor@oakfield.sch.uk,01/09/2020\n"
        "True,Dan Wu,Dan,Wu,01/09/2024 10:00:00,dan.wu@oakfield.sch.uk,01/09/2019\n"
        "False,Office Shared,,,03/02/2023 09:30:00,office@oakfield.sch.uk,01/01/2019\n"
        "False,Amy Patel,Amy,Patel,01/06/2025 10:00:00,amy.patel@oakfield.sch.uk,01/01/2019\n")


def test_google_and_m365_exports(dw_home):
    mis = dw_home / "mis"
    mis.mkdir()
    (mis / "leavers.csv").write_text("UPN,Forename,Surname,Date of Leaving\n"
                                     ",Finn,Green,18/07/2025\n,Gus,Hall,20/07/2024\n")
    (mis / "roll.csv").write_text("UPN,Forename,Surname\n,Ella,Brown\n")
    (mis / "staff.csv").write_text("Staff Code,Forename,Surname,Leaving Date\n"
                                   "BOK,Ben,Okafor,31/12/2024\nDWU,Dan,Wu,31/08/2024\nAPA,Amy,Patel,\n")
    (mis / "google.csv").write_text(GOOGLE)
    (mis / "m365.csv").write_text(M365, encoding="utf-8-sig")
    cfg = {"retention": {"leavers_csv": str(mis / "leavers.csv"), "on_roll_csv": str(mis / "roll.csv")},
           "accounts": {"staff_csv": str(mis / "staff.csv"), "directories": [
               {"name": "google", "kind": "google-csv", "path": str(mis / "google.csv")},
               {"name": "m365", "kind": "m365-csv", "path": str(mis / "m365.csv")}]}}
    (dw_home / "dataward.yaml").write_text(yaml.safe_dump(cfg))
    s = load_settings()
    with Ledger.for_settings(s) as ledger:
        run = run_audit(s, ledger, as_of=date(2025, 9, 1))
    got = {(f.kind, f.directory, f.login) for f in run.result.findings}
    assert got == {
        ("leaver-enabled", "google", "finn.green@oakfield.sch.uk"),   # left 45 days ago
        ("leaver-enabled", "m365", "ben.okafor@oakfield.sch.uk"),
        ("shared-password", "m365", "office@oakfield.sch.uk"),        # 2023: over a year
    }
    assert run.result.accounts == 8
