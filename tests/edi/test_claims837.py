"""Multi-claim 837P/837I files read into the claims the pre-submission check looks at."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from domain.claim_checks.findings import ClaimUnderCheck, LineUnderCheck
from domain.models import Claim, ClaimType, Patient, Payer, PayerType, ServiceLine
from edi.claim837 import Submitter, read_837, write_837
from edi.claims837 import Claims837Error, read_claims, read_claims_file
from testkit.claims837 import random_claims, sorted_for_file, write_claims_837


def test_a_written_batch_reads_back_claim_for_claim() -> None:
    claims = random_claims(300, seed=3)
    assert {c.kind for c in claims} == {"professional", "institutional"}
    assert any(c.frequency_code == "7" for c in claims)
    assert list(read_claims(write_claims_837(claims))) == sorted_for_file(claims)


def test_the_one_claim_writer_s_file_reads_the_same_claim() -> None:
    claim = Claim(
        claim_id="PCN77",
        payer_claim_control_number="ICN123",
        frequency_code="7",
        claim_type=ClaimType.PROFESSIONAL,
        payer=Payer(payer_id="87726", name="UHC", type=PayerType.COMMERCIAL),
        patient=Patient(name="Doe, Jane", member_id="M1"),
        provider_npi="1234567893",
        service_date_from=date(2025, 3, 4),
        billed_amount=Decimal("150"),
        service_lines=[
            ServiceLine(
                line_number=1,
                procedure_code="97110",
                modifiers=["GP"],
                billed_amount=Decimal("150"),
                units=Decimal(2),
                diagnosis_pointers=[2],
            )
        ],
    )
    text = write_837(
        claim, ["M54.5", "M25.561"], Submitter(), 5, __import__("datetime").datetime(2025, 4, 1)
    )
    (read,) = read_claims(text)
    assert read_837(text).claim_id == read.claim_id == "PCN77"
    assert (read.payer_id, read.payer_name, read.filing_indicator) == ("87726", "UHC", "CI")
    assert (read.frequency_code, read.original_reference, read.place_of_service) == (
        "7",
        "ICN123",
        "11",
    )
    assert read.billing_npi == "1234567893"
    assert read.lines == (
        LineUnderCheck(
            line_number=1,
            procedure_code="97110",
            modifiers=("GP",),
            units=Decimal(2),
            charge=Decimal(150),
            service_date=date(2025, 3, 4),
            place_of_service="11",
            diagnosis_codes=("M25.561",),
        ),
    )


def _one(**changes: object) -> str:
    base = random_claims(1, seed=1)[0]
    return write_claims_837([base.model_copy(update=changes)])


def test_other_payer_loops_do_not_replace_the_claim_s_payer() -> None:
    text = _one(kind="professional", payer_id="60054", payer_name="AETNA")
    cob = "SBR*S*18*******CI~\nNM1*IL*1*DOE*PAT****MI*X~\nNM1*PR*2*OTHER PLAN*****PI*99999~\n"
    text = text.replace("LX*1~", cob + "LX*1~", 1)
    (claim,) = read_claims(text)
    assert (claim.payer_id, claim.payer_name) == ("60054", "AETNA")


def test_a_line_pointing_past_the_diagnoses_is_named_with_segment_and_line() -> None:
    claim = random_claims(1, seed=1)[0].model_copy(update={"kind": "professional"})
    text = write_claims_837([claim])
    sv1 = next(row for row in text.splitlines() if row.startswith("SV1"))
    broken = text.replace(sv1, sv1.rsplit("*", 1)[0] + "*9~")
    with pytest.raises(Claims837Error) as error:
        list(read_claims(broken))
    line = broken.splitlines().index(sv1.rsplit("*", 1)[0] + "*9~") + 1
    assert f"(SV107), line {line}:" in str(error.value)
    assert "service line 1 of claim 1 of the file points at diagnosis 9" in str(error.value)
    assert claim.claim_id not in str(error.value)


@pytest.mark.parametrize(
    ("find", "replace", "says"),
    [
        ("ST*837", "ST*835", "a 835 is not an 837 claim file"),
        ("*0001*005010X222A1~", "*0001*004010X098A1~", "version 004010X098A1 is neither"),
        (":B:1*", ":B*", "CLM05 '11:B' must give"),
        ("SV1*HC:", "SV1*HC*", "has no procedure code"),
        ("DTP*472*D8*2025", "DTP*472*D8*2X25", "is not a D8 date"),
        ("NM1*PR*2*AETNA*****PI*60054", "NM1*PR*2*AETNA", "has no payer (NM1*PR in loop 2010BB)"),
    ],
)
def test_bad_input_is_refused_naming_what_and_where(find: str, replace: str, says: str) -> None:
    text = _one(
        kind="professional",
        payer_id="60054",
        payer_name="AETNA",
        place_of_service="11",
        frequency_code="1",
        original_reference="",
    )
    assert find in text
    with pytest.raises(Claims837Error, match=r"segment [0-9]+ .*line [0-9]+: ") as error:
        list(read_claims(text.replace(find, replace, 1)))
    assert says in str(error.value)


def test_an_empty_or_claimless_file_says_so() -> None:
    with pytest.raises(Claims837Error, match="empty"):
        read_claims_file(b"  \n")
    text = write_claims_837(random_claims(1))
    no_claims = "\n".join(
        row
        for row in text.splitlines()
        if row.startswith(("ISA", "GS", "ST", "BHT", "SE", "GE", "IEA"))
    )
    with pytest.raises(Claims837Error, match="no claim"):
        list(read_claims(no_claims))


def test_claims_come_one_at_a_time() -> None:
    text = write_claims_837(random_claims(50, seed=2))
    claims = read_claims(text)
    first = next(claims)
    assert isinstance(first, ClaimUnderCheck)
    assert len(list(claims)) == 49
