"""Demo data: users and a handful of synthetic denials spread over the deadline calendar.

Dates are relative to today so the demo always shows cases at every urgency. Case ids are
deterministic, so loading the demo again opens nothing new.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from domain.case import Actor, Role
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
from services.cases import CaseService
from services.users import UserService

MEDICARE = Payer(payer_id="MCR-J15", name="Medicare Part B (J15 MAC)", type=PayerType.MEDICARE)
AETNA = Payer(payer_id="60054", name="Aetna", type=PayerType.COMMERCIAL)
UHC = Payer(payer_id="87726", name="UnitedHealthcare", type=PayerType.COMMERCIAL)
NV_MEDICAID = Payer(payer_id="NVMCD", name="Nevada Medicaid", type=PayerType.MEDICAID)
HUMANA_MA = Payer(
    payer_id="61101", name="Humana Medicare Advantage", type=PayerType.MEDICARE_ADVANTAGE
)
CIGNA = Payer(payer_id="62308", name="Cigna", type=PayerType.COMMERCIAL)
BCBS_NC = Payer(payer_id="BCBSNC", name="Blue Cross NC", type=PayerType.COMMERCIAL)


def _claim(
    number: int,
    payer: Payer,
    *,
    billed: str,
    paid: str = "0",
    dos_days_ago: int,
    remit_days_ago: int | None,
    adjustments: list[Adjustment] | None = None,
    lines: list[ServiceLine] | None = None,
    rarcs: list[str] | None = None,
    status: str = "4",
    claim_type: ClaimType = ClaimType.PROFESSIONAL,
    today: date,
) -> Claim:
    return Claim(
        claim_id=f"DEMO-PCN-{number:04d}",
        payer_claim_control_number=f"DEMO-ICN-{number:04d}" if remit_days_ago is not None else "",
        claim_status=status,
        claim_type=claim_type,
        payer=payer,
        patient=Patient(name=f"DEMO PATIENT {number}", member_id=f"DEMO-M{number:04d}"),
        provider_npi="1999999984",
        service_date_from=today - timedelta(days=dos_days_ago),
        billed_amount=Decimal(billed),
        paid_amount=Decimal(paid),
        adjustments=adjustments or [],
        service_lines=lines or [],
        rarcs=rarcs or [],
        remittance_date=today - timedelta(days=remit_days_ago)
        if remit_days_ago is not None
        else None,
    )


# The denials: number, payer, billed, days since service, days since the remittance, and the
# claim-level adjustment taking the whole charge (a CARC with its group).
DENIED = [
    (1, MEDICARE, "2400", 130, 110, "CO-50"),  # not medically necessary
    (2, AETNA, "8750", 45, 20, "CO-197"),  # no authorization (institutional, below)
    (3, UHC, "640", 30, 12, "CO-16"),  # information missing (N290, below)
    (4, NV_MEDICAID, "1200", 420, 52, "CO-29"),  # filed too late
    (5, HUMANA_MA, "310", 60, 30, "CO-18"),  # duplicate
    (8, AETNA, "420", 40, 15, "PR-27"),  # coverage ended
    (9, MEDICARE, "95", 70, 50, "CO-97"),  # bundled
]
CLAIM_TYPES = {2: ClaimType.INSTITUTIONAL}
RARCS = {3: ["N290"]}


def _adj(code: str, amount: str) -> Adjustment:
    group, carc = code.split("-")
    return Adjustment(group=GroupCode(group), carc=carc, amount=Decimal(amount))


def _line(
    number: int,
    code: str,
    billed: str,
    paid: str,
    modifiers: tuple[str, ...] = (),
    denied: Adjustment | None = None,
) -> ServiceLine:
    return ServiceLine(
        line_number=number,
        procedure_code=code,
        modifiers=list(modifiers),
        billed_amount=Decimal(billed),
        paid_amount=Decimal(paid),
        adjustments=[denied] if denied else [],
    )


def demo_records(today: date) -> list[DenialRecord]:
    claims = [
        _claim(
            number,
            payer,
            billed=billed,
            dos_days_ago=dos,
            remit_days_ago=remit,
            adjustments=[_adj(code, billed)],
            rarcs=RARCS.get(number),
            claim_type=CLAIM_TYPES.get(number, ClaimType.PROFESSIONAL),
            today=today,
        )
        for number, payer, billed, dos, remit, code in DENIED
    ]
    # A partial payment: line 1 paid, line 2 (right knee) denied for its modifier (CO-4).
    claims.append(
        _claim(
            7,
            BCBS_NC,
            billed="2300",
            paid="1150",
            status="1",
            dos_days_ago=25,
            remit_days_ago=9,
            today=today,
            lines=[
                _line(1, "99214", "1150", "1150"),
                _line(2, "20610", "1150", "0", ("RT",), _adj("CO-4", "1150")),
            ],
        ),
    )
    claims.sort(key=lambda claim: claim.claim_id)
    records = [DenialRecord(claim=claim, source="demo") for claim in claims]
    rejected = _claim(
        6, CIGNA, billed="980", dos_days_ago=84, remit_days_ago=None, status="", today=today
    )
    records.append(
        DenialRecord(
            kind=DenialKind.REJECTION,
            claim=rejected,
            details=["277CA STC A7:562:85 invalid billing provider NPI"],
            source="demo",
        )
    )
    return records


DEMO_ACTOR = Actor(user_id="demo", role=Role.SYSTEM)


async def load_demo(cases: CaseService, users: UserService, today: date) -> int:
    """Create the demo users (password "demo") and open the demo cases; returns how many
    cases were new."""
    users.ensure_demo_users()
    created = 0
    for record in demo_records(today):
        opened = await cases.open_case(record, DEMO_ACTOR)
        created += opened.created
    return created
