"""The package manifest: what was sent, to whom and why, with each file's SHA-256.

It travels *inside* the encryption (it lists file names) as ``MANIFEST-dataward.json``,
the last member of the inner archive. Its SHA-256, the *manifest hash*, is what the
ledger and the audit log keep: they can later prove which package was sent without
holding a single file name.
"""
from __future__ import annotations

import hashlib
import json
from typing import Any, Final, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ..errors import InputError

FORMAT: Final = "dataward-transfer"
VERSION = 1


class ManifestFile(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    size: int = Field(ge=0)
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")


class Manifest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    format: Literal["dataward-transfer"] = FORMAT
    version: int = VERSION
    package_id: str
    created: str
    school: str
    to: str
    purpose: str = ""
    method: Literal["password", "openpgp"]
    files: list[ManifestFile]
    file_count: int
    total_size: int
    # Entity counts from the scan before packaging; None when no scan ran.
    entity_counts: dict[str, int] | None = None

    def to_bytes(self) -> bytes:
        return (json.dumps(self.model_dump(), indent=2, ensure_ascii=False, sort_keys=True)
                + "\n").encode("utf-8")


def manifest_hash(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def parse_manifest(data: bytes) -> Manifest:
    try:
        raw: Any = json.loads(data.decode("utf-8"))
        return Manifest.model_validate(raw)
    except (UnicodeDecodeError, json.JSONDecodeError, ValidationError):
        raise InputError("the package's manifest is not a valid dataward manifest") from None
