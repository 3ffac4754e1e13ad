"""One item of a scan: read it, find its format, extract its text, classify it, and
return its row for items.parquet and its rows for findings.parquet.

Whatever goes wrong with one item becomes that item's status and reason; nothing here
lets a bad file stop the scan. Reasons name the kind of failure, never document text
(parsers' messages can quote the document)."""
from __future__ import annotations

import gc
import hashlib
import io
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING
from dataclasses import dataclass, field
from datetime import UTC, datetime

import pyarrow as pa

from ..classifiers import name_index
from ..classifiers import risk as risk_mod
from ..classifiers.extractors import EncryptedItem, Extracted, Member, UnsupportedFormat, extract
from ..classifiers.extractors.text import PIECES, ReadAsText
from ..classifiers.extractors.archive import CAP_PREFIX, reset_budget
from ..classifiers.extractors.failure import failure_reason
from ..classifiers.ocr_item import OcrBudget, fold_confidence, recognise_item
from ..classifiers.path_names import names_in_path, path_words
from ..classifiers.sniff import HEAD_BYTES, sniff
from ..connectors.filesystem import FileEntry, owner_name, read_file, read_head
from ..connectors.smb import SmbEntry
from ..home import fingerprint_key
from ..settings import Settings
from .mail_policy import apply_mail_policy
from .item_row import ItemRow
from .outputs import (COUNT_COLUMNS, FINDINGS_SCHEMA, FindingsBuffer, TableRow,
                      column_findings_table, findings_table, table_of)

if TYPE_CHECKING:  # the engine imports Presidio and spaCy: only when an item is read
    from ..classifiers.column_check import ColumnFindings
    from ..classifiers.engine import Classifier, Finding

ENTITY_TO_COLUMN = dict(zip(risk_mod.ENTITY_TYPES, COUNT_COLUMNS))


@dataclass
class ItemContext:
    """What every item of one scan shares (built once per process).

    ``classifier`` may be given as a zero-argument factory: it is then built on first use,
    so a rescan that reads nothing never loads the NLP stack (about 70 MB)."""
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
    # Text recognition time left for the scan, shared by the workers forked from it.
    ocr_budget: OcrBudget = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.ocr_budget = OcrBudget(self.settings.ocr.scan_budget_minutes)

    @property
    def classifier(self) -> Classifier:
        if callable(self.classifier_or_factory):
            self.classifier_or_factory = self.classifier_or_factory()
        return self.classifier_or_factory

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


# Files larger than this are sniffed from their first bytes before being read whole.
QUICK_LOOK_BYTES = 1 << 20

# Text recognition stops at this share of the item's time limit (the worker is killed at it).
OCR_SHARE_OF_ITEM_TIME = 0.7

# Containers inside containers: deeper members are recorded as skipped, not read.
MAX_DEPTH = 5


def base_row(entry: FileEntry, source_name: str, audience: str, scan_id: str) -> ItemRow:
    return ItemRow(
        scan_id=scan_id, locator=entry.locator, source=source_name, path=entry.display_path,
        size=entry.size,
        mtime=datetime.fromtimestamp(entry.mtime_ns / 1e9, UTC) if entry.mtime_ns else None,
        mtime_ns=entry.mtime_ns, inode=entry.inode, owner=owner_name(entry.uid),
        mode=f"{entry.mode:03o}", audience=audience)


