"""The parser on synthetic files: each denial shape, envelopes and layouts real payers use, and
files that must fail with an error naming the problem and where it is."""

from __future__ import annotations

import random
import re
from decimal import Decimal

import pytest

from domain.models import Claim, DenialKind, DenialRecord
from domain.rulebook import Rulebook
from edi.parser import parse_bytes
from edi.problems import Problem
from edi.results import ParsedFile
from testkit.x12 import (
    V4010_835,
    V5010_835,
    Claim277,
    Claim835,
    ClaimAck277,
    ElementError999,
    Envelope,
    FunctionalAck999,
    Layout,
    Line835,
    Plb,
    Remittance835,
    SegmentError999,
    SetResponse999,
    build_file,
    build_segments,
    join_segments,
    random_remittance,
)


@pytest.fixture(scope="module")
def rulebook() -> Rulebook:
    return Rulebook.load()


def parse(raw: bytes, rulebook: Rulebook, validate: bool = False) -> ParsedFile:
    return parse_bytes("synthetic.835", raw, rulebook, validate_guide=validate)


def paid_claim(claim_id: str = "PAID1") -> Claim835:
    return Claim835(
        claim_id,
        lines=[
            Line835("99213", billed="150", paid="100", cas=[("CO", "45", "30"), ("PR", "2", "20")])
        ],
    )


def line_denial(claim_id: str = "LINE1") -> Claim835:
    return Claim835(
        claim_id,
        lines=[
            Line835("99214", billed="100", paid="80", cas=[("CO", "45", "20")]),
            Line835(
                "80053",
                billed="60",
                paid="0",
                cas=[("CO", "16", "60")],
                remarks=["N14"],
                modifiers=["59"],
            ),
        ],
    )


def claim_denial(claim_id: str = "DENY1") -> Claim835:
    return Claim835(
        claim_id,
        status="4",
        lines=[Line835("97110", billed="80", paid="0", cas=[("CO", "197", "80")])],
    )


def mixed(**options: object) -> Remittance835:
    return Remittance835(claims=[paid_claim(), claim_denial(), line_denial()], **options)  # type: ignore[arg-type]


def digest(parsed: ParsedFile) -> list[tuple[object, ...]]:
    """What a file says, independent of how it was written."""
    claims = [
        (
            a.claim.claim_id,
            a.claim.claim_status,
            a.claim.billed_amount,
            a.claim.paid_amount,
            [(x.group.value, x.carc, x.amount) for x in a.claim.all_adjustments()],
            [(x.procedure_code, x.modifiers) for x in a.claim.service_lines],
            a.claim.all_rarcs(),
        )
        for a in parsed.adjudicated
    ]
    cases = [
        (
            c.record.kind.value,
            c.record.claim.claim_id,
            c.classification.level.value,
            c.classification.category.value,
            c.classification.denied_amount,
        )
        for c in parsed.cases
    ]
    return [*claims, *cases]


def names_where(problem: Problem) -> bool:
    """The error says where: a segment number or id in its location, or a segment number in
    its message."""
    location = problem.location
    return (
        location.segment_number is not None
        or location.segment_id is not None
        or re.search(r"segment \d+", problem.message) is not None
    )


def case_for(parsed: ParsedFile, claim_id: str):  # type: ignore[no-untyped-def]
    found = [c for c in parsed.cases if c.record.claim.claim_id == claim_id]
    assert len(found) == 1, [c.record.claim.claim_id for c in parsed.cases]
    return found[0]


# --- denial shapes ----------------------------------------------------------------------------


def test_plain_file_is_clean(rulebook: Rulebook) -> None:
    parsed = parse(build_file(mixed()), rulebook, validate=True)
    assert parsed.problems == [], [str(p) for p in parsed.problems]
    assert parsed.kind is not None and parsed.kind.value == "835"
    assert parsed.version == "005010X221A1"
    assert parsed.claims_total == 3
    assert sorted(c.record.claim.claim_id for c in parsed.cases) == ["DENY1", "LINE1"]
    paid = next(a for a in parsed.adjudicated if a.claim.claim_id == "PAID1")
    assert not paid.classification.is_denial  # CO-45 and PR-2 only
    assert paid.claim.payer.payer_id == "SHP01"  # REF*2U
    assert paid.claim.payer.name == "SYNTHETIC HEALTH PLAN"


