"""The recognizers package names its exports (``__all__`` is written out so type checkers
read it): every pattern recognizer the engine runs is among them, and each name exists."""
from dataward.classifiers import recognizers


def test_every_pattern_recognizer_is_exported_by_name():
    exported = set(recognizers.__all__)
    assert {cls.__name__ for cls in recognizers.PATTERN_RECOGNIZERS} <= exported
    assert all(hasattr(recognizers, name) for name in exported)


def test_the_names_list_is_the_recognizers_and_reading_it_does_not_load_presidio(tmp_path):
    """The scan's read basis names the recognizers from PATTERN_RECOGNIZER_NAMES, so a
    scanning process whose workers come from a worker host never loads Presidio."""
    import os
    import subprocess
    import sys

    assert recognizers.PATTERN_RECOGNIZER_NAMES == tuple(
        cls.__name__ for cls in recognizers.PATTERN_RECOGNIZERS)
    code = ("import sys; from dataward.pipelines.scan_basis import basis_for; "
            "from dataward.settings import load_settings; "
            "basis_for(load_settings(None), 'r', 'staff'); "
            "print(sorted(m for m in ('presidio_analyzer', 'spacy') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env={**os.environ, "DATAWARD_HOME": str(tmp_path)})
    assert out.stdout.split("\n")[-2] == "[]", out.stdout + out.stderr