class ItemFindings:
    """What one item holds, gathered piece by piece: entity counts and categories for its
    items row, and its findings.parquet rows as Arrow tables (spooled past a size)."""

    def __init__(self, locator: str, ctx: ItemContext) -> None:
        self.locator, self.scan_id = locator, ctx.scan_id
        self._risk, self._domains = ctx.settings.risk, ctx.settings.school.domains
        self.counts: Counter[str] = Counter()
        # For the risk score: mail-header findings weigh less; special category is judged
        # without them (risk.weighted_counts, risk.outside_headers).
        self.weighted: dict[str, float] = {}
        self.outside: Counter[str] = Counter()
        self.categories: set[str] = set()
        self.rows = FindingsBuffer(ctx.spool_dir)
        self.tokens: set[str] = set()
        self.counts_only = ctx.counts_only

    def add(self, findings: list[Finding]) -> None:
        self.counts.update(f.entity_type for f in findings)
        for entity, w in risk_mod.weighted_counts(findings, self._risk, self._domains).items():
            self.weighted[entity] = self.weighted.get(entity, 0.0) + w
        self.outside.update(risk_mod.outside_headers(findings))
        self.categories.update(f.category for f in findings if f.category)
        if not self.counts_only:
            self.rows.add(findings_table(findings, self.locator, self.scan_id))

    def add_columns(self, batches: list[ColumnFindings]) -> None:
        """Findings of identifier columns, as columns: table cells, never mail headers,
        with no category, so each counts once everywhere."""
        for batch in batches:
            n, entity = len(batch), batch.entity_type
            self.counts[entity] += n
            self.weighted[entity] = self.weighted.get(entity, 0.0) + n
            self.outside[entity] += n
            if not self.counts_only:
                self.rows.add(column_findings_table(batch, self.locator, self.scan_id))

    def clear(self) -> None:
        self.tokens = set()
        self.counts.clear()
        self.weighted.clear()
        self.outside.clear()
        self.categories.clear()
        self.rows = FindingsBuffer(self.rows.spool_dir)


def apply_counts(row: ItemRow, found: ItemFindings, settings: Settings) -> None:
    counts = found.counts
    for entity, n in counts.items():
        col = ENTITY_TO_COLUMN.get(entity)
        if col:
            row.set_count(col, n)
    row.n_findings = sum(counts.values())
    row.special_category = risk_mod.is_special_category(found.outside)
    row.special_categories = ",".join(sorted(found.categories))
    row.risk_score, row.risk_level = risk_mod.score(found.weighted, row.audience,
                                                    settings.risk, row.special_category)


