"""The recognizers package names its exports (``__all__`` is written out so type checkers
read it): every pattern recognizer the engine runs is among them, and each name exists."""
from dataward.classifiers import recognizers


def test_every_pattern_recognizer_is_exported_by_name():
    exported = set(recognizers.__all__)
    assert {cls.__name__ for cls in recognizers.PATTERN_RECOGNIZERS} <= exported
    assert all(hasattr(recognizers, name) for name in exported)
