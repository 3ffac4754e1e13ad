"""The shared gpg fixture makes real keys that encrypt and sign."""
import gnupg


def test_gpg_home_keys_encrypt_and_sign(gpg_home):
    gpg = gnupg.GPG(gnupghome=gpg_home["home"])
    enc = gpg.encrypt(b"hello", gpg_home["recovery"], always_trust=True)
    assert enc.ok, enc.status
    assert gpg.decrypt(enc.data).data == b"hello"
    sig = gpg.sign(b"cert", keyid=gpg_home["school"], detach=True)
    assert sig.data
