"""Watch the logs of `dataward serve`'s children for a part of Prefect that keeps failing.

Prefect's server services (the scheduler above all) catch their own errors, log a
traceback to ``<state>/prefect/server.log`` and try again on the next loop: the service
stays "up" while no run is ever scheduled. ``LogWatch`` reads a log as it grows and turns
repeated ERROR records of the same service into one clear line for the person watching
the terminal or the journal. The line names the service, the exception class and the log
file, never the record's text (a traceback may quote anything).
"""
from __future__ import annotations

import re
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path

# Prefect's console format: "15:39:04.340 | ERROR   | docket.dependencies - <message>".
_RECORD = re.compile(r"^\d\d:\d\d:\d\d\.\d+ \| (\w+)\s*\| ([\w.]+) - (.*)$")
# docket (which runs the server's services) names the failed task: "↩ [ 206ms] name(...)".
_TASK = re.compile(r"\]\s+([A-Za-z_]\w*)\(")
# The last line of a traceback: "package.module.SomeError: message".
_EXCEPTION = re.compile(r"^([A-Za-z_][\w.]*(?:Error|Exception|Exit|Interrupt))\b")


@dataclass
class _Trail:
    times: deque[float] = field(default_factory=deque)
    task: str = ""
    error: str = "an error"
    told: float = float("-inf")


def component(key: str, logger: str) -> str:
    """What a failing key is, in words a technician knows."""
    if "schedul" in key:
        return "Prefect's scheduler"
    if logger.startswith(("prefect.runner", "prefect.flow_runs.runner", "prefect.workers")):
        return "the flow runner (worker)"
    if logger.startswith(("prefect.flow_runs", "prefect.engine")):
        return "a flow run"
    return "Prefect's server"


class LogWatch:
    """Reads ``path`` from where it last stopped; ``poll()`` returns the lines to print.

    A component (the scheduler, whose two services fail together; the flow runner; the
    rest of the server) keeps failing when it logged ``threshold`` ERROR records within
    ``window_s`` seconds; it is then reported, and again at most every ``repeat_s``.
    """

    def __init__(self, path: Path, *, threshold: int = 3, window_s: float = 600.0,
                 repeat_s: float = 3600.0) -> None:
        self.path, self.threshold = path, threshold
        self.window_s, self.repeat_s = window_s, repeat_s
        self._offset = path.stat().st_size if path.exists() else 0
        self._partial = ""
        self._trails: dict[str, _Trail] = {}   # by component: its tasks fail together
        self._last: str | None = None

    def poll(self, now: float | None = None) -> list[str]:
        try:
            with open(self.path, "rb") as fh:
                fh.seek(self._offset)
                chunk = fh.read()
        except OSError:
            return []
        self._offset += len(chunk)
        lines = (self._partial + chunk.decode("utf-8", errors="replace")).split("\n")
        self._partial = lines.pop()
        return [msg for line in lines if (msg := self.feed(line, now))]

    def feed(self, line: str, now: float | None = None) -> str | None:
        now = time.monotonic() if now is None else now
        rec = _RECORD.match(line)
        if rec is None:
            exc = _EXCEPTION.match(line)
            if exc and self._last is not None:
                self._trails[self._last].error = exc.group(1)
            return None
        level, logger, message = rec.groups()
        if level not in ("ERROR", "CRITICAL"):
            self._last = None
            return None
        task = _TASK.search(message)
        name = task.group(1) if task else logger
        what = component(name, logger)
        trail = self._trails.setdefault(what, _Trail())
        trail.task, self._last = name, what
        trail.times.append(now)
        while trail.times and trail.times[0] < now - self.window_s:
            trail.times.popleft()
        if len(trail.times) < self.threshold or now - trail.told < self.repeat_s:
            return None
        trail.told = now
        return (f"dataward serve: {what} keeps failing: {len(trail.times)} errors in "
                f"{self.window_s / 60:.0f} min (last: {trail.task}, {trail.error}); "
                f"scheduled runs may not happen until it is fixed. Details: {self.path}")
