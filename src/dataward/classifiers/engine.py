"""The classifier: text -> findings, through Presidio's AnalyzerEngine with dataward's
recognizers, fast enough for a nightly scan of a whole share.

How it stays fast while keeping Presidio's recognizers authoritative:
1. Roster names and special-category terms: one Aho-Corasick pass each over the
   case-folded text (C speed, independent of the roster's size).
2. Every pattern entity needs a digit run, a letter-digit postcode tail or an '@'; one
   cheap trigger regex finds those spots, and only windows of text around them (merged,
   snapped to whitespace) go to Presidio's AnalyzerEngine. Prose without identifiers
   costs one regex scan.
3. Presidio runs with the no-op NLP engine and dataward's recognizers only; each validates
   its checksum. Context words near a match raise its score, as Presidio's enhancer would.

Findings leave this module as fingerprints and masked previews only.
"""
from __future__ import annotations

import bisect
import logging
import re
from collections import Counter
from typing import TYPE_CHECKING, NamedTuple

from presidio_analyzer import (
    AnalyzerEngine,
    EntityRecognizer,
    RecognizerRegistry,
    RecognizerResult,
)
from presidio_analyzer.context_aware_enhancers import ContextAwareEnhancer
from presidio_analyzer.nlp_engine import NlpArtifacts, NoOpNlpEngine

from ..connectors.roster import Roster, canonical
from .column_check import CONTEXT_BOOST, ColumnFindings, check_column
from .extractors.base import Extracted, TextBuilder
from .fingerprint import Fingerprinter, mask
from .recognizers import PATTERN_RECOGNIZERS
from .recognizers.roster_names import SCORE as ROSTER_SCORE
from .recognizers.roster_names import RosterNameRecognizer
from .recognizers.roster_names import is_word_char as roster_word_char
from .recognizers.special_category import SpecialCategoryRecognizer
from .recognizers.special_category import is_word_char as special_word_char
from .recognizers.terms import TermMatcher

if TYPE_CHECKING:
    from spacy.language import Language

# Every pattern entity holds four digits close together, a digit and two letters (a
# postcode's inward code) or an '@'. Cue words (DOB, passport) need no trigger of their
# own: they stand before a value that has one, inside its window. The lookahead lets the
# regex engine skip to candidate characters.
TRIGGER = re.compile(r"(?=[\d@])(?:\d ?\d[ ./-]?\d ?\d|\d[A-Za-z]{2}\b|@)")
# Cues (DOB, passport, context words) stand before a value, so windows reach further back
# than forward: far enough back for every cue, far enough forward for the longest value.
log = logging.getLogger("dataward.classifiers")
WINDOW_BEFORE = 72
WINDOW_AFTER = 28
CONTEXT_WINDOW = 40


class Finding(NamedTuple):
    """One occurrence: what it is, where, and only its masked preview and fingerprint.
    (A named tuple: a dense export makes hundreds of thousands of them.)"""

    entity_type: str
    where: str
    offset: int
    score: float
    recognizer: str
    preview: str
    fingerprint: str
    category: str = ""
    via: str = ""  # "ocr": found in text recognised from a picture


def _windows(text: str) -> list[tuple[int, int]]:
    spans: list[tuple[int, int]] = []
    n = len(text)
    for m in TRIGGER.finditer(text):
        s, e = max(0, m.start() - WINDOW_BEFORE), min(n, m.end() + WINDOW_AFTER)
        if spans and s <= spans[-1][1]:
            spans[-1] = (spans[-1][0], max(spans[-1][1], e))
        else:
            spans.append((s, e))
    snapped = []
    for s, e in spans:
        floor = max(0, s - 40)
        while s > floor and not text[s - 1].isspace():
            s -= 1
        while e < n and not text[e].isspace():
            e += 1
        snapped.append((s, e))
    return snapped


class _NoContextEnhancer(ContextAwareEnhancer):
    """Presidio's lemma enhancer needs NLP tokens (the no-op engine has none) and deep-copies
    every result; dataward boosts scores from context words itself (``CONTEXT_BOOST``)."""

    def __init__(self) -> None:
        super().__init__(context_similarity_factor=0, min_score_with_context_similarity=0,
                         context_prefix_count=0, context_suffix_count=0)

    def enhance_using_context(self, text: str, raw_results: list[RecognizerResult],
                              nlp_artifacts: NlpArtifacts, recognizers: list[EntityRecognizer],
                              context: list[str] | None = None) -> list[RecognizerResult]:
        return raw_results


