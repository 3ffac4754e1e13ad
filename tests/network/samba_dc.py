"""A real Samba AD domain controller on a loopback address of its own, for the network
tests: provisioned with samba-tool, serving LDAP and SMB (with NT ACLs held in extended
attributes), stopped with SIGTERM.

Samba binds its fixed ports (445, 389, 88, 53 ...) on the interface it is given, so each
test process gets a fresh address in 127.0.0.0/8 (added to ``lo``, removed at the end):
nothing else on the machine is disturbed and two test processes never clash.
"""
from __future__ import annotations

import os
import random
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

REALM, DOMAIN = "OAKFIELD.TEST", "OAKFIELD"
BASE_DN = "DC=oakfield,DC=test"
ADMIN_PASS = "Adm1n-Oakfield-2024!"
SVC_USER, SVC_PASS = "svc-dataward", "Svc-Scan-Pass-2024!"
READ, FULL = "0x001200a9", "0x001f01ff"
NEEDED = ("samba", "samba-tool", "smbcacls", "smbcontrol", "ip", "openssl", "kinit", "klist")


def _port_open(host: str, port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.3)
        return s.connect_ex((host, port)) == 0


def _free_address() -> str:
    rng = random.Random(os.getpid() ^ int(time.time() * 1000))
    for _ in range(50):
        addr = f"127.{rng.randint(60, 250)}.{rng.randint(0, 255)}.{rng.randint(2, 250)}"
        if not any(_port_open(addr, p) for p in (445, 389)):
            return addr
    raise RuntimeError("no free loopback address for Samba")


@dataclass
class SambaDC:
    addr: str
    root: Path
    proc: subprocess.Popen
    share: Path                          # the School share's folder on disk
    sids: dict[str, str] = field(default_factory=dict)  # name -> SID
    added_addr: bool = False

    @property
    def conf(self) -> Path:
        return self.root / "etc" / "smb.conf"

    def unc(self, *parts: str) -> str:
        return "\\".join([f"\\\\{self.addr}", "School", *parts])

    def url(self, *parts: str) -> str:
        return "/".join([f"smb://{self.addr}/School", *parts])

    def set_acl(self, rel: str, dacl: str, owner: str = "Domain Admins") -> None:
        """Set an item's owner and DACL (SDDL, SIDs written as {Name}) over SMB."""
        for name, sid in self.sids.items():
            dacl = dacl.replace("{" + name + "}", sid)
        cmd = ["smbcacls", f"//{self.addr}/School", rel, "-U", f"Administrator%{ADMIN_PASS}",
               "--sddl", "--set", f"O:{self.sids[owner]}D:{dacl}"]
        for attempt in range(4):  # a freshly started DC now and then refuses the first tries
            done = subprocess.run(cmd, capture_output=True, text=True, timeout=60, check=False)
            if done.returncode == 0:
                return
            time.sleep(1 + attempt)
        raise RuntimeError(f"smbcacls failed on {rel!r}: {done.stdout.strip()} {done.stderr.strip()}")

    @property
    def netbios(self) -> str:
        for line in self.conf.read_text().splitlines():
            key, _, value = line.strip().partition("=")
            if key.strip() == "netbios name":
                return value.strip()
        raise RuntimeError("no netbios name in smb.conf")

    def tool(self, *args: str) -> str:
        """samba-tool on the DC's own database (as a technician on the DC would)."""
        done = subprocess.run(["samba-tool", *args, "-s", str(self.conf)], capture_output=True,
                              text=True, timeout=120, check=False)
        if done.returncode != 0:
            raise RuntimeError(f"samba-tool {args[:2]}: {done.stdout.strip()} {done.stderr.strip()}")
        return done.stdout

    def smbcontrol(self, *args: str) -> None:
        subprocess.run(["smbcontrol", "-s", str(self.conf), "smbd", *args], check=True,
                       capture_output=True, timeout=60)

    def ldap(self):
        import ldap3
        server = ldap3.Server(f"ldaps://{self.addr}", port=636, use_ssl=True, connect_timeout=10,
                              tls=ldap3.Tls(validate=0))
        return ldap3.Connection(server, user=f"Administrator@{REALM.lower()}", password=ADMIN_PASS,
                                auto_bind=True, raise_exceptions=True)

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        if self.added_addr:
            subprocess.run(["ip", "addr", "del", f"{self.addr}/32", "dev", "lo"], capture_output=True,
                           check=False)
        shutil.rmtree(self.root, ignore_errors=True)


def missing_tools() -> list[str]:
    return [t for t in NEEDED if shutil.which(t) is None]