@contextmanager
def _collector_paused() -> Iterator[None]:
    """A dense piece makes hundreds of thousands of small objects (cells, findings, their
    strings), none of them in reference cycles; the garbage collector's passes over them
    cost more than the work itself (measured: bench/dense_bench.py, docs/performance.md).
    Everything is freed by reference counting when the piece is done."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _pieces(fmt: str, data: bytes, ctx: ItemContext | None = None) -> Iterator[Extracted]:
    """The item's text: streamed in pieces for text-like formats, else extracted whole.
    The collector stays paused from the first streamed piece until the last has been
    classified (or the reading ends otherwise and this generator is closed): turned on
    between pieces, it would first pass over every cell and mark of the piece just read.
    Counting only (``ctx.counts_only``), a CSV's identifier cells are counted in bulk
    where that gives the same counts (``classifiers.column_counts``)."""
    streamed = PIECES.get(fmt)
    if streamed is None:
        yield extract(fmt, data)
    else:
        if ctx is not None and ctx.counts_only:
            from ..classifiers.column_counts import COUNTED  # loads the recognizers
            if fmt in COUNTED:
                streamed = partial(COUNTED[fmt], threshold=ctx.classifier.threshold)
        with _collector_paused():
            yield from streamed(data)


def classify_bytes(data: bytes, name: str, ctx: ItemContext, row: ItemRow,
                   found: ItemFindings, children: list[Member] | None = None) -> bytes | None:
    """Sniff, extract and classify bytes already in memory into ``found``; sets
    format/status/error. Members the extractor found inside (archive members,
    attachments) are appended to ``children`` for the caller to process as items. A roster
    name in the item's file or folder name is a finding whether or not its content could
    be read. Returns the keyed index of the item's words (``classifiers.name_index``):
    it lets a later scan find names added to the roster without reading the item again
    (None when only counts are wanted)."""
    _classify_content(data, name, ctx, row, found, children)
    found.add(names_in_path(ctx.classifier, name))
    if ctx.counts_only:
        return None
    found.tokens |= name_index.tokens(path_words(name))
    return name_index.build_tokens(ctx.index_key, found.tokens)


def _classify_content(data: bytes, name: str, ctx: ItemContext, row: ItemRow,
                      found: ItemFindings, children: list[Member] | None) -> None:
    fmt = sniff(name, data[:HEAD_BYTES], io.BytesIO(data))
    row.format = fmt
    if not data:
        row.status, row.error = "skipped", "empty file"
        return
    pieces = _pieces(fmt, data, ctx)
    streamed = fmt in PIECES
    done = 0
    while True:
        try:
            if streamed:
                with _collector_paused():
                    doc = next(pieces, None)
            else:
                doc = next(pieces, None)
        except ReadAsText:  # a .csv that is not CSV: its pieces so far are dropped
            found.clear()
            pieces, done = _pieces("txt", data), 0
            continue
        except UnsupportedFormat:
            row.status, row.error = "unsupported", f"no reader for {fmt} files yet"
            return
        except EncryptedItem as exc:
            row.status, row.error = "encrypted", str(exc)
            return
        except Exception as exc:  # noqa: BLE001 - a hostile file must not stop the scan
            found.clear()
            row.status, row.error = "error", failure_reason(fmt, exc, row.locator)
            return
        if doc is None:
            break
        apply_mail_policy(doc, row, ctx.settings)  # audience, retention, caps (mail only)
        if children is not None:
            children.extend(doc.children)
        if doc.status != "ok":
            row.status, row.error = doc.status, doc.reason
        elif doc.reason and not row.error:  # read, with a note of what could not be
            row.error = doc.reason
        row.taken = row.taken or doc.taken
        ocr = None
        if not streamed:
            # Pictures of text (scanned pages, faxes, photos of forms): recognised, or said
            # unread. Streamed formats are text already.
            deadline = time.monotonic() + OCR_SHARE_OF_ITEM_TIME * ctx.settings.scan.item_timeout_s
            ocr = recognise_item(fmt, data, doc, ctx.settings.ocr, ctx.ocr_budget, deadline)
            if ocr is not None:
                row.ocr = ocr.state
                if ocr.state != "read" and row.status == "ok":
                    row.status, row.error = "partial", ocr.note
        with _collector_paused():
            findings, batches = ctx.classifier.classify_batched(doc, counts_only=ctx.counts_only)
            if ocr is not None:  # recognised text: each finding's confidence is folded in
                from ..classifiers.engine import as_findings
                findings = fold_confidence(findings + as_findings(batches), ocr)
                batches = []
            found.add(findings)
            found.add_columns(batches)
            # The words of the item (cells of identifier columns that held no identifier
            # included) for the name index.
            if not ctx.counts_only:
                found.tokens |= name_index.tokens(doc.text)
                for col in doc.columns:
                    if col.unread:
                        found.tokens |= name_index.tokens("\n".join(col.unread))
        done += len(doc.text)
        # Freed now, while the collector is paused: the last piece is still referenced
        # when the collector comes back on, else it would pass over all its cells.
        doc = findings = batches = None  # type: ignore[assignment]
        if ctx.progress is not None:
            ctx.progress(done)


def process_member(member: Member, parent: ItemRow, ctx: ItemContext, depth: int) -> ItemOutcome:
    """One member of a container item, processed like a file (recursively)."""
    row = parent.copy(locator=parent.locator + member.sep + member.name,
                      path=parent.path + member.sep + member.name, format="", sha256="",
                      status=member.status, error=member.error, taken="", ocr="",
                      size=member.size if member.size is not None else len(member.data or b""))
    row.clear_findings()
    if member.audience:
        row.audience = member.audience
    if member.mtime_ns:
        row.mtime_ns = member.mtime_ns
        row.mtime = datetime.fromtimestamp(member.mtime_ns / 1e9, UTC)
    if member.data is None:  # not read (encrypted, over a cap): its name is all we know
        fmt = sniff(member.name, b"")
        row.format = "unknown" if fmt == "empty" else fmt
        return _not_read(row, member.name, ctx)
    row.sha256 = hashlib.sha256(member.data).hexdigest()
    if depth > MAX_DEPTH:
        row.set(status="skipped", error=f"nested deeper than {MAX_DEPTH} containers",
                format=sniff(member.name, member.data[:HEAD_BYTES]))
        return ItemOutcome(row, [], capped=row.error)
    return _classified(member.data, member.name, row, ctx, depth)


def _classified(data: bytes, name: str, row: ItemRow, ctx: ItemContext, depth: int) -> ItemOutcome:
    children: list[Member] = []
    found = ItemFindings(row.locator, ctx)
    index = classify_bytes(data, name, ctx, row, found, children)
    apply_counts(row, found, ctx.settings)
    table, spool = found.rows.result()
    outcome = ItemOutcome(row, table, len(data), findings_spool=spool, name_index=index)
    outcome.children = [process_member(m, row, ctx, depth + 1) for m in children]
    # A container a cap stopped, at any depth below it, is `skipped` up to the file on
    # the share (docs/formats.md): it was not read in full.
    capped = next((c.capped for c in outcome.children if c.capped), "")
    if not capped and row.status == "skipped" and row.error.startswith(CAP_PREFIX):
        capped = row.error
    if capped:
        outcome.capped = capped
        if row.status == "ok":
            row.status, row.error = "skipped", f"a cap stopped reading inside it: {capped}"
    return outcome


def _not_read(row: ItemRow, rel: str, ctx: ItemContext) -> ItemOutcome:
    """An item whose content was not read: its path can still name a pupil."""
    found = ItemFindings(row.locator, ctx)
    found.add(names_in_path(ctx.classifier, rel))
    apply_counts(row, found, ctx.settings)
    table, spool = found.rows.result()
    return ItemOutcome(row, table, findings_spool=spool)


def process_entry(entry: FileEntry, source_name: str, audience: str, ctx: ItemContext) -> ItemOutcome:
    if isinstance(entry, SmbEntry):  # read over SMB, with its permissions
        from .smb_item import process_smb_entry
        return process_smb_entry(entry, source_name, audience, ctx)
    row = base_row(entry, source_name, audience, ctx.scan_id)
    if entry.kind == "symlink":
        row.set(status="skipped", format="symlink", error=entry.error or "symbolic link (not followed)")
        return ItemOutcome(row, [])
    if entry.kind == "dir-error":
        row.set(status="error", format="folder", error=entry.error)
        return ItemOutcome(row, [])
    if entry.kind == "special":
        row.set(status="skipped", format="special", error="not a regular file (device, FIFO or socket)")
        return ItemOutcome(row, [])
    if entry.size > ctx.max_bytes:
        row.set(status="skipped", error=f"larger than the {ctx.settings.scan.max_file_mb:g} MB cap",
                format=sniff(entry.rel, b""))
        return _not_read(row, entry.rel, ctx)
    try:
        if entry.size > QUICK_LOOK_BYTES:
            # An unknown binary (a video, a program) is dismissed from its first bytes.
            head = read_head(entry, HEAD_BYTES)
            if sniff(entry.rel, head) == "binary":
                row.set(status="unsupported", format="binary",
                           error="unknown binary format (only its first bytes were read)")
                return _not_read(row, entry.rel, ctx)
        data = read_file(entry, ctx.max_bytes)
    except FileNotFoundError:
        row.set(status="error", error="disappeared during the scan")
        return ItemOutcome(row, [])
    except PermissionError:
        row.set(status="error", error="permission denied")
        return _not_read(row, entry.rel, ctx)
    except OSError as exc:
        reason = "is a symbolic link now (not followed)" if exc.errno == 40 else (exc.strerror or "read error")
        row.set(status="error", error=reason)
        return ItemOutcome(row, [])
    except ValueError as exc:
        row.set(status="error", error=str(exc))
        return ItemOutcome(row, [])
    row.sha256 = hashlib.sha256(data).hexdigest()
    reset_budget()  # one expansion budget for each file and every archive nested in it
    return _classified(data, entry.rel, row, ctx, 0)
