"""Flow tests share the one Prefect test harness of tests/conftest.py (``prefect_harness``)."""