class Classifier:
    """Built once per process (building Presidio's engine costs ~0.1 s); thread-safe reads."""

    def __init__(self, key: bytes, roster: Roster | None = None, *,
                 score_threshold: float = 0.4, ner_model: str | None = None) -> None:
        self.fingerprint = Fingerprinter(key)
        self.threshold = score_threshold
        self.recognizers = {cls.ENTITY: cls() for cls in PATTERN_RECOGNIZERS}
        registry = RecognizerRegistry(supported_languages=["en"])
        for rec in self.recognizers.values():
            registry.add_recognizer(rec)
        nlp = NoOpNlpEngine(models=[{"lang_code": "en", "model_name": "none"}])
        self.analyzer = AnalyzerEngine(registry=registry, nlp_engine=nlp,
                                       supported_languages=["en"],
                                       context_aware_enhancer=_NoContextEnhancer())
        self._requires = [(e, type(r).REQUIRES) for e, r in self.recognizers.items()]
        self.names = RosterNameRecognizer(roster or Roster())
        self.special = SpecialCategoryRecognizer()
        # One pass of one automaton finds names and special-category terms together.
        self.terms = TermMatcher()
        self.terms.add("PERSON", roster_word_char, self.names.entries(), possessive=True)
        self.terms.add("SPECIAL_CATEGORY", special_word_char, self.special.entries())
        self.terms.build()
        self.ner = load_ner(ner_model)
        self._context = {
            ent: re.compile("|".join(re.escape(c) for c in rec.context), re.IGNORECASE)
            for ent, rec in self.recognizers.items() if rec.context
        }

    # ---- the pattern entities, through Presidio ----------------------------------
    def _pattern_hits(self, text: str) -> list[tuple[str, int, int, float, str]]:
        spans = _windows(text)
        if not spans:
            return []
        pieces, starts, pos = [], [], 0
        for s, e in spans:
            pieces.append(text[s:e])
            starts.append((pos, s))
            pos += e - s + 1
        joined = "\n".join(pieces)
        entities = [e for e, req in self._requires if req is None or req.search(joined)]
        if not entities:
            return []
        results = self.analyzer.analyze(joined, language="en", entities=entities,
                                        score_threshold=0.0)
        hits = []
        keys = [p for p, _ in starts]
        for r in results:
            i = bisect.bisect_right(keys, r.start) - 1
            base_joined, base_text = starts[i]
            start = base_text + (r.start - base_joined)
            end = start + (r.end - r.start)
            score = r.score
            ctx = self._context.get(r.entity_type)
            if ctx is not None and ctx.search(text, max(0, start - CONTEXT_WINDOW), start):
                score = min(1.0, score + CONTEXT_BOOST)
            name = (r.recognition_metadata or {}).get("recognizer_name", r.entity_type)
            hits.append((r.entity_type, start, end, score, name))
        return _resolve_overlaps(hits)

    def classify(self, doc: Extracted) -> list[Finding]:
        """Every finding in ``doc``, one ``Finding`` each."""
        findings, batches = self.classify_batched(doc)
        findings.extend(as_findings(batches))
        return findings

    def classify_batched(self, doc: Extracted, *, counts_only: bool = False
                         ) -> tuple[list[Finding], list[ColumnFindings]]:
        """The findings in ``doc``: those in its text one ``Finding`` each, those in its
        identifier columns as columns (``column_check``), as a scan writes them.
        ``counts_only``: column findings carry no previews or fingerprints."""
        text = doc.text
        lo, hi, base = doc.keep_from, len(text) if doc.keep_to is None else doc.keep_to, doc.base
        where, fp = doc.where, self.fingerprint
        findings: list[Finding] = []
        for entity, start, end, score, rec_name in self._pattern_hits(text):
            if score < self.threshold or not lo <= start < hi:
                continue
            value = text[start:end]
            norm = self.recognizers[entity].normalise(value)
            findings.append(Finding(entity, where(start), base + start, round(score, 3), rec_name,
                                    mask(entity, value), fp(entity, norm)))
        hits = self.terms.find_in(text)
        names = RosterNameRecognizer.resolve(hits["PERSON"])
        for start, end, canon in names:
            if lo <= start < hi:
                findings.append(Finding("PERSON", where(start), base + start, ROSTER_SCORE,
                                        "RosterNameRecognizer", mask("PERSON", text[start:end]),
                                        fp("PERSON", canon)))
        # A term inside a roster name is the name ("Christian Hale" is not a religion).
        name_starts = [s for s, _, _ in names]
        for start, _end, cat in SpecialCategoryRecognizer.resolve(hits["SPECIAL_CATEGORY"]):
            if not lo <= start < hi:
                continue
            i = bisect.bisect_right(name_starts, start) - 1
            if i >= 0 and start < names[i][1]:
                continue
            findings.append(Finding("SPECIAL_CATEGORY", where(start), base + start,
                                    SpecialCategoryRecognizer.SCORE, "SpecialCategoryRecognizer",
                                    mask("SPECIAL_CATEGORY", cat),
                                    fp("SPECIAL_CATEGORY", cat), category=cat))
        if self.ner is not None:
            findings.extend(f for f in self._ner_findings(doc, hits["PERSON"])
                            if lo <= f.offset < hi)
        for entity, value, at in doc.extra:
            findings.append(Finding(entity, at, -1, 1.0, "metadata", mask(entity, value),
                                    fp(entity, value.strip().upper())))
        findings.sort(key=lambda f: f.offset)
        batches: list[ColumnFindings] = list(doc.counted)
        if doc.columns:
            rest = TextBuilder()
            for col in doc.columns:
                batches.extend(check_column(col, self.recognizers, self.fingerprint,
                                            self.threshold, rest, counts_only=counts_only))
            if rest.parts:  # cells that are not one identifier each: read as text
                findings.extend(f._replace(offset=-1) for f in self.classify(rest.build()))
        return findings, batches

    def _ner_findings(self, doc: Extracted, roster_hits: list[tuple[int, int, object]],
                      ) -> list[Finding]:
        """PERSON entities from the optional spaCy model that the roster did not find."""
        taken = [(s, e) for s, e, _ in roster_hits]
        out: list[Finding] = []
        if self.ner is None:
            return out
        for start in range(0, len(doc.text), NER_CHUNK):
            chunk = doc.text[start:start + NER_CHUNK]
            for ent in self.ner(chunk).ents:
                s, e = start + ent.start_char, start + ent.end_char
                if ent.label_ != "PERSON" or " " not in ent.text.strip():
                    continue
                if any(s < te and e > ts for ts, te in taken):
                    continue
                out.append(Finding("PERSON", doc.where(s), s, NER_SCORE, "SpacyNER",
                                   mask("PERSON", ent.text), self.fingerprint("PERSON", canonical(ent.text))))
        return out

    def classify_text(self, text: str) -> list[Finding]:
        return self.classify(Extracted(text))


