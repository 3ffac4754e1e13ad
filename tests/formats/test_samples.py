"""The whole shared samples folder (files written by other projects): the scan finishes,
every file is an item, and each status says what the file really is (SOURCES.md)."""
from __future__ import annotations

from .conftest import SAMPLES, run

MAIL = (".msg", ".pst", ".eml", ".mbox", ".dat")

# (file, status) from SOURCES.md's notes.
EXPECTED = {
    "apache-poi/office-encrypted/PasswordProtected.doc": "encrypted",
    "apache-poi/office-encrypted/bug53475-password-is-pass.docx": "encrypted",
    "apache-poi/office-encrypted/password.xls": "encrypted",
    "apache-poi/office-encrypted/protected_agile.docx": "encrypted",
    "apache-poi/office-encrypted/protected_passtika.xlsx": "encrypted",
    "apache-poi/office-encrypted/protected_sample.docx": "ok",        # edit-restricted only
    "libarchive/test_read_format_zip_encryption_header.zip": "encrypted",
    "libarchive/test_read_format_7zip_encryption.7z": "encrypted",
    "pdscan/empty.txt": "skipped",
    "pdscan/email.zip!/email.txt": "ok",
    "presidio/sample.pdf": "ok",
    "zip4j/zip_with_different_passwords.zip!/sample.pdf": "ok",
    "zip4j/zip_with_different_passwords.zip!/file_PDF_1MB.pdf": "encrypted",
    "zip4j/strong_encrypted.zip!/test.txt": "encrypted",
    "zip4j/aes_with_extra_data_record_and_corrupt_mac.zip!/sample_text_large.txt": "encrypted",
    "libzip/encrypt.zip!/encrypted": "encrypted",
    "libzip/encrypt.zip!/plain": "ok",
    "libarchive/test_read_format_zip_winzip_aes256_large.zip!/NEWS": "encrypted",
    "libarchive/test_read_format_zip_traditional_encryption_data.zip!/foo.txt": "encrypted",
}
GPS = {"exif-samples/DSCN0010.jpg", "exif-samples/DSCN0021.jpg",
       "exif-samples/iphone_hdr_NO.jpg", "exif-samples/IMG_5195.HEIC"}


def test_every_sample_is_an_item_with_an_honest_status(settings):
    s = run(settings, SAMPLES)

    files = {str(p.relative_to(SAMPLES)) for p in SAMPLES.rglob("*") if p.is_file()}
    assert files <= set(s.items)                         # every file is an item
    for rel, status in EXPECTED.items():
        assert s.items[rel].status == status, (rel, s.items[rel].error)
    for rel in files:
        item = s.items[rel]
        if rel.endswith(MAIL):
            # Mail readers may or may not be installed: read, or honestly unsupported.
            assert item.status in ("ok", "unsupported", "error", "encrypted"), rel
            continue
        if rel.endswith(".zip"):
            assert item.status in ("ok", "encrypted"), (rel, item.error)
            if item.status == "ok":
                assert any(k.startswith(rel + "!/") for k in s.items), rel
        if rel.endswith((".jpg", ".HEIC")):
            assert item.status == "ok", (rel, item.error)
            assert ("GPS_LOCATION" in s.found(rel)) == (rel in GPS), rel
        if rel.endswith((".csv", ".json", ".txt", ".md", ".log", ".list")) and rel != "pdscan/empty.txt":
            assert item.status == "ok", (rel, item.error)
    # Zip members protected by a password: every one is `encrypted`, none an `error`.
    for rel, item in s.items.items():
        if ".zip!/" in rel and "sample.pdf" not in rel and "email.txt" not in rel \
                and "plain" not in rel and "chinese" not in rel:
            assert item.status == "encrypted", (rel, item.status, item.error)
    # The specimen passport's number, read by text recognition (docs/ocr.md).
    assert "UK_PASSPORT" in s.found("octopii/dummy-passport-britain.jpg")
    assert s.items["pdscan/email.tar.gz"].status == "unsupported"
    assert {"EMAIL_ADDRESS"} <= set(s.found("pdscan/email.zip!/email.txt"))
