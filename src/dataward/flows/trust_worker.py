"""A Dask preload for the trust's workers: the scan stack loaded once per worker process.

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
"""
from __future__ import annotations

import logging
import time
from typing import Any

log = logging.getLogger("dataward.trust.worker")


def warm_up() -> float:
    """Import what a part's scan needs and build the classifier once; seconds taken."""
    started = time.perf_counter()
    from ..classifiers.engine import Classifier
    from ..migrations import runner
    from ..pipelines import scan  # noqa: F401 - imported for its imports
    from . import trust  # noqa: F401 - the tasks' module (Prefect with it)
    Classifier(bytes(32))     # a throwaway key: builds Presidio's registry and analyzer
    runner.head()             # Alembic and the ledger's revisions, read once
    from ..pipelines import worker_host
    worker_host.keep_between_scans()   # the item workers' host, importing the stack now
    return time.perf_counter() - started


def dask_setup(worker: Any) -> None:
    """Called by ``dask worker --preload`` in each worker process before it takes work."""
    log.info("dataward scan stack loaded in %.1f s", warm_up())
