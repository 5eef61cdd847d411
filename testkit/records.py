"""Synthetic denials for tests, dated relative to a given day."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from domain.appeals.finishing import LetterToSend
from domain.models import (
    Adjustment,
    Claim,
    ClaimType,
    DenialKind,
    DenialRecord,
    GroupCode,
    Patient,
    Payer,
    PayerType,
    ServiceLine,
)
from workflows.messages import AppealSubmitted

PAYERS = {
    PayerType.MEDICARE: Payer(
        payer_id="MCR-TEST", name="Medicare Test MAC", type=PayerType.MEDICARE
    ),
    PayerType.MEDICARE_ADVANTAGE: Payer(
        payer_id="MA-TEST", name="MA Test Plan", type=PayerType.MEDICARE_ADVANTAGE
    ),
    PayerType.MEDICAID: Payer(payer_id="MCD-TEST", name="Medicaid Test", type=PayerType.MEDICAID),
    PayerType.COMMERCIAL: Payer(
        payer_id="COM-TEST", name="Commercial Test", type=PayerType.COMMERCIAL
    ),
    PayerType.OTHER: Payer(payer_id="OTH-TEST", name="Other Test", type=PayerType.OTHER),
}

_counter = iter(range(1, 10_000_000))


def adj(code: str, amount: str | int) -> Adjustment:
    """adj("CO-50", 100) -> Adjustment(group=CO, carc="50", amount=100)."""
    group, carc = code.split("-", 1)
    return Adjustment(group=GroupCode(group), carc=carc, amount=Decimal(str(amount)))


def make_claim(
    today: date,
    *,
    payer_type: PayerType = PayerType.COMMERCIAL,
    payer: Payer | None = None,
    adjustments: list[Adjustment] | None = None,
    lines: list[ServiceLine] | None = None,
    rarcs: list[str] | None = None,
    billed: str | int = 1000,
    paid: str | int = 0,
    status: str = "4",
    dos_days_ago: int = 30,
    remit_days_ago: int | None = 5,
    claim_type: ClaimType = ClaimType.PROFESSIONAL,
    number: str | None = None,
) -> Claim:
    n = number or f"{next(_counter):07d}"
    return Claim(
        claim_id=f"PCN{n}",
        payer_claim_control_number=f"ICN{n}" if remit_days_ago is not None else "",
        claim_status=status,
        claim_type=claim_type,
        payer=payer or PAYERS[payer_type],
        patient=Patient(
            name="ZZTEST PATIENT", member_id="ZZMEMBER123", birth_date=date(1950, 1, 2)
        ),
        provider_npi="1999999984",
        service_date_from=today - timedelta(days=dos_days_ago),
        billed_amount=Decimal(str(billed)),
        paid_amount=Decimal(str(paid)),
        adjustments=adjustments if adjustments is not None else [adj("CO-50", billed)],
        service_lines=lines or [],
        rarcs=rarcs or [],
        remittance_date=today - timedelta(days=remit_days_ago)
        if remit_days_ago is not None
        else None,
    )


def make_record(
    today: date, *, kind: DenialKind = DenialKind.DENIAL, **claim_args: object
) -> DenialRecord:
    if kind is DenialKind.REJECTION:
        claim_args.setdefault("remit_days_ago", None)
        claim_args.setdefault("adjustments", [])
        claim_args.setdefault("status", "")
    return DenialRecord(kind=kind, claim=make_claim(today, **claim_args), source="test")  # type: ignore[arg-type]


def finished_letter(argument: str) -> LetterToSend:
    """A letter with nothing left to fill in and no enclosure ticked, as the appeal task would
    send it (the workflow refuses an appeal without one)."""
    body = (
        "DENIAL REASON\n- CO-50\n\n"
        f"WHY THE CLAIM SHOULD BE PAID\n{argument}\n\n"
        "Sincerely,\n\nBilling office\n"
    )
    return LetterToSend(body=body)


def finished_appeal(
    level: int, argument: str, submitted_on: date, **fields: Any
) -> AppealSubmitted:
    """An appeal submission with its finished letter."""
    return AppealSubmitted(
        level=level,
        argument=argument,
        submitted_on=submitted_on,
        letter=finished_letter(argument),
        **fields,
    )
