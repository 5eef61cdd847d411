"""Claim values read from segments: an NPI is checked where it is read (a wrong one is a warning
at its segment), and a value the models refuse is named in words at the segment and element it
came from, never in pydantic's text nor at the claim's first segment."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from domain.rulebook import Rulebook
from edi.claim_values import NpiReader
from edi.parser import parse_bytes
from edi.problems import Location, Severity
from edi.results import ParsedFile
from edi.tokenizer import Segment
from testkit.x12 import (
    Claim277,
    Claim835,
    ClaimAck277,
    Content,
    FunctionalAck999,
    Line835,
    Remittance835,
    SegmentError999,
    SetResponse999,
    build_segments,
    join_segments,
)

Found = tuple[Severity, str, Location]


def parse(segments: Sequence[str], rulebook: Rulebook) -> ParsedFile:
    return parse_bytes("synthetic.x12", join_segments(segments), rulebook, validate_guide=False)


def problems(parsed: ParsedFile) -> list[Found]:
    found = [(p.severity, p.message, p.location) for p in parsed.problems]
    assert not any("should have" in message for _, message, _ in found), found
    return found


def at(segments: Sequence[str], prefix: str, element: int | None = None) -> Location:
    """The location of the first segment starting with `prefix` (1-based, like the parser)."""
    number = next(n for n, text in enumerate(segments, start=1) if text.startswith(prefix))
    return Location(segment_number=number, segment_id=prefix.split("*")[0], element=element)


def rejected_277(**options: object) -> ClaimAck277:
    claim = {"claim_id": "CLM1", "category": "A7", "status": "562", "entity": "85"}
    claim |= options.pop("claim", {})  # type: ignore[arg-type]
    return ClaimAck277(claims=[Claim277(**claim)], **options)  # type: ignore[arg-type]


def file_of(content: Content) -> list[str]:
    return build_segments([content])


# --- NPI where it is read ---------------------------------------------------------------------


def test_277ca_billing_provider_npi_of_11_digits_is_a_warning_at_nm1(rulebook: Rulebook) -> None:
    """The claim is still rejected into a case (a 277CA often rejects it for that very NPI);
    the NPI, not being one, is left off it."""
    segments = file_of(rejected_277(provider_npi="12345678901"))
    parsed = parse(segments, rulebook)

    assert parsed.ok
    [case] = parsed.cases
    assert case.record.claim.provider_npi == ""
    assert problems(parsed) == [
        (
            Severity.WARNING,
            "billing provider NPI '12345678901' must be 10 digits: not recorded on the claim",
            at(segments, "NM1*85", 9),
        )
    ]


def test_277ca_npi_failing_its_check_digit_is_kept_with_a_warning(rulebook: Rulebook) -> None:
    segments = file_of(rejected_277(provider_npi="1234567890"))
    parsed = parse(segments, rulebook)

    assert parsed.ok
    assert parsed.cases[0].record.claim.provider_npi == "1234567890"
    assert problems(parsed) == [
        (
            Severity.WARNING,
            "billing provider NPI '1234567890' fails the NPI check digit: recorded as sent, "
            "check it",
            at(segments, "NM1*85", 9),
        )
    ]


def test_835_payee_npi_of_14_digits_is_a_warning_at_n1(rulebook: Rulebook) -> None:
    claim = Claim835("NPI", status="4", lines=[Line835(paid="0")])
    segments = file_of(Remittance835(claims=[claim], payee_npi="12345678901234"))
    parsed = parse(segments, rulebook)

    assert parsed.ok
    [case] = parsed.cases
    assert case.record.claim.provider_npi == ""
    assert problems(parsed) == [
        (
            Severity.WARNING,
            "payee NPI '12345678901234' must be 10 digits: not recorded on the claim",
            at(segments, "N1*PE", 4),
        )
    ]


def test_835_rendering_provider_npi_is_checked_once_per_value(rulebook: Rulebook) -> None:
    """Every claim names its rendering provider: one wrong NPI is reported once, at its first
    NM1*82, and the claims keep the payee's NPI."""
    claims = [Claim835(f"C{n}", status="4", lines=[Line835(paid="0")]) for n in (1, 2)]
    segments = file_of(Remittance835(claims=claims))
    rendering = "NM1*82*1*DOC*ALICE****XX*12345678901"
    for index in reversed([i for i, s in enumerate(segments) if s.startswith("NM1*QC")]):
        segments.insert(index + 1, rendering)
    parsed = parse(segments, rulebook)

    assert [c.record.claim.provider_npi for c in parsed.cases] == ["1234567893", "1234567893"]
    assert [p for p in problems(parsed) if "NPI" in p[1]] == [
        (
            Severity.WARNING,
            "rendering provider NPI '12345678901' must be 10 digits: not recorded on the claim",
            at(segments, "NM1*82", 9),
        )
    ]


# --- values the models refuse: named in words, where they were read -----------------------------


