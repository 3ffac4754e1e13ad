"""Helpers for tests of flows that wait for an approver (shared by tests/flows and
tests/network): run the flow in a thread, find its paused run, answer it as the Prefect UI
does. The Prefect server itself is the ``prefect_harness`` fixture of tests/conftest.py."""
from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any


def run_in_thread(flow: Callable[..., Any], **params: Any) -> tuple[threading.Thread, dict[str, Any]]:
    """Start ``flow(**params)`` in a thread; the dict gets "result" or "error"."""
    box: dict[str, Any] = {}

    def target() -> None:
        try:
            box["result"] = flow(**params)
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            box["error"] = exc

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    return thread, box


def paused_run(started: float, timeout_s: float = 90) -> Any:
    """The newest flow run created after ``started`` (epoch seconds) once it is paused."""
    from prefect import get_client
    from prefect.client.schemas.filters import (
        FlowRunFilter,
        FlowRunFilterState,
        FlowRunFilterStateType,
    )
    from prefect.client.schemas.objects import StateType
    from prefect.client.schemas.sorting import FlowRunSort
    paused = FlowRunFilter(state=FlowRunFilterState(
        type=FlowRunFilterStateType(any_=[StateType.PAUSED])))
    deadline = time.monotonic() + timeout_s
    with get_client(sync_client=True) as client:
        while time.monotonic() < deadline:
            for run in client.read_flow_runs(flow_run_filter=paused, limit=20,
                                             sort=FlowRunSort.ID_DESC, offset=0):
                if run.created and run.created.timestamp() >= started:
                    return run
            time.sleep(0.5)
    raise AssertionError("the flow never paused for approval")