def test_claim_level_denial(rulebook: Rulebook) -> None:
    case = case_for(parse(build_file(mixed()), rulebook), "DENY1")
    assert case.record.kind is DenialKind.DENIAL
    assert case.classification.level.value == "claim"
    assert case.classification.category.value == "authorization"  # CO-197
    assert case.classification.denied_amount == Decimal("80")


def test_line_level_denial_in_a_paid_claim(rulebook: Rulebook) -> None:
    case = case_for(parse(build_file(mixed()), rulebook), "LINE1")
    classification, claim = case.classification, case.record.claim
    assert classification.is_denial
    assert classification.level.value == "line"
    assert classification.denied_amount == Decimal("60")  # the denied line's charge
    assert classification.category.value == "missing_information"
    assert classification.denial_class.value == "soft"
    assert [(a.group.value, a.carc, a.amount) for a in classification.denial_adjustments] == [
        ("CO", "16", Decimal("60"))
    ]
    assert claim.paid_amount == Decimal("80")
    assert claim.all_rarcs() == ["N14"]
    assert [(x.procedure_code, x.modifiers, x.rarcs) for x in claim.service_lines] == [
        ("99214", [], []),
        ("80053", ["59"], ["N14"]),
    ]


def test_partial_denial_on_a_line(rulebook: Rulebook) -> None:
    claim = Claim835(
        "PART1",
        lines=[Line835(billed="200", paid="120", cas=[("CO", "45", "30"), ("CO", "97", "50")])],
    )
    parsed = parse(build_file(Remittance835(claims=[claim])), rulebook)
    case = case_for(parsed, "PART1")
    assert case.record.claim.paid_amount == Decimal("120")
    assert case.classification.denied_amount == Decimal("50")  # CO-97 only, not CO-45
    assert case.classification.category.value == "bundling"
    assert case.classification.level.value == "line"


def test_partial_denial_at_claim_level(rulebook: Rulebook) -> None:
    claim = Claim835(
        "PART2",
        billed="300",
        paid="200",
        cas=[("CO", "197", "100")],
        lines=[Line835(billed="300", paid="200")],
    )
    case = case_for(parse(build_file(Remittance835(claims=[claim])), rulebook), "PART2")
    assert case.classification.level.value == "claim"
    assert case.classification.denied_amount == Decimal("100")
    assert case.classification.category.value == "authorization"


def test_reversal(rulebook: Rulebook) -> None:
    reversal = Claim835(
        "REV1",
        status="22",
        lines=[Line835(billed="-150", paid="-100", cas=[("CO", "45", "-30"), ("PR", "2", "-20")])],
        original_reference="ICNOLD",
    )
    corrected = Claim835("REV1", lines=[Line835(billed="150", paid="60", cas=[("CO", "45", "90")])])
    parsed = parse(build_file(Remittance835(claims=[reversal, corrected])), rulebook, validate=True)
    assert parsed.errors == []
    assert parsed.claims_total == 2
    [case] = parsed.cases
    assert case.record.kind is DenialKind.REVERSAL
    assert case.record.claim.claim_status == "22"
    assert case.classification.category.value == "payment_reversal"
    assert case.classification.denied_amount == Decimal("100")  # the money taken back
    assert case.classification.level.value == "claim"
    reversed_item = next(a for a in parsed.adjudicated if a.claim.claim_status == "22")
    assert reversed_item.is_reversal
    assert reversed_item.original_reference == "ICNOLD"
    assert parsed.summary()["reversals"][0]["claim_id"] == "REV1"