@pytest.mark.parametrize(
    ("options", "prefix", "element", "message"),
    [
        (
            {"claim": {"claim_id": "C" * 90}},
            "TRN*2*C",
            2,
            f"claim {'C' * 90}: patient control number is 90 characters long: at most 80",
        ),
        (
            {"claim": {"payer_claim_number": "P" * 90}},
            "REF*1K",
            2,
            "claim CLM1: payer claim control number is 90 characters long: at most 80",
        ),
        (
            {"claim": {"member_id": "M" * 90}},
            "NM1*QC",
            9,
            "claim CLM1: member id is 90 characters long: at most 80",
        ),
        (
            {"payer_id": "X" * 90},
            "NM1*PR",
            9,
            "claim CLM1: payer id is 90 characters long: at most 80",
        ),
        (
            {"payer_id": "", "payer_name": "N" * 90},
            "NM1*PR",
            3,
            "claim CLM1: payer name (the payer id, NM109 being empty) is 90 characters long: at "
            "most 80",
        ),
        (
            {"claim": {"category": "ABCDEFG"}},
            "STC*ABCDEFG",
            1,
            "claim CLM1: claim status 'ABCDEFG' is 7 characters long: at most 4",
        ),
    ],
    ids=["trn02", "ref-1k", "member-id", "payer-id", "payer-name", "stc01-category"],
)
def test_277ca_refused_value_is_named_at_its_segment(
    rulebook: Rulebook, options: dict[str, object], prefix: str, element: int, message: str
) -> None:
    segments = file_of(rejected_277(**options))
    parsed = parse(segments, rulebook)

    assert not parsed.ok
    assert [(p.message, p.location) for p in parsed.errors] == [
        (message, at(segments, prefix, element))
    ]
    problems(parsed)


def test_999_claim_id_too_long_is_named_at_its_ctx(rulebook: Rulebook) -> None:
    error = SegmentError999(claim_id="C" * 90)
    segments = file_of(
        FunctionalAck999(sets=[SetResponse999(ack="R", errors=["5"], segment_errors=[error])])
    )
    parsed = parse(segments, rulebook)

    assert [(p.message, p.location) for p in parsed.errors] == [
        (
            "patient control number (CTX01-2) is 90 characters long: at most 80",
            at(segments, "CTX", 1),
        )
    ]
    problems(parsed)


@pytest.mark.parametrize(
    ("claim", "prefix", "element", "message"),
    [
        (
            Claim835("C" * 90, status="4", icn="ICN1", lines=[Line835(paid="0")]),
            "CLP",
            1,
            "patient control number (CLP01) is 90 characters long: at most 80",
        ),
        (
            Claim835("FREQ", status="4", frequency="77", lines=[Line835(paid="0")]),
            "CLP",
            9,
            "claim frequency code (CLP09) is 2 characters long: at most 1",
        ),
        (
            Claim835("MEMBER", status="4", member_id="M" * 90, lines=[Line835(paid="0")]),
            "NM1*QC",
            9,
            "member id (NM109) is 90 characters long: at most 80",
        ),
    ],
    ids=["clp01", "clp09", "member-id"],
)
def test_835_value_too_long_is_named_in_words(
    rulebook: Rulebook, claim: Claim835, prefix: str, element: int, message: str
) -> None:
    segments = file_of(Remittance835(claims=[claim]))
    parsed = parse(segments, rulebook)

    assert [(p.message, p.location) for p in parsed.errors] == [
        (message, at(segments, prefix, element))
    ]


# --- what a case cannot do without: an error that says why ---------------------------------------


def without_dates(segments: list[str]) -> list[str]:
    """No GS04 and a blank ISA09: the envelope dates no claim."""
    out = []
    for text in segments:
        elements = text.split("*")
        if elements[0] == "GS":
            elements[4] = ""
        elif elements[0] == "ISA":
            elements[9] = " " * 6
        out.append("*".join(elements))
    return out


def test_277ca_claim_with_no_date_at_all(rulebook: Rulebook) -> None:
    segments = without_dates(file_of(rejected_277()))
    segments = [s for s in segments if not s.startswith(("BHT", "DTP*472"))]
    # STC02, the status date, left empty.
    segments = [s.replace("*20240301*", "**") if s.startswith("STC") else s for s in segments]
    parsed = parse(segments, rulebook)

    assert [(p.message, p.location) for p in parsed.errors] == [
        (
            "claim CLM1 has no date to count timely filing from: no service date (DTP*472), "
            "status date (STC02) or 277CA date (BHT04, GS04 or ISA09)",
            at(segments, "TRN*2*CLM1"),
        )
    ]


def test_835_claim_with_no_date_at_all(rulebook: Rulebook) -> None:
    claim = Claim835("NODATE", status="4", lines=[Line835(paid="0", service_date=None)])
    remittance = Remittance835(claims=[claim], payment_date=None, production_date=None)
    segments = without_dates(file_of(remittance))
    parsed = parse(segments, rulebook)

    assert [(p.message, p.location) for p in parsed.errors] == [
        (
            "claim NODATE has no date to count timely filing from: no service date (DTM*232 "
            "or DTM*472), received date (DTM*050) or remittance date (BPR16, DTM*405 or GS04)",
            at(segments, "CLP"),
        )
    ]


def test_an_npi_with_digits_that_are_not_ascii_is_refused_not_a_crash() -> None:
    """'²' is a digit to str.isdigit() but not an NPI digit: a warning, never a crash."""
    warnings: list[str] = []

    class Report:
        def warning(self, segment: object, index: int, message: str) -> None:
            warnings.append(message)

    elements = ["NM1", "85", "2", "CLINIC", "", "", "", "", "XX", "123456789²"]
    segment = Segment("NM1", elements, number=17, offset=0)
    assert NpiReader(Report()).read(segment, 9, "billing provider") == ""  # type: ignore[arg-type]
    assert warnings and "must be 10 digits" in warnings[0]
