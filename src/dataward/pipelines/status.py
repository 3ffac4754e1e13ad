"""When each scheduled job last did its work, and whether it is overdue.

The ledger is the record of work done: each job appends an audit record when it finishes
(``scan.complete``, ``backup.run``, ...), whoever started it (the scheduler, a person at
the command line). A job is **overdue** when a time its schedule named has passed by more
than the grace period (a nightly scan may take hours) and no record of that job is newer
than that time. A job that never ran is overdue once its schedule has come round.

When a Prefect server is given (``dataward serve``'s, or a trust's), the state and time of
each deployment's latest flow run are added: a run that failed leaves no ledger record, and
Prefect says why.
"""
from __future__ import annotations

import json
import urllib.request
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from ..ledger import Ledger
from ..settings import Schedule, Settings

# Each flow and the audit action its job writes when it has done its work.
JOBS = (
    ("nightly_scan", "scan.complete"),
    ("nightly_backup", "backup.run"),
    ("weekly_verify", "backup.verify"),
    ("weekly_retention", "retention.plan"),
    ("termly_restore_test", "backup.restore_test"),
)


@dataclass(frozen=True)
class JobStatus:
    flow: str
    schedule: str                  # "0 1 * * * (Europe/London)" or "every 10 s"
    last_run: str | None           # ISO time (UTC) of the newest ledger record, or None
    due_since: str | None          # ISO time (UTC) of the latest scheduled time passed
    overdue: bool
    prefect_state: str | None = None   # the latest flow run's state, when Prefect is asked
    prefect_time: str | None = None

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def describe(s: Schedule) -> str:
    return f"{s.cron} ({s.timezone})" if s.cron else f"every {s.every_seconds} s"


def previous_time(s: Schedule, now: datetime) -> datetime:
    """The latest time at or before ``now`` the schedule names (UTC)."""
    if s.every_seconds:
        return now - timedelta(seconds=s.every_seconds)
    from cronsim import CronSim
    local = now.astimezone(ZoneInfo(s.timezone)).replace(tzinfo=None)
    prev = next(CronSim(s.cron or "", local, reverse=True))
    return prev.replace(tzinfo=ZoneInfo(s.timezone)).astimezone(UTC)


def _job_runs(ledger: Ledger, action: str) -> datetime | None:
    records = [r for r in ledger.audit_records(action_prefix=action) if r.action == action
               and r.details.get("mode") != "adhoc"]   # an ad hoc scan is not the nightly one
    return datetime.fromisoformat(records[-1].ts) if records else None


def job_status(settings: Settings, ledger: Ledger, *, now: datetime | None = None,
               grace: timedelta = timedelta(hours=6),
               prefect_api: str | None = None) -> list[JobStatus]:
    now = now or datetime.now(UTC)
    runs = latest_flow_runs(prefect_api) if prefect_api else {}
    out = []
    for flow, action in JOBS:
        sched: Schedule = getattr(settings.schedules, flow)
        last = _job_runs(ledger, action)
        due = previous_time(sched, now)
        overdue = now - due >= grace and (last is None or last < due)
        state, when = runs.get(flow, (None, None))
        out.append(JobStatus(flow, describe(sched), last.isoformat() if last else None,
                             due.isoformat(), overdue, state, when))
    return out


def latest_flow_runs(api: str) -> dict[str, tuple[str, str | None]]:
    """{deployment name: (state name, start or expected start time)} of the newest run of
    each deployment that is not merely scheduled, from Prefect's REST API."""
    from ..errors import TransientError

    def post(path: str, body: dict[str, object]) -> list[dict[str, Any]]:
        req = urllib.request.Request(f"{api.rstrip('/')}{path}", method="POST",
                                     data=json.dumps(body).encode(),
                                     headers={"content-type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=10) as r:
                rows: list[dict[str, Any]] = json.load(r)
                return rows
        except OSError as exc:
            raise TransientError(f"the Prefect API at {api} did not answer ({exc})",
                                 hint="is `dataward serve` running? or leave out --prefect-api") from None

    names = {d["id"]: d["name"] for d in post("/deployments/filter", {"limit": 200})}
    out: dict[str, tuple[str, str | None]] = {}
    for dep_id, name in names.items():
        rows = post("/flow_runs/filter", {
            "deployments": {"id": {"any_": [dep_id]}},
            "flow_runs": {"state": {"type": {"not_any_": ["SCHEDULED"]}}},
            "sort": "EXPECTED_START_TIME_DESC", "limit": 1})
        if rows:
            run = rows[0]
            out[name] = (run.get("state_name") or run["state"]["type"],
                         run.get("start_time") or run.get("expected_start_time"))
    return out
