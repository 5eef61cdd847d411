"""277CA and 999 acknowledgments: accepted claims are counted, rejections open cases."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from domain.classification import DenialLevel
from domain.models import (
    SERVICE_DATE_UNKNOWN,
    Category,
    ClaimType,
    DenialClass,
    DenialKind,
    PayerType,
    WorkPath,
)
from domain.rulebook import Rulebook
from edi.parser import parse_bytes
from edi.problems import Location, Severity
from edi.results import FileKind, ParsedFile

X12 = Path(__file__).resolve().parents[1] / "data" / "x12"


def parse_file(name: str, rulebook: Rulebook) -> ParsedFile:
    return parse_bytes(name, (X12 / name).read_bytes(), rulebook)


def own_problems(parsed: ParsedFile) -> list[tuple[Severity, str, Location]]:
    """Problems of our parser, without pyx12's implementation-guide warnings."""
    return [
        (p.severity, p.message, p.location)
        for p in parsed.problems
        if not p.message.startswith("implementation guide")
    ]


def envelope(
    *segments: str,
    st01: str = "277",
    version: str = "005010X214",
    functional_id: str = "HN",
    component: str = ":",
    sender: str = "SENDERCODE",
    group_date: str = "20240105",
) -> bytes:
    """A well-formed ISA/GS/ST envelope around `segments` (each without its terminator)."""
    isa = (
        f"ISA*00*{' ' * 10}*00*{' ' * 10}*ZZ*{'SENDERID':<15}*ZZ*{'RECEIVERID':<15}*240105*1200*^"
        f"*00501*000000001*0*P*{component}"
    )
    body = [
        isa,
        f"GS*{functional_id}*{sender}*RECEIVER*{group_date}*1200*1*X*{version}",
        f"ST*{st01}*0001*{version}",
        *segments,
        f"SE*{len(segments) + 2}*0001",
        "GE*1*1",
        "IEA*1*000000001",
    ]
    return ("~\n".join(body) + "~\n").encode()


def parse_synthetic(raw: bytes, rulebook: Rulebook) -> ParsedFile:
    return parse_bytes("synthetic.x12", raw, rulebook, validate_guide=False)


# --- 277CA: real files --------------------------------------------------------------------------


def test_277ca_rejected_claim_opens_a_rejection_case(rulebook: Rulebook) -> None:
    parsed = parse_file("imsweb__x12_277CA_rejected.277", rulebook)

    assert parsed.ok
    assert parsed.kind is FileKind.CLAIM_ACKNOWLEDGMENT
    assert parsed.version == "005010X214"
    assert parsed.claims_total == 1
    assert parsed.adjudicated == []
    [acknowledged] = parsed.acknowledged
    assert acknowledged.accepted is False
    [case] = parsed.cases
    assert case.record.kind is DenialKind.REJECTION
    assert case.record.sequence == 1
    assert case.record.source == "imsweb__x12_277CA_rejected.277"
    details = ["277CA STC A7:562:85 — invalid information (status 562, entity 85 billing provider)"]
    assert case.record.details == details
    assert acknowledged.details == details

    claim = case.record.claim
    assert claim == acknowledged.claim
    assert claim.claim_id == "3920394930203"
    assert claim.payer_claim_control_number == "1107000000001120"
    assert claim.claim_status == "A7"
    assert claim.payer.payer_id == "141797357"
    assert claim.payer.name == "NYSDOH"
    assert claim.payer.type is PayerType.OTHER
    assert claim.billed_amount == Decimal("199.14")
    assert claim.paid_amount == Decimal(0)
    assert claim.service_date_from == date(2009, 3, 11)
    assert claim.service_date_to is None
    assert claim.remittance_date == date(2011, 3, 11)
    assert claim.claim_type is ClaimType.INSTITUTIONAL  # REF*BLT 731
    assert claim.frequency_code == "1"
    # NM1*85 NM109 '123456789' is no NPI (9 digits): the claim is rejected for it (562:85).
    assert claim.provider_npi == ""
    assert claim.patient.member_id == "XX99999X"
    assert claim.patient.name == "CLIFNAME CLIMI CLILNAME"

    classification = case.classification
    assert classification.category is Category.REJECTION
    assert classification.denial_class is DenialClass.SOFT
    assert classification.level is DenialLevel.CLAIM
    assert classification.suggested_path is WorkPath.CORRECTED_CLAIM
    assert classification.appeal_rights is False
    assert classification.denied_amount == Decimal("199.14")
    assert case.location == Location(segment_number=22, segment_id="STC", element=1)

    assert own_problems(parsed) == [
        (
            Severity.WARNING,
            "billing provider NPI '123456789' must be 10 digits: not recorded on the claim",
            Location(segment_number=17, segment_id="NM1", element=9),
        )
    ]
    [rejection] = parsed.summary()["rejections"]
    assert rejection["claim_id"] == "3920394930203"
    assert rejection["payer_id"] == "141797357"
    assert rejection["billed_amount"] == "199.14"
    assert rejection["category"] == "rejection"
    assert parsed.summary()["denials"] == []


