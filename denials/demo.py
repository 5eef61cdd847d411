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


def _adj(group: GroupCode, carc: str, amount: str) -> Adjustment:
    return Adjustment(group=group, carc=carc, amount=Decimal(amount))


def demo_records(today: date) -> list[DenialRecord]:
    co, pr = GroupCode.CO, GroupCode.PR
    claims = [
        _claim(
            1,
            MEDICARE,
            billed="2400",
            dos_days_ago=130,
            remit_days_ago=110,
            adjustments=[_adj(co, "50", "2400")],
            today=today,
        ),
        _claim(
            2,
            AETNA,
            billed="8750",
            dos_days_ago=45,
            remit_days_ago=20,
            adjustments=[_adj(co, "197", "8750")],
            claim_type=ClaimType.INSTITUTIONAL,
            today=today,
        ),
        _claim(
            3,
            UHC,
            billed="640",
            dos_days_ago=30,
            remit_days_ago=12,
            adjustments=[_adj(co, "16", "640")],
            rarcs=["N290"],
            today=today,
        ),
        _claim(
            4,
            NV_MEDICAID,
            billed="1200",
            dos_days_ago=420,
            remit_days_ago=52,
            adjustments=[_adj(co, "29", "1200")],
            today=today,
        ),
        _claim(
            5,
            HUMANA_MA,
            billed="310",
            dos_days_ago=60,
            remit_days_ago=30,
            adjustments=[_adj(co, "18", "310")],
            today=today,
        ),
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
                ServiceLine(
                    line_number=1,
                    procedure_code="99214",
                    billed_amount=Decimal("1150"),
                    paid_amount=Decimal("1150"),
                ),
                ServiceLine(
                    line_number=2,
                    procedure_code="20610",
                    modifiers=["RT"],
                    billed_amount=Decimal("1150"),
                    paid_amount=Decimal(0),
                    adjustments=[_adj(co, "4", "1150")],
                ),
            ],
        ),
        _claim(
            8,
            AETNA,
            billed="420",
            dos_days_ago=40,
            remit_days_ago=15,
            adjustments=[_adj(pr, "27", "420")],
            today=today,
        ),
        _claim(
            9,
            MEDICARE,
            billed="95",
            dos_days_ago=70,
            remit_days_ago=50,
            adjustments=[_adj(co, "97", "95")],
            today=today,
        ),
    ]
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
