"""Identifier columns checked as columns, their findings kept as columns.

A table column whose header names an identifier (``UPN``, ``NHS Number``, ``DOB``) is
checked cell by cell against the recognizers its header names, in bulk: each cell whole
against the recognizer's own patterns, then its check (``column_scores``), the header
standing as the cue exactly as in ``"NHS Number: 943 476 5919"`` text. The findings of
one entity in one column are one ``ColumnFindings``: lists of scores, previews and
fingerprints, and where the cells are as row numbers under a column prefix, never one
object per finding. A dense export's hundreds of thousands of findings go from here to
Arrow columns (``pipelines.outputs.column_findings_table``) without a tuple each.
Cells no recognizer accepts are read as text after all."""
from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from .extractors.base import Column, TextBuilder
from .fingerprint import Fingerprinter, mask_many
from .recognizers import header_entities
from .recognizers._base import DatawardPatternRecognizer

# Added to a recognizer's score when its context word stands before the value (here: the
# column header), as Presidio's context enhancer would.
CONTEXT_BOOST = 0.25


@dataclass(slots=True)
class ColumnFindings:
    """One entity's findings in one identifier column, one list per field. Where each
    is: ``labels``, or (``labels`` None) ``prefix`` and the 0-based table ``rows``."""

    entity_type: str
    recognizer: str
    scores: list[float]
    previews: list[str]
    fingerprints: list[str]
    labels: list[str] | None = None
    prefix: str = ""
    rows: list[int] | None = None

    def __len__(self) -> int:
        return len(self.scores)

    def where(self) -> list[str]:
        if self.labels is not None:
            return self.labels
        prefix = self.prefix
        return [f"{prefix}{r + 1}" for r in self.rows or ()]

    def tuples(self) -> Iterator[tuple[str, str, int, float, str, str, str]]:
        """Each finding as (entity_type, where, offset, score, recognizer, preview,
        fingerprint): the first fields of the engine's ``Finding``."""
        e, rec = self.entity_type, self.recognizer
        for where, score, preview, fp in zip(self.where(), self.scores, self.previews,
                                             self.fingerprints):
            yield e, where, -1, score, rec, preview, fp


def check_column(col: Column, recognizers: Mapping[str, DatawardPatternRecognizer],
                 fingerprint: Fingerprinter, threshold: float, rest: TextBuilder, *,
                 counts_only: bool = False) -> list[ColumnFindings]:
    """The findings of an identifier column's cells, one ``ColumnFindings`` per entity its
    header names; cells no recognizer takes go to ``rest`` to be read as text.
    ``counts_only``: the findings carry no previews, fingerprints or places (a caller
    that keeps only counts, such as the screening before packaging)."""
    out: list[ColumnFindings] = []
    values = col.values
    pending: list[int] | None = None          # None: every cell (no list of indexes made)
    for entity in header_entities(col.header):
        if pending is not None and not pending:
            break
        rec = recognizers[entity]
        cells = values if pending is None else [values[i] for i in pending]
        scores = rec.column_scores(cells)
        boosted = {s: round(min(1.0, s + CONTEXT_BOOST), 3) for s in set(scores) if s is not None}
        if None not in scores and all(b >= threshold for b in boosted.values()):
            kept, found, kept_scores = pending, cells, [boosted[s] for s in scores]  # type: ignore[index]
            pending = []
        else:
            index = range(len(values)) if pending is None else pending
            kept, found, kept_scores, left = [], [], [], []
            for i, v, s in zip(index, cells, scores):
                if s is None:
                    left.append(i)
                elif boosted[s] >= threshold:
                    kept.append(i)
                    found.append(v)
                    kept_scores.append(boosted[s])
            pending = left
        if not found:
            continue
        if counts_only:
            out.append(ColumnFindings(entity, type(rec).__name__, kept_scores, [], []))
            continue
        batch = ColumnFindings(entity, type(rec).__name__, kept_scores, mask_many(entity, found),
                               fingerprint.many(entity, rec.normalise_many(found)))
        if col.prefix is None:
            batch.labels = col.given if kept is None else [col.given[i] for i in kept]
        else:
            batch.prefix = col.prefix
            batch.rows = col.rows if kept is None else [col.rows[i] for i in kept]
        out.append(batch)
    left_over = range(len(values)) if pending is None else pending
    col.unread = [values[i] for i in left_over]
    for i in left_over:
        rest.add(f"{col.header}: {values[i]}", col.label(i))
    return out
