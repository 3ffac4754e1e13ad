"""`dataward serve` says when a part of Prefect keeps failing, from the lines Prefect
writes to server.log (the format below is what Prefect 3.8's server wrote when its
scheduler failed on every loop under SQLAlchemy 2.1)."""
from __future__ import annotations

from pathlib import Path

from dataward.flows.logwatch import LogWatch

FAILURE = """\
15:39:04.340 | ERROR   | docket.dependencies - \u21a9 [   206ms] schedule_recent_deployments(){schedule_recent_deployments}
Traceback (most recent call last):
  File "site-packages/prefect/server/services/scheduler.py", line 348, in schedule_recent_deployments
    inserted_runs = await models.deployments._insert_scheduled_flow_runs(
sqlalchemy.exc.InvalidRequestError: Can't evaluate bulk DML statement; please supply a bulk_dml decorated function
"""
HEALTHY = "15:39:01.002 | INFO    | uvicorn.access - 127.0.0.1 - \"POST /api/flow_runs/filter HTTP/1.1\" 200\n"


def _append(path: Path, text: str) -> None:
    with open(path, "a", encoding="utf-8") as fh:
        fh.write(text)


def test_a_scheduler_failing_on_every_loop_gets_one_clear_line(tmp_path: Path):
    log = tmp_path / "server.log"
    log.write_text("old run\n" + FAILURE * 5)   # failures before this start do not count
    watch = LogWatch(log, threshold=3, window_s=600, repeat_s=3600)
    said: list[str] = []
    for t in range(4):
        _append(log, HEALTHY + FAILURE)
        said += watch.poll(now=100.0 + 5 * t)
    assert len(said) == 1, said     # said once, not on every loop
    line = said[0]
    assert "Prefect's scheduler keeps failing" in line
    assert "3 errors in 10 min" in line
    assert "(last: schedule_recent_deployments, sqlalchemy.exc.InvalidRequestError)" in line
    assert str(log) in line
    assert "bulk DML" not in line   # the class, never the record's text
    # Still failing an hour later: said again.
    _append(log, FAILURE)
    assert len(watch.poll(now=100.0 + 3700)) == 0   # the window restarted: 1 failure
    _append(log, FAILURE * 2)
    assert len(watch.poll(now=100.0 + 3701)) == 1


def test_the_schedulers_two_services_count_together(tmp_path: Path):
    """Prefect 3.8 schedules from two services: recently changed deployments (every 5 s,
    which stops trying once they are no longer recent) and all of them (every 60 s)."""
    log = tmp_path / "server.log"
    log.write_text("")
    watch = LogWatch(log, threshold=3, window_s=600)
    _append(log, FAILURE * 2 + FAILURE.replace("schedule_recent_deployments", "schedule_deployments"))
    said = watch.poll(now=60.0)
    assert len(said) == 1 and "Prefect's scheduler keeps failing" in said[0]
    assert "last: schedule_deployments" in said[0]


def test_occasional_errors_and_half_written_lines_are_not_an_alarm(tmp_path: Path):
    log = tmp_path / "flows.log"
    log.write_text("")
    watch = LogWatch(log, threshold=3, window_s=600)
    record = "10:00:00.000 | ERROR   | prefect.runner - Failed to start process for flow run\n"
    _append(log, record)
    assert watch.poll(now=0) == []
    _append(log, record[:30])                    # the rest not written yet
    assert watch.poll(now=700) == []             # the first one is out of the window
    _append(log, record[30:] + record)
    said = watch.poll(now=701)
    assert said == []                            # two in the window
    _append(log, record)
    said = watch.poll(now=702)
    assert len(said) == 1 and "the flow runner (worker) keeps failing" in said[0]