def test_plb_recoupment_with_a_reference(rulebook: Rulebook) -> None:
    remittance = Remittance835(
        claims=[paid_claim()], plb=[Plb([("WO", "ICN777", Decimal("125.50"))])]
    )
    segments = build_segments([remittance])
    plb_number = next(i for i, s in enumerate(segments, start=1) if s.startswith("PLB*"))
    parsed = parse(build_file(remittance), rulebook, validate=True)
    assert parsed.errors == []
    [case] = parsed.cases
    assert case.record.kind is DenialKind.RECOUPMENT
    assert case.record.claim.claim_id == "ICN777"
    assert case.record.claim.payer_claim_control_number == "ICN777"
    assert case.classification.category.value == "payment_reversal"
    assert case.classification.denied_amount == Decimal("125.50")
    assert any("WO" in d and "ICN777" in d for d in case.record.details)
    assert case.location.segment_id == "PLB"
    assert case.location.segment_number == plb_number
    assert parsed.summary()["reversals"][0]["kind"] == "recoupment"
    assert parsed.claims_total == 1  # a PLB is not an adjudicated claim


@pytest.mark.parametrize(
    "pairs",
    [
        [("WO", "ICN1", "50"), ("WO", "ICN1", "-50")],
        [("CS", "8888", "-181.55"), ("CS", "8888", "181.55")],
        [("FB", "", "-40")],  # a negative amount adds money: nothing taken back
        [("CT", "X1", "-1092.46")],
    ],
    ids=["wo-pair", "cs-pair", "fb-negative", "ct-capitation"],
)
def test_plb_that_takes_nothing_back_opens_no_case(
    rulebook: Rulebook, pairs: list[tuple[str, str, str]]
) -> None:
    remittance = Remittance835(claims=[paid_claim()], plb=[Plb(pairs)])
    parsed = parse(build_file(remittance), rulebook)
    assert parsed.problems == []
    assert parsed.cases == []


def test_plb_with_more_than_six_adjustments(rulebook: Rulebook) -> None:
    pairs = [("WO", f"ICN{n}", "10") for n in range(8)]
    raw = build_file(Remittance835(claims=[paid_claim()], plb=[Plb(pairs)]))
    assert raw.count(b"\nPLB*") == 2
    parsed = parse(raw, rulebook)
    assert sorted(c.record.claim.claim_id for c in parsed.cases) == [f"ICN{n}" for n in range(8)]


def test_claim_denied_with_no_appeal_rights(rulebook: Rulebook) -> None:
    claim = Claim835(
        "MA130",
        status="4",
        moa_remarks=["MA130"],
        lines=[Line835(billed="100", paid="0", cas=[("CO", "16", "100")])],
    )
    case = case_for(parse(build_file(Remittance835(claims=[claim])), rulebook), "MA130")
    assert case.record.claim.all_rarcs() == ["MA130"]  # from MOA03
    assert case.classification.appeal_rights is False
    assert case.classification.denial_class.value == "soft"
    assert case.classification.suggested_path.value == "corrected_claim"


def test_denied_claim_leaves_out_what_the_patient_owes(rulebook: Rulebook) -> None:
    claim = Claim835(
        "PRSHARE",
        status="4",
        lines=[Line835(billed="200", paid="0", cas=[("CO", "50", "150"), ("PR", "1", "50")])],
    )
    case = case_for(parse(build_file(Remittance835(claims=[claim])), rulebook), "PRSHARE")
    assert case.classification.denied_amount == Decimal("150")
    assert case.classification.category.value == "medical_necessity"
    assert [a.code for a in case.classification.denial_adjustments] == ["CO-50"]


def test_status_4_without_a_denial_code_is_still_a_denial(rulebook: Rulebook) -> None:
    claim = Claim835(
        "NOCARC", status="4", lines=[Line835(billed="100", paid="0", cas=[("CO", "45", "100")])]
    )
    case = case_for(parse(build_file(Remittance835(claims=[claim])), rulebook), "NOCARC")
    assert case.classification.level.value == "claim"
    assert case.classification.category.value == "other"
    assert case.classification.denied_amount == Decimal("100")


