"""A test-only reader for a made-up format (``.hang``) that never returns, as a parser stuck
in a loop. Workers forked by the worker host see it when the host imports this module
first (``worker_host.PRELOAD`` names ``hung_reader:register``)."""
from __future__ import annotations

import time


def _hang(data: bytes) -> None:
    while True:
        time.sleep(0.01)


def register() -> None:
    from dataward.classifiers import sniff
    from dataward.classifiers.extractors import EXTRACTORS
    sniff.EXTENSIONS[".hang"] = "hang"
    EXTRACTORS["hang"] = _hang
