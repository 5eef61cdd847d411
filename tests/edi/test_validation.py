"""pyx12 implementation-guide findings become warnings with their segment and line."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

import edi.validation
from domain.rulebook import Rulebook
from edi.parser import parse_bytes
from edi.problems import Location, Problem, Severity
from edi.validation import validate

X12 = Path(__file__).resolve().parents[1] / "data" / "x12"


def read(name: str) -> bytes:
    return (X12 / name).read_bytes()


def found(problems: list[Problem]) -> list[tuple[str, Location]]:
    assert all(p.severity is Severity.WARNING for p in problems)
    return [(p.message, p.location) for p in problems]


MANAGED_CARE = [
    (
        'implementation guide: Data element "Check Issue or EFT Effective Date" (BPR16) '
        "contains an invalid date (20002316)",
        Location(segment_number=4, segment_id="BPR", element=16, line=4),
    ),
    (
        'implementation guide: Mandatory segment "Payer Technical Contact Information" (PER) '
        "missing",
        Location(segment_number=10, segment_id="PER", line=10),
    ),
]


def test_managed_care_835_findings() -> None:
    assert found(validate(read("lfh__managed-care.835"))) == MANAGED_CARE


def test_parse_bytes_adds_the_findings_as_warnings(rulebook: Rulebook) -> None:
    parsed = parse_bytes("lfh__managed-care.835", read("lfh__managed-care.835"), rulebook)

    assert parsed.ok
    guide = [p for p in parsed.warnings if p.message.startswith("implementation guide")]
    assert found(guide) == MANAGED_CARE
    assert str(guide[0].location) == "segment 4 (BPR16) line 4"


def test_parse_bytes_can_skip_validation(rulebook: Rulebook) -> None:
    raw = read("lfh__managed-care.835")
    parsed = parse_bytes("lfh__managed-care.835", raw, rulebook, validate_guide=False)

    assert not any(p.message.startswith("implementation guide") for p in parsed.problems)


def test_one_line_file_has_line_1_and_its_segment_position() -> None:
    assert found(validate(read("edi835p__united_healthcare_legacy_sample.835"))) == [
        (
            "implementation guide: (NP) is not a valid code for Payee State Code (N402)",
            Location(segment_number=16, segment_id="N4", element=2, line=1),
        )
    ]


def test_277ca_findings() -> None:
    assert found(validate(read("imsweb__x12_277CA_accepted.277"))) == [
        (
            'implementation guide: Mandatory segment "Billing Provider Status Information" '
            "(STC) missing",
            Location(segment_number=19, segment_id="STC", line=19),
        ),
        (
            'implementation guide: Data element "Claim Service Period" (DTP03) contains an '
            "invalid date (10010101)",
            Location(segment_number=24, segment_id="DTP", element=3, line=24),
        ),
    ]


def test_envelope_findings_name_the_trailer_segment() -> None:
    assert found(validate(read("imsweb__x12_999_accepted.999"))) == [
        (
            "implementation guide: IEA id=000000001 does not match ISA id=000000286",
            Location(segment_number=10, segment_id="IEA", line=10),
        )
    ]


def test_valid_files_have_no_findings() -> None:
    assert validate(read("pyx12__835_mult_loops.835")) == []
    assert validate(read("imsweb__x12_999_rejected.999")) == []


def test_bom_and_leading_blank_lines() -> None:
    raw = read("lfh__managed-care.835")

    assert found(validate(b"\xef\xbb\xbf" + raw)) == MANAGED_CARE
    shifted = found(validate(b"\r\n\r\n" + raw))
    assert [location.line for _, location in shifted] == [6, 12]
    assert [location.segment_number for _, location in shifted] == [4, 10]


def test_collapsed_isa_padding_cannot_be_validated() -> None:
    assert found(validate(read("affect__nevada_medicaid.835"))) == [
        (
            "implementation guide validation could not run: its ISA segment is 72 characters "
            "long, not the fixed 106 pyx12 requires (padding collapsed)",
            Location(),
        )
    ]


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b"", "First line does not begin with 'ISA':"),
        (b"ST*835*0001~BPR*I~SE*3*0001~", "First line does not begin with 'ISA': ST*"),
    ],
)
def test_unreadable_input_is_one_warning(raw: bytes, reason: str) -> None:
    assert found(validate(raw)) == [
        (f"implementation guide validation could not run: {reason}", Location())
    ]


def test_headerless_file_is_not_validated(rulebook: Rulebook) -> None:
    name = "edi835p__blue_cross_nc_sample.835"
    parsed = parse_bytes(name, read(name), rulebook)

    assert not any("implementation guide" in p.message for p in parsed.problems)


def test_pyx12_failure_never_raises(monkeypatch: pytest.MonkeyPatch) -> None:
    def explode(*args: object, **kwargs: object) -> bool:
        raise RuntimeError("map exploded")

    monkeypatch.setattr(edi.validation.pyx12.x12n_document, "x12n_document", explode)

    assert found(validate(read("lfh__managed-care.835"))) == [
        ("implementation guide validation could not run: RuntimeError: map exploded", Location())
    ]


def test_pyx12_logging_is_silent(
    caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    with caplog.at_level(logging.DEBUG):
        validate(read("staedi__invalid999.999"))
        validate(read("affect__nevada_medicaid.835"))

    assert [r for r in caplog.records if r.name.startswith("pyx12")] == []
    assert capsys.readouterr() == ("", "")
