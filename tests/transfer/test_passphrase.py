"""Generated passphrases and the strength test for supplied ones."""
from __future__ import annotations

import math
import secrets

import pytest

from dataward.errors import RefusedError
from dataward.transfer.passphrase import (
    check_password, eff_long_wordlist, generate_passphrase, passphrase_bits, password_bits,
)


def test_eff_long_list_is_the_real_one():
    words = eff_long_wordlist()
    assert len(words) == 7776 and words[0] == "abacus" and words[-1] == "zoom"


def test_generated_passphrase_is_six_eff_words_and_about_77_bits():
    eff = set(eff_long_wordlist())
    seen = set()
    for _ in range(50):
        p = generate_passphrase()
        parts = p.split("-")
        assert len(parts) == 6 and all(w in eff for w in parts)
        seen.add(p)
    assert len(seen) == 50
    assert 77.0 < passphrase_bits(6) < 78.0
    assert math.isclose(passphrase_bits(7), 7 * passphrase_bits(6) / 6)


def test_every_generated_passphrase_passes_the_supplied_password_test():
    for _ in range(30):
        assert password_bits(generate_passphrase()) >= 77


@pytest.mark.parametrize("weak", [
    "Password1234567890!",
    "Summer2024!Summer2024!",
    "correct horse battery staple",                        # 4 words
    "-".join(["abacus", "zoom", "kettle", "lantern", "ruby"]),  # 5 EFF words: ~65 bits
    "tiger-tiger-tiger-tiger-tiger-tiger",                 # one word, six times
    "q8#Lm2!vR9zX@t4Kp7wN",                                 # 20 random characters
    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
])
def test_weak_passwords_are_refused_without_echoing_them(weak):
    with pytest.raises(RefusedError) as e:
        check_password(weak, 77)
    assert weak not in str(e.value)
    assert "too weak" in str(e.value) and "77" in str(e.value)


@pytest.mark.parametrize("strong", [
    lambda: generate_passphrase(7).replace("-", " "),
    lambda: generate_passphrase(6).replace("-", " ").title(),
    lambda: secrets.token_urlsafe(30)[:30],                 # 30 random characters
])
def test_strong_passwords_pass(strong):
    assert check_password(strong(), 77) >= 77
