"""A fixed, triaged case for letter and packet tests: every value is spelled out so that
golden files stay byte-stable."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

from domain.appeals.attestation import Attestation, AttestationMethod
from domain.case import CasePolicy, CaseState, Submission, SubmissionKind
from domain.deadlines import appeal_deadline
from domain.models import (
    Adjustment,
    Category,
    Claim,
    DenialRecord,
    GroupCode,
    Patient,
    Payer,
    PayerType,
    ServiceLine,
)
from domain.rulebook import Rulebook

TODAY = date(2026, 3, 2)
CREATED = datetime(2026, 2, 20, 9, 0, tzinfo=UTC)
REMITTED = date(2026, 2, 16)

# A CARC that the shipped table files under each category.
CARC_FOR = {
    Category.ELIGIBILITY: "27",
    Category.COORDINATION_OF_BENEFITS: "22",
    Category.AUTHORIZATION: "197",
    Category.MEDICAL_NECESSITY: "50",
    Category.CODING: "4",
    Category.MISSING_INFORMATION: "16",
    Category.DUPLICATE: "18",
    Category.TIMELY_FILING: "29",
    Category.NON_COVERED: "96",
    Category.BUNDLING: "97",
    Category.CAPITATION: "24",
    Category.PRICING: "45",
    Category.OTHER: "B7",
    Category.PAYMENT_REVERSAL: "50",
}

PAYERS = {
    PayerType.COMMERCIAL: Payer(payer_id="60054", name="Aetna Test", type=PayerType.COMMERCIAL),
    PayerType.MEDICARE: Payer(payer_id="12202", name="Novitas Test MAC", type=PayerType.MEDICARE),
    PayerType.MEDICAID: Payer(payer_id="SKPA0", name="Medicaid Test", type=PayerType.MEDICAID),
    PayerType.MEDICARE_ADVANTAGE: Payer(
        payer_id="MA001", name="Advantage Test", type=PayerType.MEDICARE_ADVANTAGE
    ),
    PayerType.OTHER: Payer(payer_id="OTH01", name="Other Test", type=PayerType.OTHER),
}


def letter_case(
    rulebook: Rulebook,
    category: Category,
    *,
    level: int = 1,
    payer_type: PayerType = PayerType.COMMERCIAL,
    attested: bool = False,
) -> CaseState:
    carc = CARC_FOR[category]
    claim = Claim(
        claim_id="PCN-1001",
        payer_claim_control_number="PAYER-77",
        claim_status="4",
        payer=PAYERS[payer_type],
        patient=Patient(name="Jordan Test", member_id="MEM123", birth_date=date(1960, 5, 4)),
        provider_npi="1234567893",
        service_date_from=date(2026, 1, 12),
        billed_amount=Decimal("1250.00"),
        paid_amount=Decimal("0"),
        adjustments=[Adjustment(group=GroupCode.CO, carc=carc, amount=Decimal("1250.00"))],
        rarcs=["N115"],
        service_lines=[
            ServiceLine(
                line_number=1,
                procedure_code="99215",
                modifiers=["25"],
                service_date=date(2026, 1, 12),
                billed_amount=Decimal("1250.00"),
            )
        ],
        remittance_date=REMITTED,
    )
    record = DenialRecord(claim=claim, source="835 test file")
    rule = rulebook.rule_for(record, TODAY)
    notices = {lvl: date(2026, 2, 20 + lvl) for lvl in range(2, level + 1)}
    deadlines = [appeal_deadline(rule, 1, REMITTED)] + [
        appeal_deadline(rule, lvl, day) for lvl, day in notices.items()
    ]
    submissions = [
        Submission(
            kind=SubmissionKind.APPEAL,
            appeal_level=lvl - 1,
            submitted_on=date(2026, 2, 17 + lvl),
            reference=f"APL-{lvl - 1}",
            summary="appeal",
            submitted_by="alice",
        )
        for lvl in notices
    ]
    attestation = (
        Attestation(
            method=AttestationMethod.PHYSICIAN_SIGNED,
            attested_by="drew",
            physician_name="Dr. Drew Test",
            statement="The visit was medically necessary.",
            recorded_at=CREATED,
        )
        if attested
        else None
    )
    return CaseState(
        case_id="case-letter",
        record=record,
        policy=CasePolicy(),
        classification=rulebook.classify(record),
        category=category,
        rule=rule,
        appeal_level=level,
        appeal_notice_dates=notices,
        deadlines=[d for d in deadlines if d is not None],
        submissions=submissions,
        attestation=attestation,
        created_at=CREATED,
        updated_at=CREATED,
    )
