"""Encrypted transfer packages: the office manager's safe way to send pupil files.

``create_package`` makes a WinZip AES-256 zip (generated passphrase) or an OpenPGP file
holding one inner archive (names, files, manifest); ``verify_package`` opens one and
checks every file against its manifest; ``confirm_package`` records safe receipt;
``list_packages`` finds packages still awaiting confirmation. Each takes settings and
returns a typed result; the CLI (`dataward package ...`) only prints.
"""
from .create import (
    PackageProgress, PackageResult, PasswordMethod, PgpMethod, ProgressFn, create_package,
)
from .passphrase import generate_passphrase, password_bits
from .screening import ScanSummary
from .store import PackageRecord, confirm_package, get_package, list_packages, open_store
from .verify import VerifyResult, verify_package

__all__ = [
    "PackageProgress", "PackageRecord", "PackageResult", "PasswordMethod", "PgpMethod",
    "ProgressFn", "ScanSummary", "VerifyResult", "confirm_package", "create_package",
    "generate_passphrase", "get_package", "list_packages", "open_store", "password_bits",
    "verify_package",
]