@pytest.mark.parametrize(
    "cas",
    [
        [("OA", "23", "100")],  # the primary payer paid it all
        [("PR", "1", "100")],  # all deductible
        [("CO", "45", "60"), ("PR", "3", "40")],
        [("CO", "A2", "100")],
        [("CO", "94", "100")],
    ],
    ids=["oa-23", "pr-1", "co-45-pr-3", "co-a2", "co-94"],
)
def test_zero_paid_by_routine_adjustments_is_not_a_denial(
    rulebook: Rulebook, cas: list[tuple[str, str, str]]
) -> None:
    claim = Claim835("ROUTINE", status="2", lines=[Line835(billed="100", paid="0", cas=cas)])
    parsed = parse(build_file(Remittance835(claims=[claim])), rulebook)
    assert parsed.problems == []
    assert parsed.cases == []
    assert parsed.claims_total == 1


def test_claim_without_a_service_date_warns(rulebook: Rulebook) -> None:
    remittance = Remittance835(claims=[Claim835("NODATE", lines=[Line835(service_date=None)])])
    parsed = parse(build_file(remittance), rulebook)
    assert parsed.ok
    [warning] = parsed.warnings
    assert warning.location.segment_id == "CLP"
    assert "NODATE" in warning.message and "service date" in warning.message
    # the payment date (BPR16) stands in for it
    assert (
        parsed.adjudicated[0].claim.service_date_from == parsed.adjudicated[0].claim.remittance_date
    )


def test_service_period_from_claim_dates(rulebook: Rulebook) -> None:
    claim = Claim835(
        "PERIOD",
        service_from="20240105",
        service_to="20240109",
        lines=[Line835(service_date=None)],
    )
    [item] = parse(build_file(Remittance835(claims=[claim])), rulebook).adjudicated
    assert (str(item.claim.service_date_from), str(item.claim.service_date_to)) == (
        "2024-01-05",
        "2024-01-09",
    )


# --- envelopes --------------------------------------------------------------------------------


def test_several_transaction_sets_and_interchanges(rulebook: Rulebook) -> None:
    contents = [
        Remittance835(claims=[paid_claim("A1"), claim_denial("A2")], trace_number="T1"),
        Remittance835(claims=[line_denial("B1")], trace_number="T2", payer_id="OTHER"),
        Remittance835(claims=[claim_denial("C1")], trace_number="T3"),
        Remittance835(claims=[paid_claim("D1")], trace_number="T4"),
    ]
    raw = build_file(contents, interchanges=2, envelope=Envelope(first_control_number=41))
    assert raw.count(b"ISA*") == 2 and raw.count(b"\nST*") == 4
    parsed = parse(raw, rulebook, validate=True)
    assert parsed.problems == [], [str(p) for p in parsed.problems]
    assert [a.claim.claim_id for a in parsed.adjudicated] == ["A1", "A2", "B1", "C1", "D1"]
    assert [c.record.claim.claim_id for c in parsed.cases] == ["A2", "B1", "C1"]
    payers = {a.claim.claim_id: a.claim.payer.payer_id for a in parsed.adjudicated}
    assert payers["B1"] == "OTHER" and payers["C1"] == "SHP01"


def test_headerless_file_warns(rulebook: Rulebook) -> None:
    raw = build_file(mixed(), envelope=None)
    assert raw.startswith(b"ST*835*0001*005010X221A1~")
    parsed = parse(raw, rulebook, validate=True)
    assert parsed.ok
    assert [w.location.segment_id for w in parsed.warnings] == ["ST"]
    assert "no ISA/GS envelope" in parsed.warnings[0].message
    assert "without interchange checks or implementation-guide validation" in (
        parsed.warnings[0].message
    )
    assert digest(parsed) == digest(parse(build_file(mixed()), rulebook))


