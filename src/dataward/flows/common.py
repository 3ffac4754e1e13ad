"""What every flow module shares: the config loader and the retry rule."""
from __future__ import annotations

from typing import Any

from ..errors import is_transient


def retry_if_transient(_task: Any, _run: Any, state: Any) -> bool:
    """Prefect's retry_condition_fn: retry a failed task only for a transient error (a
    locked ledger, a busy server); integrity, key and policy errors fail at once."""
    try:
        state.result()
    except Exception as exc:  # noqa: BLE001 - only asking whether it is transient
        return is_transient(exc)
    return False


def load(config: str | None) -> Any:
    """The settings a flow run works with (the config path travels as a string)."""
    from ..settings import load_settings
    return load_settings(config)
