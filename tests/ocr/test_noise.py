"""OCR noise: cue words survive it (NHS read as NUS, DOB as D0B), checksums do not bend."""
from __future__ import annotations

import pytest

from dataward.classifiers.extractors.base import Extracted
from dataward.classifiers.ocr import parse_tsv, repair_cue
from tests.formats.conftest import make_settings, run

from .conftest import png_bytes, render_letter


@pytest.mark.parametrize("seen, read", [
    ("NUS", "NHS"), ("D0B:", "DOB:"), ("DO8", "DOB"), ("Passp0rt", "Passport"), ("UPN:", "UPN:"),
    ("Pupil:", "Pupil:"), ("BUS", "BUS"), ("JOB", "JOB"), ("Dob", "Dob"), ("horn", "horn"),
    ("number", "number"), ("8orn", "born"),
])
def test_cue_words_read_through_ocr_confusions(seen, read):
    assert repair_cue(seen) == read


def _tsv(words: list[str]) -> str:
    head = "level\tpage_num\tblock_num\tpar_num\tline_num\tword_num\tleft\ttop\twidth\theight\tconf\ttext"
    rows = [f"5\t1\t1\t1\t1\t{i}\t0\t0\t10\t10\t91.5\t{w}" for i, w in enumerate(words, 1)]
    return "\n".join([head, *rows]) + "\n"


def test_a_cue_misread_by_ocr_still_cues_the_value(dw_home, tmp_path):
    """A date with a misread DOB cue is a date of birth in recognised text; the same bytes
    typed (no OCR) are not repaired."""
    from dataward.pipelines.scan import build_roster, make_classifier
    settings = make_settings(tmp_path)
    classifier = make_classifier(settings, build_roster(settings))
    page = parse_tsv(_tsv(["Pupil", "D0B:", "14/03/2015", "passp0rt", "123456789"]))
    found = {f.entity_type for f in classifier.classify(Extracted(page.text))}
    assert {"DATE_OF_BIRTH", "UK_PASSPORT"} <= found
    typed = {f.entity_type for f in classifier.classify(Extracted("Pupil D0B: 14/03/2015"))}
    assert "DATE_OF_BIRTH" not in typed
    assert [round(c, 3) for _s, _e, c in page.words] == [0.915] * 5


def test_checksums_stay_strict_in_recognised_text(ocr_settings, tmp_path):
    share = tmp_path / "share"
    share.mkdir()
    # 943 476 5918 and U820200014014: one digit off the valid NHS number and UPN.
    lines = ["Medical form", "NHS number: 943 476 5918", "UPN: U820200014014", "Pupil: Amelia Khan"]
    (share / "form.png").write_bytes(png_bytes(render_letter(200, lines)))
    s = run(ocr_settings, share)
    assert s.items["form.png"].ocr == "read"
    found = set(s.findings.entity_type)
    assert "PERSON" in found and not found & {"UK_NHS", "UK_UPN", "UK_ULN"}


@pytest.mark.parametrize("words, entity", [
    # The NHS number and UPN of conftest.py (worked by hand), as OCR slips on them.
    (["UPN:", "U8202000", "14013"], "UK_UPN"),          # a space inside
    (["UPN:", "U82020OO14013"], "UK_UPN"),              # O for 0
    (["NHS", "number:", "943", "476", "59l9"], "UK_NHS"),  # l for 1
    (["NHS", "number:", "9434765", "919"], "UK_NHS"),
    (["Postcode:", "SWlA", "1AA"], "UK_POSTCODE"),      # l where only a digit can be
])
def test_identifiers_mended_when_the_check_digit_agrees(dw_home, tmp_path, words, entity):
    from dataward.pipelines.scan import build_roster, make_classifier
    classifier = make_classifier(make_settings(tmp_path), build_roster(make_settings(tmp_path)))
    page = parse_tsv(_tsv(words))
    assert len(page.text) == len(" ".join(words)) + 1  # same length: word offsets hold
    assert entity in {f.entity_type for f in classifier.classify(Extracted(page.text))}
    typed = " ".join(words)  # typed text is never mended
    assert entity not in {f.entity_type for f in classifier.classify(Extracted(typed))}


@pytest.mark.parametrize("words", [
    ["UPN:", "U8202000", "14014"],             # one digit off: the check letter disagrees
    ["NHS", "number:", "943", "476", "59l8"],  # mended, the check digit still fails
    ["Tel", "020", "7946", "0123"],            # numbers side by side are not joined into one
])
def test_mending_never_invents_an_identifier(dw_home, tmp_path, words):
    from dataward.pipelines.scan import build_roster, make_classifier
    classifier = make_classifier(make_settings(tmp_path), build_roster(make_settings(tmp_path)))
    found = {f.entity_type for f in classifier.classify(Extracted(parse_tsv(_tsv(words)).text))}
    assert not found & {"UK_UPN", "UK_NHS", "UK_ULN"}
