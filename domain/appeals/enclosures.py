"""What an appeal packet encloses, per denial category: the evidence a reviewer needs to
overturn that kind of denial."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from domain.models import Category


class Enclosure(BaseModel):
    model_config = ConfigDict(frozen=True)

    name: str
    detail: str = ""


# Enclosed from the case's attestation (the signed upload, or the attestation the physician
# recorded in the case manager, which the letter states), not attached by hand.
ATTESTATION_ENCLOSURE = Enclosure(
    name="Physician attestation of medical necessity", detail="signed by the treating physician"
)

# Every packet carries the claim and the remittance that denied it.
COMMON = (
    Enclosure(name="Copy of the claim as billed"),
    Enclosure(name="Remittance advice (835) showing the denial"),
)

BY_CATEGORY: dict[Category, tuple[Enclosure, ...]] = {
    Category.MEDICAL_NECESSITY: (
        Enclosure(name="Clinical notes", detail="office/progress notes for the date(s) of service"),
        ATTESTATION_ENCLOSURE,
        Enclosure(name="Coverage policy criteria met", detail="LCD/NCD or plan policy cited"),
    ),
    Category.AUTHORIZATION: (
        Enclosure(name="Authorisation record", detail="number, date issued, services approved"),
        Enclosure(name="Clinical notes", detail="showing urgency where no authorisation applied"),
    ),
    Category.CODING: (
        Enclosure(name="Corrected codes", detail="codes, modifiers and units as corrected"),
        Enclosure(name="Procedure or operative note supporting the codes"),
    ),
    Category.TIMELY_FILING: (
        Enclosure(
            name="Proof of timely filing",
            detail="original submission records: clearinghouse acceptance (999/277CA), dates",
        ),
    ),
    Category.ELIGIBILITY: (
        Enclosure(name="Eligibility verification (271) for the date of service"),
        Enclosure(name="Copy of the member's insurance card"),
    ),
    Category.COORDINATION_OF_BENEFITS: (
        Enclosure(name="Primary payer's explanation of benefits"),
        Enclosure(name="Coordination-of-benefits information on file"),
    ),
    Category.MISSING_INFORMATION: (Enclosure(name="The information the payer requested"),),
    Category.DUPLICATE: (
        Enclosure(
            name="Records showing distinct services",
            detail="separate dates, times or sites; modifiers",
        ),
    ),
    Category.BUNDLING: (
        Enclosure(name="Documentation of a separate, distinct service"),
        Enclosure(name="Modifier justification", detail="e.g. 59 / XE / XS / XP / XU"),
    ),
    Category.NON_COVERED: (
        Enclosure(name="Benefit plan or coverage policy excerpt"),
        Enclosure(name="Advance beneficiary notice, if one was signed"),
    ),
    Category.PRICING: (Enclosure(name="Contract or fee schedule excerpt"),),
    Category.CAPITATION: (Enclosure(name="Contract excerpt showing the service is carved out"),),
    Category.PAYMENT_REVERSAL: (
        Enclosure(name="Original payment advice"),
        Enclosure(name="Documentation disputing the recoupment"),
    ),
    Category.OTHER: (Enclosure(name="Supporting documentation"),),
    Category.REJECTION: (),
}


def enclosures_for(category: Category) -> list[Enclosure]:
    return [*COMMON, *BY_CATEGORY[category]]
