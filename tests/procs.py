"""The process tree as /proc shows it, for tests that watch what a scan or a cluster
starts: children forked from any thread, descendants, and whether a process is a worker
host or one of its forks (an item reader keeps the host's command line)."""
from __future__ import annotations

from pathlib import Path


def children(pid: int) -> set[int]:
    """The children of ``pid``, forked from any of its threads (none once it ended)."""
    kids: set[int] = set()
    try:
        for task in Path(f"/proc/{pid}/task").iterdir():
            kids |= {int(x) for x in (task / "children").read_text().split()}
    except OSError:
        pass
    return kids


def descendants(pid: int) -> set[int]:
    """Children, their children, and so on."""
    found: set[int] = set()
    todo = [pid]
    while todo:
        kids = children(todo.pop()) - found
        found |= kids
        todo.extend(kids)
    return found


def is_host(pid: int) -> bool:
    """A worker host (``pipelines/worker_host.py``), or one of its forks."""
    try:
        return b"host_entry" in Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False