def test_277ca_accepted_claim_is_counted_and_opens_nothing(rulebook: Rulebook) -> None:
    parsed = parse_file("imsweb__x12_277CA_accepted.277", rulebook)

    assert parsed.ok
    assert parsed.claims_total == 1
    assert parsed.cases == []
    [acknowledged] = parsed.acknowledged
    assert acknowledged.accepted is True
    assert acknowledged.details == ["277CA STC A2:20 — accepted into adjudication (status 20)"]
    claim = acknowledged.claim
    assert claim.claim_id == "5781"
    assert claim.payer_claim_control_number == "1107000000014420"
    assert claim.payer.payer_id == "141797357"
    assert claim.billed_amount == Decimal(125)
    assert claim.provider_npi == "1234567890"
    assert claim.claim_type is ClaimType.PROFESSIONAL
    # DTP*472 10010101 is not a plausible date: the STC02 date stands in, with a warning.
    assert claim.service_date_from == date(2011, 3, 11)
    assert own_problems(parsed) == [
        (
            Severity.WARNING,
            "billing provider NPI '1234567890' fails the NPI check digit: recorded as sent, "
            "check it",
            Location(segment_number=17, segment_id="NM1", element=9),
        ),
        (
            Severity.WARNING,
            "DTP*472 D8 '10010101' is not a valid service date "
            "(expected D8 CCYYMMDD or RD8 CCYYMMDD-CCYYMMDD)",
            Location(segment_number=24, segment_id="DTP", element=3),
        ),
        (
            Severity.WARNING,
            "claim 5781 has no service date (DTP*472): timely filing is counted from the STC02 "
            "status date 2011-03-11",
            Location(segment_number=22, segment_id="STC", element=2),
        ),
    ]


# --- 277CA: synthetic cases ---------------------------------------------------------------------

PAYER = ["HL*1**20*1", "NM1*PR*2*STATE MEDICAID*****PI*MCD01", "TRN*1*B1"]
RECEIVER = ["HL*2*1*21*1", "NM1*41*2*CLINIC*****46*ETIN", "TRN*2*R1", "STC*A1:20*20240105*WQ*300"]
PROVIDER = ["HL*3*2*19*1", "NM1*85*2*GOOD CLINIC*****XX*1999999984", "TRN*1*P1"]


