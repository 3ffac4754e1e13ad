"""Issue 13: a scan run where other Python threads run (a Prefect flow's task runner, a Dask
worker) does not fork its item workers from that threaded process. They come from the
worker host, which had one thread when it forked them; the results are those of a scan
whose workers were forked from the scanning process; the scanning process never loads the
classifier; a hung item is still stopped at its time limit."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from dataward.settings import Source, load_settings
from tests.procs import children, descendants

LINE = ("Pupil Amelia Khan, UPN U820200014013, NHS 943 476 5919, tel 020 7946 0123, "
        "amelia.khan@example.co.uk, born 04/05/2015.\n")


def _ppid(pid: int) -> int:
    return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])


def _threads(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/task"))


class Watcher(threading.Thread):
    """A live extra thread in the scanning process (as Prefect's are) that notes every
    process below it: its parent, the parent's thread count, whether it is the worker host
    (a child running the host's entry point) and whether it is a fork of its parent (same
    command line: an item worker, as opposed to a helper program a library runs)."""

    def __init__(self, root: int) -> None:
        super().__init__(daemon=True)
        self.root, self.stop = root, threading.Event()
        self.seen: dict[int, tuple[int, int, bool, bool]] = {}
        self.sightings: dict[int, int] = {}
        # Processes below the root before the watch began are not the scan's, nor what they
        # start: the suite's servers (Prefect's forks, an orphaned gpg-agent adopted by
        # the test process) live there.
        self.before = descendants(root)

    def _note(self, pid: int) -> None:
        parent = _ppid(pid)
        cmd = Path(f"/proc/{pid}/cmdline").read_bytes()
        if not cmd:  # ended: nothing more to learn
            return
        forked = cmd == Path(f"/proc/{parent}/cmdline").read_bytes()
        first = self.seen.get(pid) or (parent, _threads(parent), False, True)
        self.sightings[pid] = self.sightings.get(pid, 0) + 1
        # Right after a fork, before an exec, a child still shows its parent's command
        # line: it is the host once seen to be, and a fork only while never seen otherwise.
        self.seen[pid] = (first[0], first[1],
                          first[2] or (b"host_entry" in cmd and parent == self.root),
                          first[3] and forked)

    def workers(self) -> dict[int, tuple[int, int, bool, bool]]:
        """Forks that lived on as forks: a helper program a library starts (ctypes runs
        ``ldconfig``) may be caught once between its fork and its exec."""
        return {pid: v for pid, v in self.seen.items()
                if v[3] and not v[2] and self.sightings[pid] >= 3}

    def hosts(self) -> list[int]:
        return [pid for pid, v in self.seen.items() if v[2]]

    def run(self) -> None:
        while not self.stop.is_set():
            try:
                todo = list(children(self.root) - self.before)
                while todo:
                    pid = todo.pop()
                    if pid in self.before:
                        continue
                    try:
                        self._note(pid)
                        todo.extend(children(pid))
                    except OSError:  # ended meanwhile
                        pass
            except OSError:
                pass
            time.sleep(0.01)


SCRIPT = """
import json, os, sys, threading
from pathlib import Path
sys.path.insert(0, sys.argv[3])
sys.path.insert(0, str(Path(sys.argv[3]).parents[1]))  # the repository: tests.procs
from test_worker_host import Watcher
watcher = Watcher(os.getpid())
watcher.start()
from dataward.pipelines.scan import run_scan
from dataward.settings import Source, load_settings
result = run_scan(load_settings(Path(sys.argv[1])),
                  sources=[Source(name="s", path=Path(sys.argv[2]), audience="staff")],
                  full=True)
watcher.stop.set(); watcher.join()
print(json.dumps({"out": str(result.out_dir), "hosts": watcher.hosts(),
                  "workers": watcher.workers(), "me": os.getpid(),
                  "host_parent": [watcher.seen[h][:2] for h in watcher.hosts()],
                  "loaded": sorted(m for m in ("dataward.classifiers.engine",
                                               "presidio_analyzer", "spacy")
                                   if m in sys.modules)}))
"""


def _table(path: Path, name: str, columns: list[str]) -> list[tuple]:
    return sorted(tuple(r[c] for c in columns)
                  for r in pq.read_table(path / name).to_pylist())


@pytest.fixture
def school(dw_home, tmp_path):
    share = tmp_path / "share"
    (share / "Year 6").mkdir(parents=True)
    for i in range(12):
        (share / f"record-{i:02d}.txt").write_text(LINE * (i + 1))
    (share / "Year 6" / "Amelia Khan sports day.txt").write_text("Sports day.\n")
    (share / "minutes.txt").write_text("Governors met. Budget agreed.\n")
    roster = tmp_path / "pupils.csv"
    roster.write_text("Forename,Surname\nAmelia,Khan\n")
    cfg = tmp_path / "dataward.yaml"
    cfg.write_text(f"rosters:\n  - {{path: {roster}, kind: pupils}}\nscan: {{workers: 2}}\n")
    return share, cfg


def test_a_threaded_scanning_process_gets_workers_from_a_one_thread_host_and_same_results(
        school, dw_home):
    share, cfg = school
    from dataward.pipelines.scan import run_scan
    forked_here = run_scan(load_settings(cfg), sources=[Source(name="s", path=share,
                                                              audience="staff")], full=True)

    done = subprocess.run([sys.executable, "-c", SCRIPT, str(cfg), str(share),
                           str(Path(__file__).parent)], capture_output=True, text=True,
                          env={**os.environ, "DATAWARD_HOME": str(dw_home)}, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    got = json.loads(done.stdout.strip().splitlines()[-1])
    hosts, workers = got["hosts"], {int(pid): v for pid, v in got["workers"].items()}
    assert len(hosts) == 1 and got["host_parent"][0][0] == got["me"]
    assert got["host_parent"][0][1] > 1    # the scanning process ran other threads
    assert workers, "no item worker was seen"
    for pid, (parent, threads, _h, _f) in workers.items():
        assert parent == hosts[0] != got["me"], pid   # forked by the host, not the scan
        assert threads == 1, (pid, threads)           # which had exactly one thread
    # The scanning process never built, nor even imported, the classifier.
    assert got["loaded"] == []

    out = Path(got["out"])
    item_cols = ["locator", "status", "format", "sha256", "n_findings", "n_person",
                 "n_uk_upn", "n_uk_nhs", "risk_level"]
    assert (_table(out, "items.parquet", item_cols)
            == _table(forked_here.out_dir, "items.parquet", item_cols))
    finding_cols = ["locator", "entity_type", "fingerprint", "preview"]
    threaded = _table(out, "findings.parquet", finding_cols)
    assert threaded == _table(forked_here.out_dir, "findings.parquet", finding_cols)
    assert any(f[1] == "PERSON" and "sports" in f[0] for f in threaded)


def test_a_hung_item_is_stopped_at_its_time_limit_under_the_host(dw_home, tmp_path, monkeypatch):
    from dataward.pipelines import worker_host
    from dataward.pipelines.scan import run_scan

    monkeypatch.syspath_prepend(str(Path(__file__).parent))  # the host takes this path
    monkeypatch.setattr(worker_host, "PRELOAD", ("hung_reader:register",))
    share = tmp_path / "share"
    share.mkdir()
    for name in ("a-stuck.hang", "b-stuck.hang"):  # both workers hang, then are replaced
        (share / name).write_bytes(b"\x00\x01" * 1000)
    (share / "note.txt").write_text(LINE)
    cfg = tmp_path / "dataward.yaml"
    cfg.write_text("scan: {workers: 2, item_timeout_s: 2}\n")
    watcher = Watcher(os.getpid())
    watcher.start()
    try:
        started = time.monotonic()
        result = run_scan(load_settings(cfg), sources=[Source(name="s", path=share,
                                                              audience="staff")], adhoc=True)
        took = time.monotonic() - started
    finally:
        watcher.stop.set()
        watcher.join()
    items = {r["path"].rsplit("/", 1)[1]: r
             for r in pq.read_table(result.out_dir / "items.parquet").to_pylist()}
    assert items["note.txt"]["status"] == "ok" and items["note.txt"]["n_uk_upn"] == 1
    for name in ("a-stuck.hang", "b-stuck.hang"):
        assert items[name]["status"] == "error"
        assert "time limit" in items[name]["error"]
    assert took < 60
    hosts = watcher.hosts()
    assert len(hosts) == 1
    workers = list(watcher.workers().values())
    # Two first workers and the one that replaced a killed worker, all from the host.
    assert len(workers) >= 3 and all(v[0] == hosts[0] and v[1] == 1 for v in workers)


def test_a_kept_host_serves_scan_after_scan_with_each_scans_own_roster(dw_home, tmp_path):
    """A trust's Dask worker scans part after part: its host is kept between scans and
    builds each scan's classifier from that scan's roster (one school's names never find
    another's)."""
    from dataward.pipelines import worker_host
    from dataward.pipelines.scan import run_scan

    share = tmp_path / "share"
    share.mkdir()
    (share / "letter.txt").write_text("Amelia Khan and Oliver Bennett read at assembly.\n")
    runs = []
    watcher = Watcher(os.getpid())
    watcher.start()
    worker_host.keep_between_scans()
    readers_cpu = worker_host.kept_readers_cpu()
    try:
        for name in ("Amelia,Khan", "Oliver,Bennett"):
            roster = tmp_path / f"{name[:3]}.csv"
            roster.write_text(f"Forename,Surname\n{name}\n")
            cfg = tmp_path / f"{name[:3]}.yaml"
            cfg.write_text(f"rosters:\n  - {{path: {roster}, kind: pupils}}\n"
                           "scan: {workers: 1}\n")
            result = run_scan(load_settings(cfg), sources=[Source(name="s", path=share,
                                                                  audience="staff")],
                              adhoc=True)
            runs.append(pq.read_table(result.out_dir / "findings.parquet").to_pylist())
        kept = [h.proc.pid for h in worker_host._kept]
        # Its workers' CPU is counted (a trust's part reports it), though the host is alive.
        assert worker_host.kept_readers_cpu() > readers_cpu
    finally:
        watcher.stop.set()
        watcher.join()
        worker_host.end_kept()
    previews = [sorted(f["preview"] for f in run if f["entity_type"] == "PERSON") for run in runs]
    assert len(previews[0]) == len(previews[1]) == 1
    assert previews[0] != previews[1]          # each scan found its own school's pupil
    hosts = watcher.hosts()
    assert hosts == kept and len(hosts) == 1   # one host served both scans
    workers = list(watcher.workers().values())
    assert len(workers) >= 2 and all(v[0] == hosts[0] and v[1] == 1 for v in workers)
