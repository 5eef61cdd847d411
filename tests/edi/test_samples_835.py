"""Every real 835 sample in tests/data/x12/, checked against what the file holds.

Expected values were read off the files segment by segment (see tests/data/x12/SOURCES.md)
and the domain reference (tests/data/reference/denials-domain.md), not from the parser's output:
which CLP loops are denials and at which level, their denial adjustments, RARCs, category,
class and denied amount; the claims that are not denials and the routine adjustments they carry
(OA-23, CO-45, PR-1/2/3, CO-42, CO-A2, OA-94...); and the warnings each file deserves.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from domain.models import Claim, DenialKind, DenialRecord, PayerType
from domain.rulebook import Rulebook
from edi.envelope import read_envelope
from edi.parser import parse_bytes
from edi.results import ParsedFile
from edi.tokenizer import decode, tokenize

X12 = Path(__file__).resolve().parents[1] / "data" / "x12"

Adj = tuple[str, str, str]  # group, CARC, amount


@dataclass(frozen=True)
class Denial:
    claim_id: str  # CLP01
    icn: str  # CLP07
    status: str  # CLP02
    level: str
    category: str
    denial_class: str
    denied: str
    adjustments: tuple[Adj, ...]  # the denial adjustments only
    rarcs: tuple[str, ...] = ()


@dataclass(frozen=True)
class Paid:
    """A claim that is not a denial, with every adjustment it carries (claim and lines)."""

    claim_id: str
    icn: str
    status: str
    billed: str
    paid: str
    adjustments: tuple[Adj, ...]
    rarcs: tuple[str, ...] = ()


@dataclass(frozen=True)
class Warning:
    segment_number: int | None
    segment_id: str | None
    element: int | None
    says: str  # a piece of the message


@dataclass(frozen=True)
class Sample:
    name: str
    claims_total: int
    denials: tuple[Denial, ...] = ()
    paid: tuple[Paid, ...] = ()
    warnings: tuple[Warning, ...] = ()  # from our own parser (validate_guide=False), all of them
    payer_id: str = ""
    payer_type: PayerType = PayerType.OTHER
    remittance_date: date | None = None
    all_adjustments: dict[str, tuple[Adj, ...]] = field(default_factory=dict)  # of the denials


SAMPLES = [
    Sample(
        "pyx12__835_mult_loops.835",
        claims_total=1,
        denials=(
            # CLP02 = 4, paid 0: denied outright. CO-16 on line 1 is the denial reason; OA-A7
            # (presumptive payment adjustment) on lines 2-3 is not a denial code, but the claim
            # is denied whole, so the denied amount is the whole charge.
            Denial(
                "2005555A",
                "4276512332",
                "4",
                "claim",
                "missing_information",
                "soft",
                "915.39",
                (("CO", "16", "500.04"),),
                ("N14",),
            ),
        ),
        all_adjustments={
            "2005555A": (("CO", "16", "500.04"), ("OA", "A7", "127.8"), ("OA", "A7", "287.55"))
        },
        payer_id="1386000134",  # no N104 / REF*2U: TRN03
        payer_type=PayerType.MEDICAID,  # CLP06 MC
        remittance_date=date(2004, 10, 28),
    ),
    Sample(
        "lfh__cob-contractural-adjustment.835",
        claims_total=1,
        paid=(
            Paid(
                "0001000055",
                "50650619501",
                "2",
                "541.00",
                "34.00",
                (("OA", "23", "516.00"), ("OA", "94", "-9.00")),
            ),
        ),
        payer_id="1566339911",
        payer_type=PayerType.COMMERCIAL,  # CLP06 12 (PPO)
        # BPR's date sits in BPR15 (one '*' short), so BPR16 is empty: DTM*405 is used.
        remittance_date=date(2005, 3, 18),
    ),
    Sample(
        "lfh__managed-care.835",
        claims_total=2,
        paid=(
            Paid(
                "5554555444",
                "94060555410000",
                "1",
                "800.00",
                "450.00",
                (("CO", "A2", "50.00"), ("PR", "1", "300.00")),
            ),
            Paid(
                "8765432112",
                "94077799230000",
                "1",
                "1200.00",
                "495.00",
                (("CO", "A2", "55.00"), ("PR", "1", "600.00"), ("CO", "45", "50.00")),
            ),
        ),
        warnings=(
            Warning(4, "BPR", 16, "'20002316' is not a valid date"),
            Warning(10, "N1", 4, "payee NPI '5544667733' fails the NPI check digit"),
        ),
        payer_id="1935665544",
        payer_type=PayerType.COMMERCIAL,
        remittance_date=date(2002, 3, 14),  # BPR16 invalid: DTM*405
    ),
    Sample(
        "lfh__medicare-part-a.835",
        claims_total=2,
        paid=(
            Paid(
                "666123",
                "1999999444444",
                "1",
                "211366.97",
                "138018.40",
                (("CO", "45", "73348.57"),),
            ),
            Paid(
                "777777",
                "1999999444445",
                "1",
                "15000.00",
                "11980.33",
                (("CO", "45", "3019.67"),),
                ("MA02",),  # MOA03
            ),
        ),
        payer_id="999",  # REF*2U
        payer_type=PayerType.MEDICARE,  # CLP06 MA / MB
        remittance_date=date(2002, 9, 13),
    ),
    Sample(
        "lfh__secondary-payment.835",
        claims_total=2,
        paid=(
            Paid(
                "L0004828311",
                "05090256390",
                "2",
                "10323.64",
                "912.00",
                (("OA", "23", "9411.64"),),
            ),
            Paid(
                "0001000053",
                "05630626430",
                "2",
                "751.50",
                "310.00",
                (
                    ("OA", "23", "136.50"),
                    ("PR", "1", "150.00"),
                    ("PR", "2", "70.00"),
                    ("CO", "42", "85.00"),
                ),
            ),
        ),
        payer_id="1559123456",
        payer_type=PayerType.COMMERCIAL,
        remittance_date=date(2005, 4, 12),
    ),
    Sample(
        "lfh__tertiary-payment.835",
        claims_total=1,
        paid=(
            Paid("0001000054", "50580155533", "3", "1766.50", "187.50", (("OA", "23", "1579.00"),)),
        ),
        payer_id="1559123456",
        payer_type=PayerType.COMMERCIAL,
        remittance_date=date(2005, 4, 12),
    ),
    Sample(
        "edi835p__blue_cross_nc_sample.835",
        claims_total=1,
        paid=(
            Paid(
                "200200964A52",
                "94151100100",
                "1",
                "2100",
                "1922.86",
                (("CO", "42", "34.6"), ("PR", "2", "117.54"), ("PR", "3", "25")),
            ),
        ),
        warnings=(
            Warning(1, "ST", None, "no ISA/GS envelope"),
            Warning(1, "ST", 3, "no version"),
            # ST ... SE holds 32 segments; SE01 says 33.
            Warning(32, "SE", 1, "SE01 says 33 segments, transaction set 1234 has 32"),
            # The third SVC (segment 28) leaves SVC02 and SVC03 empty (its amounts are in 07/08).
            Warning(28, "SVC", 2, "SVC02 is empty"),
            Warning(28, "SVC", 3, "SVC03 is empty"),
            Warning(10, "N1", 4, "payee NPI '0987654321' fails the NPI check digit"),
        ),
        payer_id="560894904",
        payer_type=PayerType.COMMERCIAL,  # CLP06 15 (indemnity)
        remittance_date=date(2011, 1, 8),
    ),
    Sample(
        "edi835p__emedny_sample.835",
        claims_total=3,
        denials=(
            # Both lines paid 0 with CO-29: the claim paid nothing, a claim-level denial.
            Denial(
                "PATIENT ACCOUNT NUMBER",
                "1000220000000020",
                "2",
                "claim",
                "timely_filing",
                "hard",
                "34",
                (("CO", "29", "12"), ("CO", "29", "22")),
            ),
            # Two lines paid, two lines paid 0 with CO-251 + N206: a line-level partial denial.
            Denial(
                "PATIENT ACCOUNT NUMBER",
                "1000230000000020",
                "2",
                "line",
                "missing_information",
                "soft",
                "22.75",
                (("CO", "251", "2.75"), ("CO", "251", "20")),
                ("N206",),
            ),
        ),
        paid=(Paid("PATIENT ACCOUNT NUMBER", "1000210000000030", "1", "34.25", "34.25", ()),),
        payer_id="1000000000",
        payer_type=PayerType.MEDICAID,
        remittance_date=date(2010, 1, 1),
    ),
    Sample(
        "edi835p__united_healthcare_legacy_sample.835",
        claims_total=2,
        paid=(
            Paid(
                "001-18573-358",
                "ATL2819897200",
                "1",
                "341.28",
                "88.92",
                # line 2 is paid 0, but only by deductible and fee schedule: not a denial
                (("CO", "45", "67.5"), ("PR", "1", "105.26"), ("CO", "45", "79.6")),
            ),
            Paid(
                "001-18604-358",
                "ATL2819897800",
                "1",
                "816.24",
                "261.07",
                (
                    ("CO", "45", "255.72"),
                    ("PR", "2", "5.13"),
                    ("PR", "1", "110"),  # second triplet of CAS*PR*2*5.13**1*110
                    ("CO", "45", "184.32"),
                ),
            ),
        ),
        payer_id="87726",
        payer_type=PayerType.MEDICARE_ADVANTAGE,  # CLP06 16 (HMO Medicare risk)
        remittance_date=date(2021, 2, 4),
    ),
    Sample(
        "affect__nevada_medicaid.835",
        claims_total=3,
        denials=(
            # OA-147 (50016) is the larger of the two denial adjustments: pricing, hard.
            Denial(
                "77777777",
                "6666666666666",
                "4",
                "claim",
                "pricing",
                "hard",
                "72232",
                (("OA", "147", "50016"), ("CO", "26", "22216")),
            ),
            # Paid 0 with OA-176 (a denial CARC): a claim-level denial although CLP02 = 2.
            Denial(
                "77777778",
                "6666666666667",
                "2",
                "claim",
                "other",
                "soft",
                "3002",
                (("OA", "176", "3002"),),
            ),
            # Here CO-26 (31866) is the larger: eligibility, soft.
            Denial(
                "77777779",
                "6666666666668",
                "4",
                "claim",
                "eligibility",
                "soft",
                "41231.04",
                (("OA", "147", "9365.04"), ("CO", "26", "31866")),
            ),
        ),
        warnings=(
            Warning(67, "IEA", 2, "IEA02 '100000301' does not match ISA13 '100000300'"),
            # Sample NPIs: one warning per transaction set that names a wrong one.
            Warning(11, "N1", 4, "payee NPI '6666666666' fails the NPI check digit"),
            Warning(33, "N1", 4, "payee NPI '6666666666' fails the NPI check digit"),
            Warning(62, "N1", 4, "payee NPI '7777777777' fails the NPI check digit"),
        ),
        payer_type=PayerType.MEDICAID,
        remittance_date=date(2018, 6, 15),
    ),
]


def _amount(text: str) -> Decimal:
    return Decimal(text)


def _adjustments(items: tuple[Adj, ...]) -> list[tuple[str, str, Decimal]]:
    return [(g, c, Decimal(a)) for g, c, a in items]


def _as_tuples(adjustments) -> list[tuple[str, str, Decimal]]:  # type: ignore[no-untyped-def]
    return [(a.group.value, a.carc, a.amount) for a in adjustments]


@pytest.fixture(scope="module")
def parsed() -> dict[tuple[str, bool], ParsedFile]:
    rulebook = Rulebook.load()
    results = {}
    for sample in SAMPLES:
        raw = (X12 / sample.name).read_bytes()
        for validate in (True, False):
            results[(sample.name, validate)] = parse_bytes(
                sample.name, raw, rulebook, validate_guide=validate
            )
    return results


def test_every_835_sample_is_covered() -> None:
    assert sorted(p.name for p in X12.glob("*.835")) == sorted(s.name for s in SAMPLES)


@pytest.mark.parametrize("sample", SAMPLES, ids=lambda s: s.name)
def test_kind_version_and_claim_count(sample: Sample, parsed) -> None:  # type: ignore[no-untyped-def]
    result = parsed[(sample.name, True)]
    assert result.errors == [], [str(p) for p in result.errors]
    assert result.ok
    assert result.kind is not None and result.kind.value == "835"
    assert result.version == "005010X221A1"
    assert result.claims_total == sample.claims_total
    ids = sorted((a.claim.claim_id, a.claim.payer_claim_control_number) for a in result.adjudicated)
    expected = sorted((c.claim_id, c.icn) for c in (*sample.denials, *sample.paid))
    assert ids == expected


@pytest.mark.parametrize("sample", SAMPLES, ids=lambda s: s.name)
def test_denials(sample: Sample, parsed) -> None:  # type: ignore[no-untyped-def]
    result = parsed[(sample.name, True)]
    # Only denials: no reversal, recoupment or rejection in any of these files.
    assert {c.record.kind for c in result.cases} <= {DenialKind.DENIAL}
    found = {
        (c.record.claim.claim_id, c.record.claim.payer_claim_control_number): c
        for c in result.cases
    }
    assert len(found) == len(result.cases)
    assert sorted(found) == sorted((d.claim_id, d.icn) for d in sample.denials)
    for denial in sample.denials:
        case = found[(denial.claim_id, denial.icn)]
        claim, classification = case.record.claim, case.classification
        where = f"{sample.name} {denial.claim_id} {denial.icn}"
        assert claim.claim_status == denial.status, where
        assert classification.is_denial, where
        assert classification.level.value == denial.level, where
        assert classification.category.value == denial.category, where
        assert classification.denial_class.value == denial.denial_class, where
        assert classification.denied_amount == _amount(denial.denied), where
        assert _as_tuples(classification.denial_adjustments) == _adjustments(denial.adjustments), (
            where
        )
        assert claim.all_rarcs() == list(denial.rarcs), where
        assert case.location.segment_id == "CLP", where
        if sample.payer_id:
            assert claim.payer.payer_id == sample.payer_id, where
        assert claim.payer.type is sample.payer_type, where
        if denial.claim_id in sample.all_adjustments:
            assert _as_tuples(claim.all_adjustments()) == _adjustments(
                sample.all_adjustments[denial.claim_id]
            ), where


@pytest.mark.parametrize("sample", SAMPLES, ids=lambda s: s.name)
def test_claims_that_are_not_denials(sample: Sample, parsed) -> None:  # type: ignore[no-untyped-def]
    result = parsed[(sample.name, True)]
    adjudicated = {
        (a.claim.claim_id, a.claim.payer_claim_control_number): a for a in result.adjudicated
    }
    for paid in sample.paid:
        item = adjudicated[(paid.claim_id, paid.icn)]
        claim, where = item.claim, f"{sample.name} {paid.claim_id}"
        assert not item.classification.is_denial, (where, item.classification.reasons)
        assert item.classification.denied_amount == 0, where
        assert claim.claim_status == paid.status, where
        assert claim.billed_amount == _amount(paid.billed), where
        assert claim.paid_amount == _amount(paid.paid), where
        assert _as_tuples(claim.all_adjustments()) == _adjustments(paid.adjustments), where
        assert claim.all_rarcs() == list(paid.rarcs), where
        assert claim.payer.type is sample.payer_type, where
        if sample.payer_id:
            assert claim.payer.payer_id == sample.payer_id, where
    for item in result.adjudicated:
        assert item.claim.remittance_date == sample.remittance_date, item.claim.claim_id


@pytest.mark.parametrize("sample", SAMPLES, ids=lambda s: s.name)
def test_warnings(sample: Sample, parsed) -> None:  # type: ignore[no-untyped-def]
    own = parsed[(sample.name, False)]
    assert own.errors == []
    assert not any("implementation guide" in p.message for p in own.problems)
    got = sorted(
        (w.location.segment_number or 0, w.location.segment_id or "", w.location.element or 0)
        for w in own.warnings
    )
    expected = sorted(
        (w.segment_number or 0, w.segment_id or "", w.element or 0) for w in sample.warnings
    )
    assert got == expected, [str(w) for w in own.warnings]
    for warning in sample.warnings:
        assert any(
            warning.says in w.message
            and w.location.segment_number == warning.segment_number
            and w.location.segment_id == warning.segment_id
            for w in own.warnings
        ), (warning, [str(w) for w in own.warnings])
    # With the implementation guide checked, the same warnings are there (plus pyx12's own),
    # never an error, and the claims and cases are the same.
    checked = parsed[(sample.name, True)]
    assert checked.errors == []
    assert [str(w) for w in own.warnings] == [
        str(w) for w in checked.warnings if not w.message.startswith("implementation guide")
    ]
    assert checked.claims_total == own.claims_total
    assert len(checked.cases) == len(own.cases)


def test_blue_cross_nc_headerless_skips_guide_validation(parsed) -> None:  # type: ignore[no-untyped-def]
    name = "edi835p__blue_cross_nc_sample.835"
    assert [str(p) for p in parsed[(name, True)].problems] == [
        str(p) for p in parsed[(name, False)].problems
    ]


def test_nevada_three_transaction_sets_and_no_recoupment(parsed) -> None:  # type: ignore[no-untyped-def]
    name = "affect__nevada_medicaid.835"
    raw = (X12 / name).read_bytes()
    envelope = read_envelope(tokenize(decode(raw)))
    assert [t.control_number for t in envelope.transaction_sets] == ["0001", "0002", "0003"]
    result = parsed[(name, True)]
    # The third set is PLB only: CT (capitation) adds money, the CS pairs net to zero.
    assert result.cases_of(DenialKind.RECOUPMENT, DenialKind.REVERSAL) == []
    # Each set's payer id is its TRN03: no N104 or REF*2U in this file.
    payers = {c.record.claim.claim_id: c.record.claim.payer.payer_id for c in result.cases}
    assert payers == {
        "77777777": "1388600002",
        "77777778": "5555555555",
        "77777779": "5555555555",
    }
    dates = {c.record.claim.claim_id: c.record.claim.service_date_from for c in result.cases}
    assert dates == {
        "77777777": date(2018, 3, 14),
        "77777778": date(2017, 10, 1),
        "77777779": date(2018, 2, 20),
    }


def test_medicare_part_a_claim_details(parsed) -> None:  # type: ignore[no-untyped-def]
    result = parsed[("lfh__medicare-part-a.835", True)]
    claims = {a.claim.claim_id: a.claim for a in result.adjudicated}
    inpatient = claims["666123"]
    assert inpatient.claim_type.value == "institutional"  # MIA
    assert inpatient.service_date_from == date(2002, 8, 16)
    assert inpatient.service_date_to == date(2002, 8, 24)
    assert claims["777777"].service_date_from == date(2002, 5, 12)
    # PLB CV:CP -1.27 is not a recoupment reason.
    assert result.cases == []


def test_emedny_line_details(parsed) -> None:  # type: ignore[no-untyped-def]
    result = parsed[("edi835p__emedny_sample.835", True)]
    partial = next(
        c.record.claim
        for c in result.cases
        if c.record.claim.payer_claim_control_number == "1000230000000020"
    )
    assert [
        (x.procedure_code, x.modifiers, x.billed_amount, x.paid_amount, x.rarcs)
        for x in partial.service_lines
    ] == [
        ("V2020", ["RB"], Decimal("6"), Decimal("6"), []),
        ("V2103", ["RB"], Decimal("5.5"), Decimal("5.5"), []),
        ("V2700", ["RB"], Decimal("2.75"), Decimal("0"), ["N206"]),
        ("S0580", [], Decimal("20"), Decimal("0"), ["N206"]),
    ]
    assert partial.paid_amount == Decimal("11.5")
    assert partial.service_date_from == date(2010, 1, 1)
    assert partial.service_date_to is None  # DTM*233 equals DTM*232


def test_united_healthcare_component_separator(parsed) -> None:  # type: ignore[no-untyped-def]
    result = parsed[("edi835p__united_healthcare_legacy_sample.835", True)]
    codes = {
        a.claim.claim_id: [line.procedure_code for line in a.claim.service_lines]
        for a in result.adjudicated
    }
    assert codes == {
        "001-18573-358": ["B4152", "B4152"],
        "001-18604-358": ["B4154", "B4034", "B4154"],
    }
    assert {a.claim.payer.name for a in result.adjudicated} == {
        "UNITED HEALTHCARE INSURANCE COMPANY"
    }


@pytest.mark.parametrize("sample", SAMPLES, ids=lambda s: s.name)
def test_records_are_valid_models(sample: Sample, parsed) -> None:  # type: ignore[no-untyped-def]
    """The parser builds models without validation, for speed: what it builds from real files
    must still pass validation (workflow payloads and the database check them again)."""
    result = parsed[(sample.name, True)]
    for case in result.cases:
        DenialRecord.model_validate(case.record.model_dump(mode="json"))
    for item in result.adjudicated:
        Claim.model_validate(item.claim.model_dump(mode="json"))