def test_277ca_categories_rd8_dates_and_extra_composites(rulebook: Rulebook) -> None:
    raw = envelope(
        "BHT*0085*08*B1*20240105*1200*TH",
        *PAYER,
        *RECEIVER,
        *PROVIDER,
        "HL*4*3*PT",
        "NM1*QC*1*DOE*JANE****MI*M1",
        "TRN*2*CLAIM-A",
        "STC*A2:20*20240104*WQ*100",
        "DTP*472*RD8*20231201-20231203",
        "TRN*2*CLAIM-B",
        "STC*A1:19:PR*20240104*WQ*200******A6:35:IL*A8:454:82*MEMBER ID REQUIRED",
        "REF*1K*PAYER-B",
        "REF*D9*CH-TRACE-B",
        "DTP*472*D8*20231115",
        "HL*5*3*PT",
        "NM1*QC*1*ROE*RICHARD****MI*M2",
        "TRN*2*CLAIM-C",
        "STC*A3:21*20240104*U*50",
        "SVC*HC:99213:25*50****1",
        "STC*A7:145*20240104*U",
        "DTP*472*D8*20231120",
        "HL*6*3*PT",
        "NM1*QC*1*POE*PAT****MI*M3",
        "TRN*2*CLAIM-D",
        "STC*A5:3*20240104*WQ*75",
        "DTP*472*D8*20231121",
    )
    parsed = parse_synthetic(raw, rulebook)

    assert own_problems(parsed) == []
    assert parsed.claims_total == 4
    assert [(a.claim.claim_id, a.accepted) for a in parsed.acknowledged] == [
        ("CLAIM-A", True),
        ("CLAIM-B", False),
        ("CLAIM-C", False),
        ("CLAIM-D", True),  # A5: split claim, still accepted
    ]
    claim_a = parsed.acknowledged[0].claim
    assert (claim_a.service_date_from, claim_a.service_date_to) == (
        date(2023, 12, 1),
        date(2023, 12, 3),
    )
    assert claim_a.payer.payer_id == "MCD01"
    assert claim_a.payer.type is PayerType.MEDICAID
    assert claim_a.provider_npi == "1999999984"
    assert claim_a.patient.name == "JANE DOE"

    by_id = {case.record.claim.claim_id: case for case in parsed.cases}
    assert set(by_id) == {"CLAIM-B", "CLAIM-C"}
    claim_b = by_id["CLAIM-B"]
    assert claim_b.record.details == [
        "277CA STC A6:35:IL — missing information (status 35, entity IL insured or subscriber)",
        "277CA STC A8:454:82 — relational field in error (status 454, entity 82 rendering "
        "provider)",
        "payer message: MEMBER ID REQUIRED",
        "clearinghouse trace number (REF*D9): CH-TRACE-B",
    ]
    assert claim_b.record.claim.claim_status == "A6"
    assert claim_b.record.claim.billed_amount == Decimal(200)
    assert claim_b.record.claim.payer_claim_control_number == "PAYER-B"
    assert claim_b.location == Location(segment_number=21, segment_id="STC", element=10)
    claim_c = by_id["CLAIM-C"]
    assert claim_c.record.details == [
        "277CA STC A3:21 — returned as unprocessable (status 21)",
        "service line 1 (99213): 277CA STC A7:145 — invalid information (status 145)",
    ]
    assert claim_c.classification.denied_amount == Decimal(50)
    [line] = claim_c.record.claim.service_lines
    assert (line.procedure_code, line.modifiers, line.billed_amount) == ("99213", ["25"], 50)
    assert line.service_date == date(2023, 11, 20)


def test_277ca_not_found_category_and_component_separator(rulebook: Rulebook) -> None:
    raw = envelope(
        *PAYER,
        *RECEIVER,
        *PROVIDER,
        "HL*4*3*PT",
        "TRN*2*CLAIM-X",
        "STC*A4|35*20240104*U*10",
        "DTP*472*D8*20231115",
        component="|",
    )
    parsed = parse_synthetic(raw, rulebook)

    [case] = parsed.cases
    assert case.record.details == ["277CA STC A4:35 — not found (status 35)"]


def test_277ca_provider_rejection_without_claims_is_a_warning(rulebook: Rulebook) -> None:
    raw = envelope(
        *PAYER,
        *RECEIVER,
        *PROVIDER,
        "STC*A7:562:85*20240105*U",
    )
    parsed = parse_synthetic(raw, rulebook)

    assert parsed.ok
    assert parsed.claims_total == 0
    assert parsed.cases == []
    assert own_problems(parsed) == [
        (
            Severity.WARNING,
            "277CA rejected the billing provider GOOD CLINIC (NPI 1999999984) with no claim "
            "below it: 277CA STC A7:562:85 — invalid information (status 562, entity 85 "
            "billing provider)",
            Location(segment_number=14, segment_id="STC", element=1),
        )
    ]


def test_277ca_missing_service_date_falls_back_to_the_group_date(rulebook: Rulebook) -> None:
    raw = envelope(*PAYER, *RECEIVER, *PROVIDER, "HL*4*3*PT", "TRN*2*CLAIM-Y", "STC*A7:21**U*10")
    parsed = parse_synthetic(raw, rulebook)

    [case] = parsed.cases
    assert case.record.claim.service_date_from == date(2024, 1, 5)
    assert own_problems(parsed) == [
        (
            Severity.WARNING,
            "claim CLAIM-Y has no service date (DTP*472): timely filing is counted from the "
            "277CA's date 2024-01-05",
            Location(segment_number=16, segment_id="STC"),
        )
    ]


