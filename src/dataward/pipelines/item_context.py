"""What the items of one scan share (``ItemContext``) and what reading one item gives
(``ItemOutcome``).

The context travels to the worker host (``worker_host``) when the scanning process runs
other threads: only what rebuilds it there goes (settings, the classifier's factory, the
scan id and paths), never a built classifier. The scanning process then never builds the
Classifier for the items it hands to workers."""
from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from ..classifiers import name_index
from ..classifiers.ocr_item import OcrBudget
from ..home import fingerprint_key
from ..settings import Settings
from .item_row import ItemRow
from .outputs import FINDINGS_SCHEMA, TableRow, table_of

if TYPE_CHECKING:  # the engine imports Presidio and spaCy: only when an item is read
    from ..classifiers.engine import Classifier


@dataclass
class ItemContext:
    """What every item of one scan shares (built once per process).

    ``classifier`` may be given as a zero-argument factory: it is then built on first use,
    so a rescan that reads nothing never loads the NLP stack (about 70 MB). The factory is
    kept beside the built classifier: it is what a worker host rebuilds the classifier
    from, so it must pickle (``functools.partial`` of a module-level function, not a
    lambda)."""
    settings: Settings
    classifier_or_factory: Classifier | Callable[[], Classifier]
    scan_id: str
    # Where an item with very many findings spools them (the scan's work folder); None:
    # they stay in memory.
    spool_dir: Path | None = None
    # Called as a streamed item is read, with the characters read so far: a worker turns
    # it into a heartbeat, so a long item that is making progress is not taken for hung.
    progress: Callable[[int], None] | None = None
    # Only the counts are wanted (the screening before packaging): no findings rows, no
    # fingerprints or previews of column cells, no name index.
    counts_only: bool = False
    _index_key: bytes | None = field(default=None, init=False, repr=False)
    _built: Classifier | None = field(default=None, init=False, repr=False)
    # Text recognition time left for the scan, shared by the workers forked from the
    # process that made it.
    ocr_budget: OcrBudget = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.ocr_budget = OcrBudget(self.settings.ocr.scan_budget_minutes)

    def __getstate__(self) -> dict[str, Any]:
        """What travels to a worker host: settings, the classifier's factory, paths. A
        built classifier does not travel (the host builds its own), nor the OCR budget's
        shared memory (the host makes one its workers share)."""
        if not callable(self.classifier_or_factory):
            raise TypeError("an ItemContext sent to a worker host needs a classifier factory")
        state = dict(self.__dict__)
        state.update(progress=None, _index_key=None, _built=None)
        del state["ocr_budget"]
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self.__post_init__()

    @property
    def classifier(self) -> Classifier:
        if self._built is None:
            made = self.classifier_or_factory
            self._built = made() if callable(made) else made
        return self._built

    @property
    def index_key(self) -> bytes:
        """The key of the name index (derived from the school's fingerprint key)."""
        if self._index_key is None:
            self._index_key = name_index.index_key(fingerprint_key(self.settings))
        return self._index_key

    @property
    def max_bytes(self) -> int:
        return int(self.settings.scan.max_file_mb * 1024 * 1024)


@dataclass
class ItemOutcome:
    item: ItemRow
    # Rows of findings.parquet (an Arrow table of FINDINGS_SCHEMA; a list of row dicts is
    # converted), and the spool file holding more of them when there were very many.
    findings: pa.Table | list[TableRow]
    bytes_read: int = 0
    # Items inside this one (archive members, attachments), already processed.
    children: list[ItemOutcome] = field(default_factory=list)
    findings_spool: Path | None = None
    # Why a cap stopped reading this item or something inside it ("" when none did).
    capped: str = ""
    # The keyed index of its words (classifiers.name_index), when it has text.
    name_index: bytes | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.findings, pa.Table):
            self.findings = table_of(self.findings, FINDINGS_SCHEMA)

    def flatten(self) -> Iterator[ItemOutcome]:
        yield self
        for child in self.children:
            yield from child.flatten()
