"""The network tests' world: one real Samba AD domain controller per test process
(session-scoped), with groups, accounts, and a School share whose folders carry
inherited and broken-inheritance permissions, as a school's file server would."""
from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import pytest
import yaml

from .samba_dc import (
    ADMIN_PASS,
    FULL,
    READ,
    REALM,
    SVC_PASS,
    SVC_USER,
    SambaDC,
    add_group,
    add_user,
    load_sids,
    missing_tools,
    start_dc,
)


def _upn(serial: int) -> str:
    from dataward.pipelines.names import upn_check_letter
    body = f"82020010{serial:04d}"
    return upn_check_letter(body) + body


UNKNOWN_SID = "S-1-5-21-1111-2222-3333-4242"
CARE_PLAN = (f"Individual care plan for UPN {_upn(9)}, date of birth 14/03/2014. Diagnosis: asthma and epilepsy. EHCP review in March. "
             "Safeguarding: see DSL notes.\n")
SEN_REGISTER = f"SEN register 2024. UPN {_upn(8)}. EHCP: speech and language. Medical: diabetes.\n"
PAYROLL = "Payroll April. National Insurance number AB123456C. Sort code 12-34-56.\n"
SPELLING = "Spelling list week 3: because, friend, island, knowledge.\n"
# Names Windows allows that shells and Linux tools tend to mangle.
ODD_NAMES = ("Zoë's report – £5 #1 [draft] 50%.txt", "-rf.txt", "trip 📷 notes.txt",
             "a;b&c$(x).txt")
TODAY = date.today()


def _inherit(dacl: str) -> str:
    """The ACEs a folder passes to its files and subfolders, as inherited ones."""
    return dacl.replace(";OICI;", ";OICIID;")


ROOT = "(A;OICI;{F};;;{Domain Admins})(A;OICI;{R};;;{Staff})(A;OICI;{R};;;{svc-dataward})"
YEAR6 = "(A;OICI;{R};;;{Pupils})" + _inherit(ROOT)
OFFICE = "(A;OICI;{F};;;{Domain Admins})(A;OICI;{R};;;{Office})(A;OICI;{R};;;{svc-dataward})"
# Clubs: inheritance broken, readable by Lunch Club, a group inside Clubs inside Pupils
# (no ACE names Pupils), and one file readable by one pupil's own account.
CLUBS = "(A;OICI;{F};;;{Domain Admins})(A;OICI;{R};;;{Lunch Club})(A;OICI;{R};;;{svc-dataward})"
ONE_PUPIL = "(A;;{R};;;{ebrown})(A;;{F};;;{Domain Admins})(A;;{R};;;{svc-dataward})"


def _file(folder_dacl: str) -> str:
    return folder_dacl.replace(";OICI;", ";ID;").replace(";OICIID;", ";ID;")


@dataclass
class Person:
    sam: str
    given: str
    surname: str
    kind: str                  # pupil | staff
    enabled: bool
    left: date | None = None
    upn: str | None = None


PEOPLE = [
    Person("apatel", "Amy", "Patel", "staff", True),
    Person("bokafor", "Ben", "Okafor", "staff", True, TODAY - timedelta(days=90)),
    Person("clewis", "Cara", "Lewis", "staff", True, TODAY - timedelta(days=10)),
    Person("dwu", "Dan", "Wu", "staff", False, TODAY - timedelta(days=100)),
    Person("ebrown", "Ella", "Brown", "pupil", True, None, _upn(1)),
    Person("fgreen", "Finn", "Green", "pupil", True, TODAY - timedelta(days=60), _upn(2)),
    Person("ghall", "Gus", "Hall", "pupil", False, TODAY - timedelta(days=200), _upn(3)),
]
SHARED = ("office-shared", "year6-ipad")
ORPHAN = ("zunknown", "Zed", "Nobody")


def _write_tree(dc: SambaDC) -> None:
    files = {
        "Year 6/spelling.txt": SPELLING,
        "Year 6/Health/care plan.txt": CARE_PLAN,
        "Office/payroll.txt": PAYROLL,
        "Staff/SEN register.txt": SEN_REGISTER,
        "Year 6/unknown sid.txt": SPELLING,
        "Year 6/locked.txt": SPELLING,
        "Clubs/allergies.txt": CARE_PLAN,
        "Clubs/ella.txt": CARE_PLAN,
        **{f"Year 6/odd/{n}": SPELLING for n in ODD_NAMES},
    }
    for rel, text in files.items():
        p = dc.share / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text, encoding="utf-8")
    def acl(s: str) -> str:
        return s.replace("{F}", FULL).replace("{R}", READ)

    acls = {"": "P" + acl(ROOT), "Year 6": acl(YEAR6), "Year 6/Health": _inherit(acl(YEAR6)),
            "Year 6/odd": _inherit(acl(YEAR6)),
            "Office": "P" + acl(OFFICE),          # inheritance broken: the office's own
            "Clubs": "P" + acl(CLUBS),
            "Staff": _inherit(acl(ROOT))}
    for rel in files:
        folder = rel.rsplit("/", 1)[0]
        base = {"Office": OFFICE, "Staff": ROOT, "Clubs": CLUBS}.get(folder.split("/")[0], YEAR6)
        extra = f"(A;;{READ};;;{UNKNOWN_SID})" if rel.endswith("unknown sid.txt") else ""
        acls[rel] = "P" + acl(ONE_PUPIL) if rel == "Clubs/ella.txt" else extra + _file(acl(base))
    # Deepest first: the server checks the caller's access to each folder on the way down
    # with the folder's permissions as they are, so a folder is closed only after its items.
    for rel in sorted(acls, key=lambda r: (-r.count("/") - bool(r), r)):
        dc.set_acl(rel, acls[rel])