def test_277ca_structural_errors(rulebook: Rulebook) -> None:
    raw = envelope(
        *PAYER,
        *RECEIVER,
        *PROVIDER,
        "HL*4*3*PT",
        "NM1*QC*1*DOE*JANE****MI*M1",
        "STC*A7:21*20240104*U*10",
        "HL*5*3*PT",
        "TRN*2*CLAIM-Z",
        "STC*:21*20240104*U*10",
        "DTP*472*D8*20231115",
        "HL*6*3*22",
        "HL*7*3*PT",
        "TRN*2*CLAIM-W",
    )
    parsed = parse_synthetic(raw, rulebook)

    assert not parsed.ok
    assert [(p.message, p.location) for p in parsed.errors] == [
        (
            "HL03 '22' is not a 277CA level (20 information source, 21 receiver, "
            "19 billing provider, PT patient)",
            Location(segment_number=21, segment_id="HL", element=3),
        ),
        (
            "patient HL 4 has no TRN (claim status tracking number): its claim cannot be "
            "identified",
            Location(segment_number=14, segment_id="HL"),
        ),
        (
            "claim CLAIM-Z has no status category in its STC: accepted or rejected is unknown",
            Location(segment_number=19, segment_id="STC", element=1),
        ),
        (
            "claim CLAIM-W has no STC claim status: accepted or rejected is unknown",
            Location(segment_number=23, segment_id="TRN"),
        ),
    ]
    assert (
        Severity.WARNING,
        "STC01 ':21' has no status category code: ignored",
        Location(segment_number=19, segment_id="STC", element=1),
    ) in own_problems(parsed)


def test_277ca_status_without_category_only_matters_when_it_decides(rulebook: Rulebook) -> None:
    """A receiver's STC, or a claim's extra composite (STC10), with no category: a warning; the
    claim's status is read from the composites that have one."""
    receiver = [*RECEIVER[:3], "STC*:20*20240105*WQ*300"]
    raw = envelope(
        *PAYER,
        *receiver,
        *PROVIDER,
        "HL*4*3*PT",
        "TRN*2*CLAIM-V",
        "STC*A7:21*20240104*U*10******:35",
        "DTP*472*D8*20231115",
    )
    parsed = parse_synthetic(raw, rulebook)

    assert parsed.ok
    [case] = parsed.cases
    assert case.record.claim.claim_id == "CLAIM-V"
    assert own_problems(parsed) == [
        (
            Severity.WARNING,
            "STC01 ':20' has no status category code: ignored",
            Location(segment_number=10, segment_id="STC", element=1),
        ),
        (
            Severity.WARNING,
            "STC10 ':35' has no status category code: ignored",
            Location(segment_number=16, segment_id="STC", element=10),
        ),
    ]


# --- 999: real files ------------------------------------------------------------------------------