def test_headerless_file_without_version(rulebook: Rulebook) -> None:
    parsed = parse(build_file(mixed(), envelope=None, st03=False), rulebook)
    assert parsed.ok
    assert parsed.version == "005010X221A1"
    assert {(w.location.segment_id, w.location.element) for w in parsed.warnings} == {
        ("ST", None),
        ("ST", 3),
    }


LAYOUTS = {
    "pipe-and-gt": Layout(element="|", component=">"),
    "caret-component": Layout(component="^", repetition="{"),
    "pipe-caret": Layout(element="|", component="^", repetition="!"),
    "newline-terminator": Layout(segment="\n", newline=""),
    "apostrophe-terminator": Layout(segment="'", newline=""),
    "tilde-crlf": Layout(newline="\r\n"),
    "crlf-terminator": Layout(segment="\r\n", newline=""),
    "cr-terminator": Layout(segment="\r", newline=""),
    "one-line": Layout(newline=""),
    "indented": Layout(newline="\n", indent="    "),
    "indented-tabs-crlf": Layout(newline="\r\n", indent="\t"),
    "bom": Layout(bom=True),
    "bom-one-line": Layout(bom=True, newline=""),
    "collapsed-isa": Layout(pad_isa=False),
    "collapsed-isa-one-line": Layout(pad_isa=False, newline=""),
    "everything-odd": Layout(
        element="|", component=">", segment="'", newline="\r\n", indent="  ", bom=True
    ),
}


@pytest.mark.parametrize("layout", LAYOUTS.values(), ids=LAYOUTS.keys())
def test_unusual_layouts_read_the_same(rulebook: Rulebook, layout: Layout) -> None:
    expected = digest(parse(build_file(mixed()), rulebook))
    raw = build_file(mixed(), layout=layout)
    parsed = parse(raw, rulebook)
    assert parsed.problems == [], [str(p) for p in parsed.problems]
    assert digest(parsed) == expected
    checked = parse(raw, rulebook, validate=True)
    assert checked.errors == []
    assert digest(checked) == expected


@pytest.mark.parametrize(
    "layout",
    [
        Layout(element="|", component=">", newline=""),
        Layout(element="|", component=">"),
        Layout(component="^", newline="\r\n"),
        Layout(segment="\n", newline=""),
        Layout(segment="\r", newline=""),
        Layout(bom=True),
    ],
    ids=[
        "pipe-and-gt-one-line",
        "pipe-and-gt-lf",
        "caret-crlf",
        "newline-terminator",
        "cr-terminator",
        "bom",
    ],
)
def test_unusual_layouts_headerless(rulebook: Rulebook, layout: Layout) -> None:
    expected = digest(parse(build_file(mixed()), rulebook))
    parsed = parse(build_file(mixed(), layout=layout, envelope=None), rulebook)
    assert parsed.ok, [str(p) for p in parsed.errors]
    assert digest(parsed) == expected


def test_blank_lines_before_the_isa_and_no_final_terminator(rulebook: Rulebook) -> None:
    expected = digest(parse(build_file(mixed()), rulebook))
    raw = b"\r\n\r\n  " + build_file(mixed()).rstrip(b"~\n")
    parsed = parse(raw, rulebook)
    assert parsed.problems == [], [str(p) for p in parsed.problems]
    assert digest(parsed) == expected


def test_validate_guide_false_skips_pyx12(rulebook: Rulebook) -> None:
    # BPR16 empty: the implementation guide requires it; our parser falls back to DTM*405.
    remittance = Remittance835(claims=[Claim835("X1", lines=[Line835()])], payment_date=None)
    raw = build_file(remittance)
    checked = parse(raw, rulebook, validate=True)
    assert checked.errors == []
    assert any(w.message.startswith("implementation guide") for w in checked.warnings)
    assert any(w.location.segment_id == "BPR" for w in checked.warnings)
    unchecked = parse(raw, rulebook, validate=False)
    assert unchecked.problems == []
    assert digest(unchecked) == digest(checked)


