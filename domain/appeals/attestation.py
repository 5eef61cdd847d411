"""Physician attestation: medical-necessity appeals go out only with one."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from domain.models import MAX_NOTE_CHARS, Category

ATTESTATION_REQUIRED = frozenset({Category.MEDICAL_NECESSITY})
# What a medical-necessity letter says until the attestation is recorded.
PENDING_ATTESTATION = (
    "Pending: the treating physician's attestation must be enclosed before this appeal is sent."
)


class AttestationMethod(StrEnum):
    PHYSICIAN_SIGNED = "physician_signed"  # a user with the physician role attested in the app
    UPLOADED = "uploaded"  # a biller uploaded the physician's signed attestation


class Attestation(BaseModel):
    model_config = ConfigDict(frozen=True)

    method: AttestationMethod
    attested_by: str = Field(min_length=1, max_length=80)
    physician_name: str = Field(min_length=1, max_length=200)
    statement: str = Field(min_length=1, max_length=MAX_NOTE_CHARS)
    document_sha256: str = Field(default="", max_length=64)
    recorded_at: datetime


def attestation_problem(category: Category | None, attestation: Attestation | None) -> str | None:
    """Why an appeal cannot be submitted yet for want of an attestation, or None."""
    if category in ATTESTATION_REQUIRED and attestation is None:
        return (
            "a medical-necessity appeal needs a physician attestation before submission: "
            "a physician attests on the case, or upload the signed attestation"
        )
    return None
