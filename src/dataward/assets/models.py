"""Typed records of the asset register: what crosses module and CLI boundaries."""
from __future__ import annotations

import re
from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

AssetStatus = Literal["in-use", "disposed"]

# Types whose storage may hold personal data even when no drive serial is listed.
STORAGE_TYPES = frozenset({
    "laptop", "desktop", "pc", "computer", "server", "nas", "tablet", "ipad", "phone",
    "mobile", "smartphone", "chromebook", "macbook", "imac", "mac", "workstation", "hdd",
    "ssd", "drive", "harddrive", "harddisk", "usbdrive", "usbstick", "memorystick", "camera",
    "printer", "mfd", "photocopier", "copier", "allinone", "thinclient", "sdcard",
})
_TAG_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/-]{0,99}$")
_SERIAL_SPLIT = re.compile(r"[;|,\n]")


def squash(text: str) -> str:
    """Lower case, letters and digits only: 'Asset Tag' == 'asset_tag' == 'ASSET-TAG'."""
    return re.sub(r"[^a-z0-9]", "", text.lower())


def split_serials(text: str) -> list[str]:
    return [s.strip() for s in _SERIAL_SPLIT.split(text) if s.strip()]


def type_has_storage(asset_type: str) -> bool:
    return squash(asset_type) in STORAGE_TYPES


class Asset(BaseModel):
    """One item of equipment in the register."""

    model_config = ConfigDict(frozen=True)

    tag: str
    type: str
    make: str = ""
    model: str = ""
    serial: str = ""
    storage_serials: tuple[str, ...] = ()
    location: str = ""
    assigned_to: str = Field("", repr=False)  # a person's name: register only
    purchase_date: date | None = None
    status: AssetStatus = "in-use"
    # Set when the CSV/CLI says so; else inferred from drive serials and the type.
    has_storage_override: bool | None = Field(None, exclude=True, repr=False)

    @field_validator("tag")
    @classmethod
    def _tag_shape(cls, v: str) -> str:
        v = v.strip()
        if not _TAG_RE.match(v):
            raise ValueError("asset tag must be 1-100 letters, digits, '.', '_', '/' or '-'")
        return v

    @field_validator("type")
    @classmethod
    def _type_given(cls, v: str) -> str:
        v = v.strip().lower()
        if not v:
            raise ValueError("type is empty (e.g. laptop, desktop, server, monitor)")
        return v

    @property
    def has_storage(self) -> bool:
        """Whether the asset has storage media that may hold personal data."""
        if self.has_storage_override is not None:
            return self.has_storage_override
        return bool(self.storage_serials) or type_has_storage(self.type)