# --- files that must fail ---------------------------------------------------------------------


def assert_fails(parsed: ParsedFile, *phrases: str) -> Problem:
    """The file has errors; one of them contains every phrase and says where."""
    assert not parsed.ok
    assert parsed.errors
    messages = [str(p) for p in parsed.errors]
    for error in parsed.errors:
        if all(phrase.lower() in error.message.lower() for phrase in phrases):
            return error
    raise AssertionError(f"no error says {phrases}: {messages}")


def test_truncated_in_the_middle_of_a_claim(rulebook: Rulebook) -> None:
    raw = build_file(mixed())
    cut = raw[: raw.index(b"CLP*LINE1") + 12]  # inside the last claim's CLP segment
    parsed = parse(cut, rulebook)
    error = assert_fails(parsed, "truncated", "missing SE")
    assert names_where(error), str(error)
    assert "ST at segment 3" in error.message
    assert parsed.cases == []  # nothing from a broken file is ingested
    assert any("missing IEA" in p.message for p in parsed.errors)


@pytest.mark.parametrize("length", [3, 40, 105], ids=["isa-id", "isa-middle", "isa-end"])
def test_truncated_inside_the_isa(rulebook: Rulebook, length: int) -> None:
    raw = build_file(mixed())[:length]
    parsed = parse(raw, rulebook, validate=True)
    assert not parsed.ok
    assert parsed.errors[0].location.segment_id == "ISA", [str(p) for p in parsed.errors]
    assert parsed.cases == []


def test_truncated_headerless(rulebook: Rulebook) -> None:
    raw = build_file(mixed(), envelope=None)
    cut = raw[: raw.index(b"SVC*HC:80053")]
    parsed = parse(cut, rulebook)
    error = assert_fails(parsed, "truncated")
    assert names_where(error), str(error)


def test_truncated_between_transaction_sets(rulebook: Rulebook) -> None:
    raw = build_file([mixed(), mixed(trace_number="T2")])
    cut = raw[: raw.index(b"GE*")]  # both sets whole, GE and IEA gone
    parsed = parse(cut, rulebook)
    assert_fails(parsed, "missing GE")
    assert_fails(parsed, "missing IEA")


def test_version_4010_is_not_read(rulebook: Rulebook) -> None:
    raw = build_file(mixed(version=V4010_835))
    assert b"*00401*" in raw and b"*004010X091A1~" in raw
    parsed = parse(raw, rulebook, validate=True)
    error = assert_fails(parsed, "unsupported version 004010X091A1")
    assert names_where(error), str(error)
    assert error.location.segment_id in ("GS", "ST")
    assert parsed.cases == []


@pytest.mark.parametrize("version", [V5010_835, V4010_835], ids=["5010", "4010"])
def test_transaction_set_without_a_group(rulebook: Rulebook, version: str) -> None:
    segments = build_segments([mixed(version=version)])
    raw = join_segments([s for s in segments if not s.startswith(("GS*", "GE*"))])
    assert raw.startswith(b"ISA*") and b"\nST*835*" in raw and b"GS*" not in raw
    parsed = parse(raw, rulebook)
    error = assert_fails(parsed, "ST segment without a GS functional group header")
    assert "interchange 000000001 (ISA at segment 1)" in error.message
    assert (error.location.segment_number, error.location.segment_id) == (2, "ST")
    assert parsed.kind is None and parsed.cases == []


@pytest.mark.parametrize(
    "raw",
    [
        random.Random(7).randbytes(4096),
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x01\x00" + bytes(range(256)),
        b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj",
        b"PK\x03\x04\x14\x00\x00\x00\x08\x00",
        b"<html><body>835</body></html>",
        b"CLP*X*1*10*10~",  # X12-looking, but no ISA or ST first
    ],
    ids=["random", "png", "pdf", "zip", "html", "no-header"],
)
def test_not_an_x12_file(rulebook: Rulebook, raw: bytes) -> None:
    parsed = parse(raw, rulebook, validate=True)
    assert_fails(parsed, "not an X12 file")
    assert parsed.kind is None
    assert parsed.cases == [] and parsed.adjudicated == []