def test_999_simple_accepts_one_set_and_rejects_two_claims(rulebook: Rulebook) -> None:
    parsed = parse_file("staedi__simple999.999", rulebook)

    assert parsed.ok
    assert parsed.kind is FileKind.FUNCTIONAL_ACKNOWLEDGMENT
    assert parsed.claims_total == 3
    assert [(a.claim.claim_id, a.accepted) for a in parsed.acknowledged] == [
        ("837-17456-0001", True),
        ("123456789", False),
        ("987654321", False),
    ]
    assert [c.record.claim.claim_id for c in parsed.cases] == ["123456789", "987654321"]
    for case in parsed.cases:
        claim = case.record.claim
        assert case.record.kind is DenialKind.REJECTION
        assert claim.payer.payer_id == "RCVR"  # GS02: the 999's sender
        assert claim.payer.name == ""
        assert claim.payer.type is PayerType.OTHER
        assert claim.billed_amount == Decimal(0)
        assert claim.service_date_from == date(2004, 11, 17)
        assert claim.claim_type is ClaimType.PROFESSIONAL  # AK103 005010X222
        assert claim.claim_status == "R"
        assert case.classification.category is Category.REJECTION
        assert case.record.details[-1] == SERVICE_DATE_UNKNOWN
    first, second = parsed.cases
    assert first.record.details == [
        "999 IK5 R — rejected: 837 transaction set 0002 of functional group 17456 "
        "(IK502 5: one or more segments in error)",
        "IK3 CLM (segment 22): segment has data element errors (IK304 8)",
        "IK4 CLM02 (data element 782): required data element missing (IK403 1)",
        "the whole transaction set was rejected: every claim in it must be corrected and "
        "resubmitted",
        "service date unknown: timely filing counted from the acknowledgment date until the "
        "837 is linked",
    ]
    assert first.location == Location(segment_number=11, segment_id="IK5", element=1)
    assert second.record.details[1:3] == [
        "IK3 REF (segment 57): required segment missing (IK304 3)",
        "situational trigger: CLM (segment 43) element CLM05-3 (reference 1325)",
    ]
    # AK9*P*3*3*1 agrees with the AK2 loops: no count warning.
    assert own_problems(parsed) == []
    assert parsed.acknowledged[0].details == [
        "999 IK5 A — accepted: 837 transaction set 0001 of functional group 17456"
    ]


def test_999_rejected_set_without_claim_ids(rulebook: Rulebook) -> None:
    parsed = parse_file("imsweb__x12_999_rejected.999", rulebook)

    assert parsed.ok
    assert parsed.claims_total == 1
    [acknowledged] = parsed.acknowledged
    assert acknowledged.accepted is False
    [case] = parsed.cases
    claim = case.record.claim
    assert claim.claim_id == "837-28-0028"
    assert claim.payer.payer_id == "EMEDNY"
    assert claim.billed_amount == Decimal(0)
    assert claim.service_date_from == date(2011, 3, 11)
    assert claim.claim_type is ClaimType.INSTITUTIONAL  # AK103 005010X223A2
    assert case.record.details == [
        "999 IK5 R — rejected: 837 transaction set 0028 of functional group 28 "
        "(IK502 5: one or more segments in error)",
        "IK3 NM (segment 17): unrecognized segment ID (IK304 1)",
        "the claims of this transaction set are not named in the 999: link the 837 "
        "(group 28, set 0028) to find them",
        SERVICE_DATE_UNKNOWN,
    ]
    assert case.location == Location(segment_number=7, segment_id="IK5", element=1)
    assert own_problems(parsed) == []


def test_999_accepted(rulebook: Rulebook) -> None:
    parsed = parse_file("imsweb__x12_999_accepted.999", rulebook)

    assert parsed.ok
    assert parsed.claims_total == 1
    assert parsed.cases == []
    [acknowledged] = parsed.acknowledged
    assert acknowledged.accepted is True
    assert acknowledged.claim.claim_id == "837-17456-0001"
    assert acknowledged.claim.payer.payer_id == "RCVR1"
    # The file's IEA02 does not match its ISA13 (an envelope warning, not ours).
    assert own_problems(parsed) == [
        (
            Severity.WARNING,
            "IEA02 '000000001' does not match ISA13 '000000286'",
            Location(segment_number=10, segment_id="IEA", element=2),
        )
    ]


