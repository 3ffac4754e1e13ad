"""A Dask preload for the trust's cluster: what a task needs, loaded once per process.

    dask scheduler --preload dataward.flows.trust_worker
    DASK_DISTRIBUTED__WORKER__DAEMON=False \\
      dask worker tcp://scheduler:8786 --nthreads 1 --preload dataward.flows.trust_worker

Without it, the first task a worker runs pays for importing Prefect, the flow module,
pyarrow, Presidio and Alembic and for building Presidio's analyzer (15 s on a busy two-core
machine), and so does every worker the nanny starts again after a crash. With it, that
happens while the worker starts, before it takes work; each task then builds its
school's classifier from what is already loaded (about a millisecond). A Dask worker runs
threads, so a part's item workers are forked by a worker host (pipelines/worker_host.py),
not by the Dask worker: one is started here and kept between tasks, each task giving it
its school's context. Nothing here holds a school's data or key.

The scheduler unpickles every task it is given (a Prefect task and its run context), so
the first task of a fresh scheduler waited while it imported Prefect: about a second, and
a second of the scheduler's CPU, on a quiet two-core machine. On the scheduler the preload
imports the flow module and Prefect's task engine only (no Presidio). In a worker it also
stops Dask's statistical profiler (below).
"""
from __future__ import annotations

import logging
import time
from typing import Any

log = logging.getLogger("dataward.trust.worker")
WARM = False  # set once this worker's preload has loaded the scan stack (trust.scan reads it)


def warm_tasks() -> None:
    """What unpickling and running a Prefect task on the cluster imports."""
    import prefect.task_engine  # noqa: F401 - run_task_sync, named in each pickled task
    import prefect_dask.client  # noqa: F401 - the task wrapper's module

    from . import trust  # noqa: F401 - the tasks' module (Prefect with it)


def warm_up() -> float:
    """Import what a part's scan needs and build the classifier once; seconds taken."""
    started = time.perf_counter()
    from ..classifiers.engine import Classifier
    from ..migrations import runner
    from ..pipelines import scan  # noqa: F401 - imported for its imports
    from ..trust import results  # noqa: F401 - pyarrow's dataset writer
    warm_tasks()
    Classifier(bytes(32))     # a throwaway key: builds Presidio's registry and analyzer
    runner.head()             # Alembic and the ledger's revisions, read once
    from ..pipelines import worker_host
    worker_host.keep_between_scans()   # the item workers' host, importing the stack now
    return time.perf_counter() - started


def dask_setup(server: Any) -> None:
    """Called by ``--preload`` in the scheduler and in each worker process before it
    takes work."""
    from distributed import Scheduler
    if isinstance(server, Scheduler):
        started = time.perf_counter()
        warm_tasks()
        log.info("dataward task modules loaded in %.1f s", time.perf_counter() - started)
        return
    # Dask's statistical profiler samples the running task's stack every 10 ms (for the
    # dashboard's profile page): about 2% of a core beside a scan, and nobody reads it.
    for name in ("profile", "profile-cycle"):
        callback = server.periodic_callbacks.pop(name, None)
        if callback is not None:
            callback.stop()
    log.info("dataward scan stack loaded in %.1f s", warm_up())
    global WARM
    WARM = True
