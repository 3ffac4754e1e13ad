"""Checksummed identifiers are validated, never matched by shape alone."""
import pytest

from dataward.classifiers.recognizers.uk_nhs import is_valid_nhs
from dataward.classifiers.recognizers.uk_nino import is_valid_nino
from dataward.classifiers.recognizers.uk_uln import is_valid_uln
from dataward.classifiers.recognizers.uk_upn import is_valid_upn


# Published values: B801200005001 valid and A801200005001 a wrong check letter come from
# python-stdnum's `stdnum/gb/upn.py` doctests (LGPL-2.1); H801200001001 is the valid UPN of
# the DfE multiplication tables check's pupil validator tests (DFEAGILEDEVOPS/MTC, MIT).
@pytest.mark.parametrize("upn, valid", [
    ("B801200005001", True),
    ("H801200001001", True),
    ("A801200005001", False),          # wrong check letter (stdnum: InvalidChecksum)
    ("X80120000A001", False),          # middle part must be numeric (stdnum: InvalidFormat)
    ("U820200014013", True),
    ("T820200014013", False),          # wrong check letter
    ("U82020001401", False),           # too short
    ("I820200014013", False),          # I is never a check letter
])
def test_upn(upn, valid):
    assert is_valid_upn(upn) is valid


def test_upn_temporary_letter_in_last_place():
    # Worked by hand with the DfE rule: 8x2 + 2x3 + 2x5 + 1x9 + 4x10 + 1x12 = 93, plus
    # the final letter A (value 0) x 13; 93 mod 23 = 1, which is B.
    assert is_valid_upn("B82020001401A")
    assert not is_valid_upn("C82020001401A")


@pytest.mark.parametrize("nhs, valid", [
    ("943 476 5919", True), ("9434765919", True), ("943-476-5919", True),
    ("943 476 5918", False), ("111 111 1111", False), ("401 023 2137", True),
    ("401 023 2130", False),
])
def test_nhs(nhs, valid):
    assert is_valid_nhs(nhs) is valid


# Published values from the ESFA's ILR validation service (DD01 derived-data tests):
# 1000000043 derives check digit 3 (valid); 1000000063 has remainder zero, so no check digit
# can be valid; 100000004 is not ten digits; 9999999999 is the temporary ULN, not a learner's.
@pytest.mark.parametrize("uln, valid", [
    ("1000000043", True),
    ("1000000063", False), ("100000004", False), ("9999999999", False),
    ("1000000004", False), ("0123456789", False), ("12345678", False),
])
def test_uln(uln, valid):
    assert is_valid_uln(uln) is valid


def test_uln_and_nhs_never_both_valid():
    import random
    rng = random.Random(1)
    for _ in range(5000):
        s = "".join(str(rng.randint(0, 9)) for _ in range(10))
        assert not (is_valid_uln(s) and is_valid_nhs(s))


def test_uln_check_digit_catches_every_one_digit_slip():
    good = "1000000043"
    for d in "0124567890":
        if d != "3":
            assert not is_valid_uln(good[:-1] + d)


@pytest.mark.parametrize("nino, valid", [
    ("AB123456C", True), ("AB 12 34 56 C", True), ("DA123456C", False), ("AD123456C", False),
    ("AO123456C", False), ("GB123456C", False), ("NK123456C", False), ("ZZ123456C", False),
    ("AB123456E", False), ("QQ123456C", False),
])
def test_nino(nino, valid):
    assert is_valid_nino(nino) is valid