@pytest.mark.parametrize("raw", [b"", b" \r\n\t\n", b"\xef\xbb\xbf"], ids=["empty", "blank", "bom"])
def test_empty_file(rulebook: Rulebook, raw: bytes) -> None:
    parsed = parse(raw, rulebook, validate=True)
    assert_fails(parsed, "empty")
    assert parsed.cases == []


def test_cas_with_an_invalid_group_code(rulebook: Rulebook) -> None:
    bad = Claim835("BADCAS", lines=[Line835(billed="100", paid="50", cas=[("XX", "45", "50")])])
    remittance = Remittance835(claims=[paid_claim(), bad])
    segments = build_segments([remittance])
    number = segments.index("CAS*XX*45*50") + 1
    parsed = parse(build_file(remittance), rulebook)
    error = assert_fails(parsed, "'XX'", "group code")
    assert (error.location.segment_number, error.location.segment_id, error.location.element) == (
        number,
        "CAS",
        1,
    )


def test_amount_that_is_not_a_number(rulebook: Rulebook) -> None:
    bad = Claim835("BADAMT", billed="abc", paid="0", lines=[Line835(billed="100", paid="0")])
    remittance = Remittance835(claims=[paid_claim(), bad], total_paid="100")
    segments = build_segments([remittance])
    number = next(i for i, s in enumerate(segments, start=1) if s.startswith("CLP*BADAMT*"))
    parsed = parse(build_file(remittance), rulebook)
    error = assert_fails(parsed, "'abc'", "not an amount")
    assert "CLP03" in error.message
    assert (error.location.segment_number, error.location.segment_id, error.location.element) == (
        number,
        "CLP",
        3,
    )


@pytest.mark.parametrize(
    ("claim", "where"),
    [
        (Claim835("NAN", paid="NaN", lines=[Line835()]), ("CLP", 4)),
        (Claim835("INF", billed="Infinity", lines=[Line835()]), ("CLP", 3)),
        (Claim835("CASNAN", lines=[Line835(cas=[("CO", "16", "NaN")])]), ("CAS", 3)),
        (Claim835("SVCNAN", billed="100", paid="0", lines=[Line835(paid="sNaN")]), ("SVC", 3)),
    ],
    ids=["clp04-nan", "clp03-infinity", "cas03-nan", "svc03-snan"],
)
def test_amount_that_is_not_finite(
    rulebook: Rulebook, claim: Claim835, where: tuple[str, int]
) -> None:
    """Decimal() reads 'NaN' and 'Infinity': they are not amounts either, and must not crash
    the classification (comparing NaN raises InvalidOperation)."""
    raw = build_file(Remittance835(claims=[claim], total_paid="0"))
    parsed = parse(raw, rulebook)
    error = assert_fails(parsed, "not an amount")
    assert (error.location.segment_id, error.location.element) == where


@pytest.mark.parametrize(
    "remittance",
    [
        Remittance835(claims=[Claim835("A" * 90, status="4", lines=[Line835(paid="0")])]),
        Remittance835(claims=[Claim835("FREQ", status="4", frequency="77", lines=[Line835()])]),
        Remittance835(
            claims=[Claim835("NPI", status="4", lines=[Line835(paid="0")])],
            payee_npi="12345678901234",
        ),
        Remittance835(
            claims=[Claim835("CARC", lines=[Line835(paid="0", cas=[("CO", "1234567", "100")])])]
        ),
        Remittance835(
            claims=[Claim835("P1", lines=[Line835()])], plb=[Plb([("WO", "R" * 90, "10")])]
        ),
    ],
    ids=["clp01-90-chars", "clp09-2-chars", "npi-14-digits", "carc-7-chars", "plb-ref-90-chars"],
)
def test_values_the_models_refuse_are_errors_not_broken_records(
    rulebook: Rulebook, remittance: Remittance835
) -> None:
    """Either the file is refused with an error saying where, or every record it yields is a
    valid model (workflow payloads and the database validate them again later)."""
    parsed = parse(build_file(remittance), rulebook)
    if not parsed.ok:
        assert all(names_where(e) for e in parsed.errors), [str(e) for e in parsed.errors]
        return
    assert parsed.cases
    for case in parsed.cases:
        DenialRecord.model_validate(case.record.model_dump(mode="json"))
    for item in parsed.adjudicated:
        Claim.model_validate(item.claim.model_dump(mode="json"))