NER_CHUNK = 100_000
NER_SCORE = 0.6


def load_ner(model: str | None) -> Language | None:
    """The spaCy pipeline named by ``model`` (an installed package or a model folder), or
    None. Nothing is ever downloaded: a missing model is logged and names come from the
    roster only."""
    if not model:
        return None
    import spacy
    import spacy.util
    from pathlib import Path
    if not (spacy.util.is_package(model) or Path(model).is_dir()):
        log.warning("spaCy model %s is not installed; names come from the roster only", model)
        return None
    return spacy.load(model, exclude=["parser", "lemmatizer", "textcat", "tagger"])


Hit = tuple[str, int, int, float, str]


def _resolve_overlaps(hits: list[Hit]) -> list[Hit]:
    """Of overlapping matches keep the highest score, then the longest span.

    Matches of different recognizers overlap only locally, so the hits are cut into
    clusters of transitively overlapping spans (one sort) and each cluster is resolved on
    its own: linear in the number of hits however dense the text is."""
    hits.sort(key=lambda h: h[1])
    kept: list[Hit] = []
    cluster: list[Hit] = []
    reach = -1
    for h in hits:
        if cluster and h[1] >= reach:
            kept.extend(_resolve_cluster(cluster))
            cluster = []
        cluster.append(h)
        reach = max(reach, h[2]) if len(cluster) > 1 else h[2]
    if cluster:
        kept.extend(_resolve_cluster(cluster))
    return kept


def _resolve_cluster(cluster: list[Hit]) -> list[Hit]:
    if len(cluster) == 1:
        return cluster
    cluster.sort(key=lambda h: (-h[3], -(h[2] - h[1]), h[1]))
    kept: list[Hit] = []
    for h in cluster:
        if all(h[2] <= k[1] or h[1] >= k[2] for k in kept):
            kept.append(h)
    kept.sort(key=lambda h: h[1])
    return kept


def as_findings(batches: list[ColumnFindings]) -> list[Finding]:
    """Column findings as one ``Finding`` each (for callers that want them so)."""
    return [Finding(*t) for b in batches for t in b.tuples()]


def entity_counts(findings: list[Finding]) -> Counter[str]:
    return Counter(f.entity_type for f in findings)
