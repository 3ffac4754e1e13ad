"""Flow tests share the one Prefect test harness of tests/conftest.py (``prefect_harness``)
and the paused-run helpers of tests/prefect_runs.py."""
