"""What may go into a package: inside the allowed roots, no links, no special files,
not empty; names inside stay unique."""
from __future__ import annotations

import os
import zipfile

import pytest

from dataward.errors import ConfigError, NotFoundError, PathOutsideRootsError, UsageError
from dataward.transfer.selection import MANIFEST_NAME, select_files


def test_outside_the_allowed_roots_is_refused_without_naming_the_path(cli, school, tmp_path):
    secret = tmp_path / "Elsewhere Jane Doe.txt"
    secret.write_text("x")
    r = cli("package", "create", secret, "--to", "LA", "--out", school.out)
    assert r.exit_code == 77
    assert "argument 1 is outside the folders dataward may package from" in r.output
    assert "Jane Doe" not in r.output
    # ../ cannot climb out either
    r = cli("package", "create", school.share / ".." / secret.name, "--to", "LA", "--out", school.out)
    assert r.exit_code == 77


def test_symlinks_are_refused_everywhere(cli, school, pupil_files, tmp_path):
    target = tmp_path / "outside.txt"
    target.write_text("outside the share")
    link = school.share / "link.txt"
    link.symlink_to(target)
    r = cli("package", "create", link, "--to", "LA", "--out", school.out)
    assert r.exit_code == 77 and "symbolic link" in r.output
    # a link inside a selected folder
    r = cli("package", "create", school.share, "--to", "LA", "--out", school.out)
    assert r.exit_code == 77 and "contains a symbolic link" in r.output
    link.unlink()
    # a linked folder on the way down to the argument
    (school.share / "via").symlink_to(school.share / "Year 6", target_is_directory=True)
    r = cli("package", "create", school.share / "via" / "class list.csv", "--to", "LA",
            "--out", school.out)
    assert r.exit_code == 77 and "lies under one" in r.output
    assert list(school.out.iterdir()) == []


def test_empty_selection_missing_file_and_special_file(cli, school):
    (school.share / "empty" / "deeper").mkdir(parents=True)
    r = cli("package", "create", school.share / "empty", "--to", "LA", "--out", school.out)
    assert r.exit_code == 2 and "nothing to package" in r.output
    r = cli("package", "create", school.share / "nope.txt", "--to", "LA", "--out", school.out)
    assert r.exit_code == 4 and "argument 1 does not exist" in r.output
    os.mkfifo(school.share / "pipe")
    r = cli("package", "create", school.share / "pipe", "--to", "LA", "--out", school.out)
    assert r.exit_code == 77 and "special file" in r.output


def test_no_roots_configured_is_a_config_error(school):
    s = school.settings().model_copy(update={"transfer": school.settings().transfer.model_copy(
        update={"allowed_roots": []}), "sources": []})
    with pytest.raises(ConfigError):
        select_files([school.share], s)


def test_repeats_dropped_clashes_renamed_junk_skipped(school):
    a = school.share / "a"
    b = school.share / "b"
    a.mkdir()
    b.mkdir()
    (a / "notes.txt").write_text("a")
    (b / "notes.txt").write_text("b")
    (a / "Thumbs.db").write_bytes(b"junk")
    (a / "~$notes.docx").write_bytes(b"lock")
    (a / MANIFEST_NAME).write_text("a user's file with the reserved name")
    sel = select_files([a / "notes.txt", b / "notes.txt", a / "notes.txt", a], school.settings())
    names = [f.arcname for f in sel.files]
    assert names == ["notes.txt", "notes (2).txt", f"a/{MANIFEST_NAME}"]
    assert sel.skipped_junk == 2
    # A file named explicitly is taken even if it looks like junk.
    assert [f.arcname for f in select_files([a / "Thumbs.db"], school.settings()).files] == ["Thumbs.db"]


def test_reserved_manifest_name_at_top_level_is_renamed(school, tmp_path):
    from dataward.transfer import PasswordMethod, create_package
    (school.share / MANIFEST_NAME).write_text("user file")
    res = create_package(school.settings(), [school.share / MANIFEST_NAME], recipient="LA",
                         method=PasswordMethod(), out_dir=school.out)
    import pyzipper
    with pyzipper.AESZipFile(res.path) as oz, oz.open("contents.zip", pwd=res.generated_password.encode()) as m:
        import io
        names = zipfile.ZipFile(io.BytesIO(m.read())).namelist()
    assert sorted(names) == sorted([MANIFEST_NAME, "MANIFEST-dataward (2).json"])


def test_missing_output_folder(school, pupil_files):
    from dataward.transfer import PasswordMethod, create_package
    with pytest.raises(NotFoundError):
        create_package(school.settings(), [school.share], recipient="LA",
                       method=PasswordMethod(), out_dir=school.out / "nope")
    with pytest.raises(UsageError):
        create_package(school.settings(), [school.share], recipient="  ",
                       method=PasswordMethod(), out_dir=school.out)
    with pytest.raises(PathOutsideRootsError):
        create_package(school.settings(), ["/etc/hostname"], recipient="LA",
                       method=PasswordMethod(), out_dir=school.out)