@pytest.fixture(scope="session")
def samba_dc() -> SambaDC:
    missing = missing_tools()
    if missing:
        pytest.fail(f"the network tests need {', '.join(missing)} (make test installs them)")
    if os.geteuid() != 0:
        pytest.fail("a Samba domain controller runs as root (CI runs the tests as root)")
    dc = start_dc()
    try:
        conn = dc.ldap()
        for g in ("Pupils", "Staff", "Office"):
            add_group(conn, g)
        add_group(conn, "Clubs", member_of=("Pupils",))
        add_group(conn, "Lunch Club", member_of=("Clubs",))
        add_user(conn, SVC_USER, "", "", SVC_PASS)
        for p in PEOPLE:
            add_user(conn, p.sam, p.given, p.surname, f"{p.sam}-Pw-2024!", enabled=p.enabled,
                     groups=("Pupils",) if p.kind == "pupil" else ("Staff",), employee_id=p.upn)
        for sam in SHARED:
            add_user(conn, sam, "", "", f"{sam}-Pw-2024!")
        add_user(conn, ORPHAN[0], ORPHAN[1], ORPHAN[2], "Orphan-Pw-2024!")
        load_sids(conn, dc)
        conn.unbind()
        _write_tree(dc)
    except BaseException:
        dc.stop()
        raise
    yield dc
    dc.stop()


@pytest.fixture
def net_home(samba_dc: SambaDC, dw_home: Path) -> Path:
    """A state folder whose config scans the DC's School share and audits its directory."""
    secrets = dw_home / "secrets"
    secrets.mkdir(mode=0o700)
    for name, value in (("smb.pass", SVC_PASS), ("ldap.pass", ADMIN_PASS)):
        f = secrets / name
        f.write_text(value + "\n")
        f.chmod(0o600)
    config = {
        "school": {"name": "Oakfield Primary", "domains": ["oakfield.test"]},
        "sources": [{"name": "school", "path": samba_dc.url(), "audience": "staff"}],
        "scan": {"workers": 1},
        "smb": {"username": f"OAKFIELD\\{SVC_USER}", "password_file": str(secrets / "smb.pass"),
                "directory": "ad"},
        "accounts": {"directories": [{
            "name": "ad", "kind": "ldap", "url": f"ldap://{samba_dc.addr}",
            "bind_user": "Administrator@oakfield.test",
            "password_file": str(secrets / "ldap.pass")}]},
    }
    (dw_home / "dataward.yaml").write_text(yaml.safe_dump(config, allow_unicode=True))
    return dw_home


@dataclass
class Kerberos:
    """The domain's KDC as a client sees it: a krb5.conf naming it, and a keytab of the
    service account (exported on the DC, as a technician would)."""

    conf: Path
    keytab: Path
    principal: str

    def env(self, cache: Path) -> dict[str, str]:
        return {**os.environ, "KRB5_CONFIG": str(self.conf), "KRB5CCNAME": f"FILE:{cache}"}

    def kinit(self, cache: Path, lifetime: str | None = None) -> None:
        """A ticket for the service account from its password, into ``cache``."""
        args = ["kinit", *(["-l", lifetime] if lifetime else []), self.principal]
        subprocess.run(args, input=SVC_PASS + "\n", env=self.env(cache), text=True,
                       capture_output=True, check=True, timeout=60)

    def klist(self, cache: Path) -> subprocess.CompletedProcess:
        return subprocess.run(["klist", "-c", f"FILE:{cache}"], env=self.env(cache), text=True,
                              capture_output=True, check=False, timeout=30)


@pytest.fixture(scope="session")
def kerberos(samba_dc: SambaDC, tmp_path_factory) -> Kerberos:
    folder = tmp_path_factory.mktemp("krb")
    # The tests name the DC by its address: give its account the service names a client
    # asks tickets for (a school's sources name the server as the domain knows it).
    for service in ("cifs", "ldap"):
        samba_dc.tool("spn", "add", f"{service}/{samba_dc.addr}", f"{samba_dc.netbios}$")
    conf = folder / "krb5.conf"
    conf.write_text(f"""[libdefaults]
  default_realm = {REALM}
  dns_lookup_kdc = false
  dns_lookup_realm = false
  dns_canonicalize_hostname = false
  rdns = false
[realms]
  {REALM} = {{
    kdc = {samba_dc.addr}
  }}
""")
    keytab = folder / "svc.keytab"
    principal = f"{SVC_USER}@{REALM}"
    samba_dc.tool("domain", "exportkeytab", str(keytab), f"--principal={principal}")
    keytab.chmod(0o600)
    return Kerberos(conf, keytab, principal)