def test_999_invalid_reads_its_rejections_with_warnings(rulebook: Rulebook) -> None:
    """A 999 breaking the implementation guide in many ways (a CTX06 'C023', stray IK5s, an
    unknown IK501) still names its two rejected claims: each finding is a warning, the file is
    ingested and the rejections become cases."""
    parsed = parse_file("staedi__invalid999.999", rulebook)

    assert parsed.ok, [str(p) for p in parsed.errors]
    assert [c.record.claim.claim_id for c in parsed.cases] == ["123456789", "987654321"]
    assert [(a.claim.claim_id, a.accepted) for a in parsed.acknowledged] == [
        ("123456789", False),
        ("987654321", False),
    ]
    first, second = parsed.cases
    assert first.location == Location(segment_number=13, segment_id="IK5", element=1)
    assert second.location == Location(segment_number=18, segment_id="IK5", element=1)
    assert second.record.details[1:3] == [
        "IK3 REF (segment 57): required segment missing (IK304 3)",
        "situational trigger: CLM (segment 43) element CLM05-3",
    ]
    assert own_problems(parsed) == [
        (
            Severity.WARNING,
            "SE01 says 16 segments, transaction set 2870001 has 18",
            Location(segment_number=20, segment_id="SE", element=1),
        ),
        (
            Severity.WARNING,
            "IK5 outside an AK2 loop (no AK2 before it): it acknowledges no transaction set "
            "and is ignored",
            Location(segment_number=4, segment_id="IK5"),
        ),
        (
            Severity.WARNING,
            "AK2 has 5 data elements: at most 3 (AK201 transaction set id, AK202 control "
            "number, AK203 version); the others are ignored",
            Location(segment_number=6, segment_id="AK2", element=4),
        ),
        (
            Severity.WARNING,
            "IK5 outside an AK2 loop (the AK2 loop closed with the IK5 at segment 7): it "
            "acknowledges no transaction set and is ignored",
            Location(segment_number=8, segment_id="IK5"),
        ),
        (
            Severity.WARNING,
            "CTX06 'C023' is not a data element reference number",
            Location(segment_number=16, segment_id="CTX", element=6),
        ),
        (
            Severity.WARNING,
            "IK501 'Q' is not a transaction set acknowledgment code: AK904 counts transaction "
            "set 0001 as accepted, so no case is opened for it",
            Location(segment_number=7, segment_id="IK5", element=1),
        ),
    ]


# --- 999: synthetic cases ---------------------------------------------------------------------


def ack999(*segments: str, **kwargs: str) -> bytes:
    options = {"st01": "999", "version": "005010X231A1", "functional_id": "FA"} | kwargs
    return envelope(*segments, **options)


def test_999_group_rejected_without_ak2(rulebook: Rulebook) -> None:
    parsed = parse_synthetic(ack999("AK1*HC*55*005010X222A1", "AK9*R*2*2*0*2"), rulebook)

    assert parsed.ok
    [case] = parsed.cases
    assert case.record.claim.claim_id == "837-55"
    assert case.record.claim.payer.payer_id == "SENDERCODE"
    assert case.record.claim.service_date_from == date(2024, 1, 5)
    assert case.record.details == [
        "999 AK9 R — rejected: functional group 55 (AK905 2: functional group version not "
        "supported)",
        "no AK2 loop: the whole functional group was rejected; link the 837 group 55 to find "
        "its claims",
        SERVICE_DATE_UNKNOWN,
    ]
    assert case.location == Location(segment_number=5, segment_id="AK9", element=1)


def test_999_accepted_with_errors_warns(rulebook: Rulebook) -> None:
    raw = ack999(
        "AK1*HC*55*005010X222A1",
        "AK2*837*0007",
        "IK3*NM1*8*2010BA*8",
        "CTX*CLM01:PCN-7",
        "IK4*9*67*6*AB!",
        "IK5*E",
        "AK9*E*1*1*1",
    )
    parsed = parse_synthetic(raw, rulebook)

    assert parsed.ok
    assert parsed.cases == []
    [acknowledged] = parsed.acknowledged
    assert (acknowledged.claim.claim_id, acknowledged.accepted) == ("PCN-7", True)
    assert own_problems(parsed) == [
        (
            Severity.WARNING,
            "999 accepted transaction set 837 0007 with errors: IK3 NM1 (segment 8, loop "
            "2010BA): segment has data element errors (IK304 8); IK4 NM109 (data element 67): "
            "invalid character in data element (IK403 6), bad value 'AB!'",
            Location(segment_number=9, segment_id="IK5", element=1),
        )
    ]


@pytest.mark.parametrize("code", ["M", "W", "X"])
def test_999_other_rejection_codes(rulebook: Rulebook, code: str) -> None:
    raw = ack999("AK1*HC*55", "AK2*837*0001", f"IK5*{code}", f"AK9*{code}*1*1*0")
    parsed = parse_synthetic(raw, rulebook)

    [case] = parsed.cases
    assert case.record.claim.claim_id == "837-55-0001"
    assert case.record.details[0].startswith(f"999 IK5 {code} — rejected")


