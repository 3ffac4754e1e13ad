"""What the technician asks for when recording a disposal (the CLI's options, typed)."""
from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

Method = Literal["clear", "purge", "destroy"]
Route = Literal["waste", "gift", "sale", "return"]
Technique = Literal["overwrite", "block-erase", "crypto-erase", "degauss", "shred",
                    "disintegrate", "pulverise", "incinerate", "drill", "other"]
Verification = Literal["full", "sampling", "none", "other"]
Destination = Literal["internal-reuse", "external-reuse", "recycling", "manufacturer", "other"]
YesNoUnknown = Literal["yes", "no", "unknown"]
MediaType = Literal["hdd", "ssd", "flash", "hybrid", "optical", "other", "unknown"]

# NIST SP 800-88 Appendix G "Media Destination" for each school disposal route.
DESTINATION_FOR_ROUTE: dict[str, Destination] = {
    "waste": "recycling", "gift": "external-reuse", "sale": "external-reuse",
    "return": "manufacturer",
}


class DisposalRequest(BaseModel):
    """One disposal as asked for; checked by ``guards.check_disposal`` before use."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    tag: str
    method: Method
    route: Route
    recipient: str
    authorised_by: str
    technician: str
    disposed_on: date = Field(default_factory=date.today)
    technician_title: str = ""
    validated_by: str = ""
    technique: Technique | None = None  # default: from the evidence, or per method
    tool: str = ""  # default: from an nwipe log
    verification: Verification | None = None  # default: from an nwipe log
    media_type: MediaType = "unknown"
    destination: Destination | None = None  # default: from the route
    personal_data: YesNoUnknown = "unknown"  # is personal data likely held on the media?
    licences_checked: bool = False
    data_backed_up: YesNoUnknown = "unknown"
    pat_date: date | None = None
    weee_note: str = ""
    notes: str = ""
    evidence: tuple[Path, ...] = ()  # erasure logs or destruction certificates
    pat_certificate: Path | None = None
    receipt: Path | None = None  # the recipient's written receipt

    @field_validator("recipient", "authorised_by", "technician")
    @classmethod
    def _required(cls, v: str) -> str:
        if not v.strip():
            raise ValueError("must not be empty")
        return v.strip()

    @property
    def media_destination(self) -> Destination:
        return self.destination or DESTINATION_FOR_ROUTE[self.route]

    @property
    def sanitization_technique(self) -> str:
        if self.technique:
            return self.technique
        return {"clear": "overwrite", "purge": "overwrite", "destroy": "shred"}[self.method]
