"""Small builders shared by the ingest tests (API, service, CLI): recent synthetic X12 files and
a poll on the read model."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import date, timedelta

from db.models import CaseRow
from domain.identity import case_id_for
from domain.rulebook import Rulebook
from edi.parser import parse_bytes
from testkit.x12 import (
    Claim835,
    ElementError999,
    Envelope,
    FunctionalAck999,
    Line835,
    Remittance835,
    SegmentError999,
    SetResponse999,
    build_file,
)
from tests.harness import CaseHarness

GARBAGE = b"Dear billing office,\nplease find our scanned EOB attached.\n"
PAYER_ID = "SHP01"
CLEARINGHOUSE = "CLEARHOUSE"  # a 999's sender: not the payer


def denied_claim(claim_id: str, carc: str, billed: int, service: date) -> Claim835:
    """A claim denied outright (CLP02 4, paid 0) by one CO adjustment on its only line."""
    return Claim835(
        claim_id,
        status="4",
        lines=[Line835(billed=billed, paid=0, cas=[("CO", carc, billed)], service_date=service)],
    )


def paid_claim(claim_id: str, billed: int, service: date) -> Claim835:
    return Claim835(
        claim_id,
        lines=[Line835(billed=billed, paid=billed, service_date=service)],
    )


def remittance_file(today: date, *claims: Claim835, control: int = 1, **options: object) -> bytes:
    """An 835 from SHP01 paid `today`, enveloped with control number `control`."""
    return build_file(
        Remittance835(
            claims=list(claims),
            payment_date=today,
            production_date=today,
            **options,  # type: ignore[arg-type]
        ),
        envelope=Envelope(created=today, first_control_number=control),
    )


def two_denials_835(today: date) -> bytes:
    """Three claims served 20 days ago: two denied (CO-16 $500, CO-50 $700), one paid."""
    service = today - timedelta(days=20)
    return remittance_file(
        today,
        denied_claim("PCNA1", "16", 500, service),
        paid_claim("PCNA2", 200, service),
        denied_claim("PCNA3", "50", 700, service),
    )


def with_findings(today: date) -> bytes:
    """Two denials and a paid claim whose filing indicator (CI) pyx12 finds invalid: one
    implementation-guide finding (CLP06)."""
    service = today - timedelta(days=20)
    paid = [Line835(billed=200, paid=200, service_date=service)]
    return remittance_file(
        today,
        denied_claim("PCNV1", "16", 500, service),
        Claim835("PCNV2", status="2", lines=paid, filing_indicator="CI"),
        denied_claim("PCNV3", "50", 700, service),
    )


def rejecting_999(today: date, claim_id: str, control: int = 1) -> bytes:
    """A 999 from the clearinghouse rejecting the 837 that carried `claim_id` (CTX CLM01): it
    names no payer and no date of service."""
    return build_file(
        FunctionalAck999(
            sets=[
                SetResponse999(
                    control_number="0001",
                    ack="R",
                    errors=["5"],
                    segment_errors=[
                        SegmentError999(claim_id=claim_id, elements=[ElementError999()])
                    ],
                )
            ]
        ),
        envelope=Envelope(created=today, sender_id=CLEARINGHOUSE, first_control_number=control),
    )


def case_ids_of(raw: bytes, rulebook: Rulebook) -> list[str]:
    """The ids of the cases a file opens, in file order."""
    return [case_id_for(case.record) for case in parse_bytes("x", raw, rulebook).cases]


async def wait_row(
    harness: CaseHarness,
    case_id: str,
    predicate: Callable[[CaseRow], bool],
    timeout: float = 15.0,
) -> CaseRow:
    """Poll the read model until the case row satisfies `predicate` (real time)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        row = harness.case_row(case_id)
        if row is not None and predicate(row):
            return row
        if loop.time() > deadline:
            shown = "no row" if row is None else f"{row.status}/{row.outcome}"
            raise AssertionError(f"timed out waiting on case {case_id}; read model: {shown}")
        await asyncio.sleep(0.05)