def test_999_structural_errors(rulebook: Rulebook) -> None:
    """What leaves a transaction set's answer unknown refuses the file; segments that answer
    nothing are ignored with a warning."""
    raw = ack999(
        "CTX*CLM01:1",
        "AK2*837*0001",
        "AK1*HC*55",
        "IK4*1**1",
        "IK5*P",
        "AK2*837*0002",
        "AK9*Q*2*2*0",
    )
    parsed = parse_synthetic(raw, rulebook)

    assert [(p.severity, p.message, p.location) for p in parsed.problems] == [
        (
            Severity.WARNING,
            "CTX outside an AK2 loop (no AK2 before it): it acknowledges no transaction set "
            "and is ignored",
            Location(segment_number=4, segment_id="CTX"),
        ),
        (
            Severity.ERROR,
            "AK2 before AK1: the functional group it answers is unknown",
            Location(segment_number=5, segment_id="AK2"),
        ),
        (
            Severity.WARNING,
            "IK4 before any IK3 in the AK2 loop: ignored",
            Location(segment_number=7, segment_id="IK4"),
        ),
        (
            Severity.WARNING,
            "AK901 'Q' is not a functional group acknowledgment code: the AK2 loops are read",
            Location(segment_number=10, segment_id="AK9", element=1),
        ),
        (
            Severity.ERROR,
            "IK501 'P' is not a transaction set acknowledgment code: whether transaction set "
            "0001 was accepted or rejected is unknown",
            Location(segment_number=8, segment_id="IK5", element=1),
        ),
        (
            Severity.ERROR,
            "AK2 loop for transaction set 0002 has no IK5 (transaction set response trailer): "
            "whether it was accepted or rejected is unknown",
            Location(segment_number=9, segment_id="AK2"),
        ),
    ]


def test_999_group_code_decides_when_there_is_no_ak2(rulebook: Rulebook) -> None:
    parsed = parse_synthetic(ack999("AK1*HC*55", "AK9*Q*1*1*0"), rulebook)

    assert [(p.severity, p.message, p.location) for p in parsed.problems] == [
        (
            Severity.ERROR,
            "AK901 'Q' is not a functional group acknowledgment code: whether functional "
            "group 55 was accepted or rejected is unknown",
            Location(segment_number=5, segment_id="AK9", element=1),
        )
    ]


@pytest.mark.parametrize(
    ("code", "severity", "message"),
    [
        (
            "A",
            Severity.WARNING,
            "IK5 outside an AK2 loop (the AK2 loop closed with the IK5 at segment 6): it "
            "acknowledges no transaction set and is ignored",
        ),
        (
            "R",
            Severity.ERROR,
            "IK5 outside an AK2 loop (the AK2 loop closed with the IK5 at segment 6): it "
            "rejects a transaction set the 999 does not name",
        ),
    ],
)
def test_999_stray_ik5(rulebook: Rulebook, code: str, severity: Severity, message: str) -> None:
    """A stray acceptance loses nothing; a stray rejection would lose a rejected claim."""
    raw = ack999("AK1*HC*55", "AK2*837*0001", "IK5*A", f"IK5*{code}", "AK9*P*2*2*1")
    parsed = parse_synthetic(raw, rulebook)

    assert [(p.severity, p.message, p.location) for p in parsed.problems] == [
        (severity, message, Location(segment_number=7, segment_id="IK5"))
    ]


def test_999_header_and_trailer_value_findings_are_warnings(rulebook: Rulebook) -> None:
    raw = ack999("AK1**55", "AK2*837*0001", "NM1*41*2*X", "IK5*A", "AK9*A*1*one*1")
    parsed = parse_synthetic(raw, rulebook)

    assert parsed.ok
    assert [(a.claim.claim_id, a.accepted) for a in parsed.acknowledged] == [("837-55-0001", True)]
    assert [(p.severity, p.message, p.location) for p in parsed.problems] == [
        (
            Severity.WARNING,
            "AK101 (functional identifier code) is missing: read as an answer to claims (HC)",
            Location(segment_number=4, segment_id="AK1", element=1),
        ),
        (
            Severity.WARNING,
            "unexpected segment NM1 in a 999: ignored",
            Location(segment_number=6, segment_id="NM1"),
        ),
        (
            Severity.WARNING,
            "AK903 'one' is not a count",
            Location(segment_number=8, segment_id="AK9", element=3),
        ),
    ]


