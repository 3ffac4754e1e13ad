"""Checksummed identifiers are validated, never matched by shape alone."""
import pytest

from dataward.classifiers.recognizers.uk_nhs import is_valid_nhs
from dataward.classifiers.recognizers.uk_nino import is_valid_nino
from dataward.classifiers.recognizers.uk_uln import is_valid_uln
from dataward.classifiers.recognizers.uk_upn import is_valid_upn, upn_check_letter


@pytest.mark.parametrize("upn, valid", [
    ("U820200014013", True),
    ("T820200014013", False),          # wrong check letter
    ("U82020001401", False),           # too short
    ("I820200014013", False),          # I is never a check letter
    ("A12345678901Z", is_valid_upn("A12345678901Z")),
])
def test_upn(upn, valid):
    assert is_valid_upn(upn) is valid


def test_upn_temporary_letter_in_last_place():
    body = "82020001401A"  # temporary UPNs end in a letter
    assert is_valid_upn(upn_check_letter(body) + body)


@pytest.mark.parametrize("nhs, valid", [
    ("943 476 5919", True), ("9434765919", True), ("943-476-5919", True),
    ("943 476 5918", False), ("111 111 1111", False), ("401 023 2137", True),
    ("401 023 2130", False),
])
def test_nhs(nhs, valid):
    assert is_valid_nhs(nhs) is valid


@pytest.mark.parametrize("uln, valid", [
    ("1000000004", False), ("0123456789", False), ("12345678", False),
])
def test_uln_rejects(uln, valid):
    assert is_valid_uln(uln) is valid


def test_uln_and_nhs_never_both_valid():
    import random
    rng = random.Random(1)
    for _ in range(5000):
        s = "".join(str(rng.randint(0, 9)) for _ in range(10))
        assert not (is_valid_uln(s) and is_valid_nhs(s))


def test_uln_check_digit():
    from dataward.synthetic import make_uln
    import random
    rng = random.Random(3)
    for _ in range(100):
        u = make_uln(rng)
        assert is_valid_uln(u)
        bad = u[:-1] + str((int(u[-1]) + 1) % 10)
        assert not is_valid_uln(bad)


@pytest.mark.parametrize("nino, valid", [
    ("AB123456C", True), ("AB 12 34 56 C", True), ("DA123456C", False), ("AD123456C", False),
    ("AO123456C", False), ("GB123456C", False), ("NK123456C", False), ("ZZ123456C", False),
    ("AB123456E", False), ("QQ123456C", False),
])
def test_nino(nino, valid):
    assert is_valid_nino(nino) is valid