def start_dc() -> SambaDC:
    addr = _free_address()
    added = subprocess.run(["ip", "addr", "add", f"{addr}/32", "dev", "lo"],
                           capture_output=True, text=True, check=False)
    if added.returncode != 0:
        raise RuntimeError(f"cannot add {addr} to lo: {added.stderr.strip()}")
    root = Path(tempfile.mkdtemp(prefix="dwdc-"))
    root.chmod(0o755)  # accounts must reach the share folder inside it
    try:
        subprocess.run(
            ["samba-tool", "domain", "provision", f"--realm={REALM}", f"--domain={DOMAIN}",
             "--server-role=dc", "--dns-backend=SAMBA_INTERNAL", f"--adminpass={ADMIN_PASS}",
             f"--targetdir={root}", f"--host-ip={addr}", f"--option=interfaces={addr}",
             "--option=bind interfaces only=yes", f"--option=netbios name=DC{os.getpid() % 10000}",
             f"--option=pid directory={root}/run"],
            check=True, capture_output=True, text=True, timeout=180)
        share = root / "share"
        share.mkdir()
        conf = root / "etc" / "smb.conf"
        text = conf.read_text()
        text = text.replace("log file = /var/log/samba/log.%m", f"log file = {root}/log.%m")
        # dataward binds with a simple bind over plain LDAP here (loopback, test only)
        # A ready-made TLS key: Samba's own 4096-bit key generation takes ~30 s here.
        tls = root / "tls"
        tls.mkdir()
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                        "-subj", "/CN=dc.oakfield.test", "-keyout", str(tls / "key.pem"),
                        "-out", str(tls / "cert.pem")], check=True, capture_output=True, timeout=60)
        (tls / "key.pem").chmod(0o600)
        text = text.replace("[global]\n", "[global]\n\tldap server require strong auth = no\n"
                            f"\ttls keyfile = {tls}/key.pem\n\ttls certfile = {tls}/cert.pem\n"
                            f"\ttls cafile = \n", 1)
        conf.write_text(text + f"\n[School]\n\tpath = {share}\n\tread only = no\n")
        log = open(root / "samba.log", "wb")  # noqa: SIM115 - owned by the child
        proc = subprocess.Popen(["samba", "-i", "-s", str(conf), "--debug-stdout"], stdout=log,
                                stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                start_new_session=True)
        log.close()
        dc = SambaDC(addr, root, proc, share, added_addr=True)
        deadline = time.monotonic() + 60
        while not all(_port_open(addr, p) for p in (445, 389, 636)):
            if proc.poll() is not None or time.monotonic() > deadline:
                tail = (root / "samba.log").read_text(errors="replace")[-2000:]
                dc.stop()
                raise RuntimeError(f"samba did not start: {tail}")
            time.sleep(0.2)
        return dc
    except BaseException:
        subprocess.run(["ip", "addr", "del", f"{addr}/32", "dev", "lo"], capture_output=True,
                       check=False)
        shutil.rmtree(root, ignore_errors=True)
        raise


def add_group(conn, name: str, member_of: tuple[str, ...] = ()) -> None:
    import ldap3
    dn = f"CN={name},CN=Users,{BASE_DN}"
    conn.add(dn, ["top", "group"], {"sAMAccountName": name})
    for g in member_of:
        conn.modify(f"CN={g},CN=Users,{BASE_DN}", {"member": [(ldap3.MODIFY_ADD, [dn])]})


def add_user(conn, sam: str, given: str, surname: str, password: str, *, enabled: bool = True,
             groups: tuple[str, ...] = (), mail: str | None = None,
             employee_id: str | None = None) -> None:
    import ldap3
    dn = f"CN={given} {surname},CN=Users,{BASE_DN}" if given else f"CN={sam},CN=Users,{BASE_DN}"
    attrs = {"sAMAccountName": sam, "userPrincipalName": f"{sam}@{REALM.lower()}",
             "unicodePwd": f'"{password}"'.encode("utf-16-le"),
             "userAccountControl": 512 if enabled else 514}
    if given:
        attrs.update(givenName=given, sn=surname, displayName=f"{given} {surname}")
    if mail:
        attrs["mail"] = mail
    if employee_id:
        attrs["employeeID"] = employee_id
    conn.add(dn, ["top", "person", "organizationalPerson", "user"], attrs)
    for g in groups:
        conn.modify(f"CN={g},CN=Users,{BASE_DN}", {"member": [(ldap3.MODIFY_ADD, [dn])]})


def load_sids(conn, dc: SambaDC) -> None:
    conn.search(BASE_DN, "(|(objectClass=group)(objectClass=user))",
                attributes=["sAMAccountName", "objectSid"], paged_size=1000)
    for e in conn.entries:
        dc.sids[str(e.sAMAccountName)] = str(e.objectSid)