def test_999_unknown_ack_code_settled_by_ak9_counts(rulebook: Rulebook) -> None:
    raw = ack999("AK1*HC*55", "AK2*837*0001", "IK5*Q", "AK2*837*0002", "IK5*R", "AK9*P*2*2*1")
    parsed = parse_synthetic(raw, rulebook)

    assert parsed.ok
    assert [c.record.claim.claim_id for c in parsed.cases] == ["837-55-0002"]
    assert [(p.severity, p.message, p.location) for p in parsed.problems] == [
        (
            Severity.WARNING,
            "IK501 'Q' is not a transaction set acknowledgment code: AK904 counts transaction "
            "set 0001 as accepted, so no case is opened for it",
            Location(segment_number=6, segment_id="IK5", element=1),
        )
    ]


def test_999_element_and_context_findings_are_warnings(rulebook: Rulebook) -> None:
    """IK3, IK4 and CTX values the implementation guide disallows only lose a detail: the
    rejection still opens its case."""
    raw = ack999(
        "AK1*HC*55*005010X222A1",
        "AK2*837*0001",
        "IK3**X*2300*8",
        "CTX*CLM01:PCN-9",
        "CTX*CLM01",
        "IK4*Z*782",
        "IK4*2*ABC*7",
        "CTX*SITUATIONAL TRIGGER*CLM*43**X*C023",
        "CTX*:7",
        "IK5*R*5",
        "AK9*R*1*1*0",
    )
    parsed = parse_synthetic(raw, rulebook)

    assert parsed.ok, [str(p) for p in parsed.errors]
    [case] = parsed.cases
    assert case.record.claim.claim_id == "PCN-9"
    assert case.record.details[1:4] == [
        "IK3 ? (segment X, loop 2300): segment has data element errors (IK304 8)",
        "IK4 ? (data element 782): data element error (IK403 ?)",
        "IK4 ?02 (data element ABC): invalid code value (IK403 7)",
    ]
    assert [(p.severity, p.message, p.location) for p in parsed.problems] == [
        (
            Severity.WARNING,
            "IK301 (segment id in error) is missing",
            Location(segment_number=6, segment_id="IK3", element=1),
        ),
        (
            Severity.WARNING,
            "IK302 'X' is not a segment position in the transaction set",
            Location(segment_number=6, segment_id="IK3", element=2),
        ),
        (
            Severity.WARNING,
            "CTX CLM01 without the claim id (CTX01-2)",
            Location(segment_number=8, segment_id="CTX", element=1),
        ),
        (
            Severity.WARNING,
            "IK401 'Z' is not a position in the segment",
            Location(segment_number=9, segment_id="IK4", element=1),
        ),
        (
            Severity.WARNING,
            "IK403 (data element syntax error code) is missing",
            Location(segment_number=9, segment_id="IK4", element=3),
        ),
        (
            Severity.WARNING,
            "IK402 'ABC' is not a data element reference number",
            Location(segment_number=10, segment_id="IK4", element=2),
        ),
        (
            Severity.WARNING,
            "CTX05 'X' is not a position in the segment",
            Location(segment_number=11, segment_id="CTX", element=5),
        ),
        (
            Severity.WARNING,
            "CTX06 'C023' is not a data element reference number",
            Location(segment_number=11, segment_id="CTX", element=6),
        ),
        (
            Severity.WARNING,
            "CTX01-1 (context name) is missing",
            Location(segment_number=12, segment_id="CTX", element=1),
        ),
    ]


def test_999_rejecting_a_non_claim_set_opens_nothing(rulebook: Rulebook) -> None:
    raw = ack999("AK1*HS*55*005010X279A1", "AK2*270*0001", "IK5*R*5", "AK9*R*1*1*0")
    parsed = parse_synthetic(raw, rulebook)

    assert parsed.ok
    assert parsed.claims_total == 0
    assert parsed.cases == []
    assert own_problems(parsed) == [
        (
            Severity.WARNING,
            "999 rejects 270 transaction set 0001: not an 837 claim, no case opened",
            Location(segment_number=6, segment_id="IK5", element=1),
        )
    ]
