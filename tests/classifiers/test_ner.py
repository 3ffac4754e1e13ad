"""Optional spaCy NER: used when a model is installed, never downloaded."""
import logging

import spacy

from dataward.classifiers.engine import Classifier

KEY = b"k" * 32


def _tiny_model(tmp_path):
    """A real spaCy pipeline saved to disk: an entity ruler that knows one name."""
    nlp = spacy.blank("en")
    ruler = nlp.add_pipe("entity_ruler")
    ruler.add_patterns([{"label": "PERSON", "pattern": "Zebedee Quill"}])
    path = tmp_path / "tiny-ner"
    nlp.to_disk(path)
    return str(path)


def test_ner_model_finds_names_missing_from_the_roster(tmp_path):
    c = Classifier(KEY, ner_model=_tiny_model(tmp_path))
    fs = [f for f in c.classify_text("Letter about Zebedee Quill, Year 5.") if f.entity_type == "PERSON"]
    assert len(fs) == 1 and fs[0].recognizer == "SpacyNER" and fs[0].preview == "Z****** Q****"
    assert "Zebedee" not in repr(fs)


def test_missing_model_is_not_downloaded(caplog):
    with caplog.at_level(logging.WARNING, logger="dataward.classifiers"):
        c = Classifier(KEY, ner_model="en_core_web_sm_not_installed")
    assert c.ner is None
    assert "not installed" in caplog.text
    assert c.classify_text("Zebedee Quill") == []