def test_invalid_claim_status(rulebook: Rulebook) -> None:
    remittance = Remittance835(claims=[Claim835("BADSTATUS", status="99", lines=[Line835()])])
    error = assert_fails(parse(build_file(remittance), rulebook), "CLP02", "'99'")
    assert (error.location.segment_id, error.location.element) == ("CLP", 2)


def test_svc_amount_that_is_not_a_number(rulebook: Rulebook) -> None:
    bad = Claim835("BADSVC", billed="100", paid="0", lines=[Line835(billed="1OO", paid="0")])
    remittance = Remittance835(claims=[bad], total_paid="0")
    error = assert_fails(parse(build_file(remittance), rulebook), "'1OO'", "not an amount")
    assert (error.location.segment_id, error.location.element) == ("SVC", 2)


# --- acknowledgments built by the generator ---------------------------------------------------


def test_generated_277ca(rulebook: Rulebook) -> None:
    ack = ClaimAck277(
        claims=[
            Claim277("CLM1", amount="125"),
            Claim277(
                "CLM2",
                category="A7",
                status="562",
                entity="85",
                amount="199.14",
                payer_claim_number="ICN2",
                service_to="20240120",
            ),
        ]
    )
    parsed = parse_bytes("a.277", build_file(ack), rulebook, validate_guide=True)
    assert parsed.problems == [], [str(p) for p in parsed.problems]
    assert parsed.kind is not None and parsed.kind.value == "277CA"
    assert parsed.claims_total == 2
    [case] = parsed.cases
    assert case.record.kind is DenialKind.REJECTION
    assert case.record.claim.claim_id == "CLM2"
    assert case.record.claim.payer_claim_control_number == "ICN2"
    assert case.record.claim.billed_amount == Decimal("199.14")
    assert any("A7:562:85" in d for d in case.record.details)


def test_generated_999(rulebook: Rulebook) -> None:
    ack = FunctionalAck999(
        sets=[
            SetResponse999("0001"),
            SetResponse999(
                "0002",
                ack="R",
                errors=["5"],
                segment_errors=[
                    SegmentError999(
                        claim_id="CLMX", elements=[ElementError999("2", "782", "7", "abc")]
                    )
                ],
            ),
        ]
    )
    raw = build_file(ack)
    assert b"AK9*P*2*2*1~" in raw
    parsed = parse_bytes("a.999", raw, rulebook, validate_guide=True)
    assert parsed.problems == [], [str(p) for p in parsed.problems]
    assert parsed.kind is not None and parsed.kind.value == "999"
    assert [(a.claim.claim_id, a.accepted) for a in parsed.acknowledged if not a.accepted] == [
        ("CLMX", False)
    ]
    [case] = parsed.cases
    assert case.record.kind is DenialKind.REJECTION
    assert case.record.claim.claim_id == "CLMX"


def test_random_remittance_reads_whole(rulebook: Rulebook) -> None:
    parsed = parse(build_file(random_remittance(300, seed=3)), rulebook)
    assert parsed.problems == []
    assert parsed.claims_total == 300
    kinds = {c.record.kind for c in parsed.cases}
    assert kinds == {DenialKind.DENIAL, DenialKind.REVERSAL}
    levels = {c.classification.level.value for c in parsed.cases_of(DenialKind.DENIAL)}
    assert levels == {"claim", "line"}
