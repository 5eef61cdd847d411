"""Reading a file as a stream (edi.stream) finds what parse_bytes finds reading it whole: the
same problems in the same order, the same counts, and (a part at a time) the same claims,
cases and acknowledgments at the same places in the file."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from domain.models import DenialKind
from domain.rulebook import Rulebook
from edi.parser import parse_bytes
from edi.problems import Severity
from edi.results import ParsedFile
from edi.stream import parts, scan
from edi.validation import validate
from testkit.x12 import FunctionalAck999, SetResponse999, build_file, random_remittance

X12 = Path(__file__).resolve().parents[1] / "data" / "x12"
SAMPLES = sorted(path for path in X12.iterdir() if path.suffix in (".835", ".277", ".999"))
REMITTANCE = build_file(random_remittance(300, seed=3))


def _broken() -> dict[str, bytes]:
    text = REMITTANCE.decode()
    return {
        "truncated": text[: len(text) // 2].encode(),
        "bad segment id": text.replace("~CLP*", "~CL#P*", 1).encode(),
        "no envelope": text[text.index("ST*") : text.index("GE*")].encode(),
        "bad status": text.replace("CLP*PCN00000007*1*", "CLP*PCN00000007*X*", 1).encode(),
        "empty": b"   ",
        "not x12": b"hello world",
    }


CASES = {path.name: path.read_bytes() for path in SAMPLES} | _broken() | {"random": REMITTANCE}


def _claims(parsed: ParsedFile) -> list[tuple[object, ...]]:
    return [
        (
            item.claim_id,
            item.payer_claim_control_number,
            item.payer,
            item.segment_number,
            item.transaction,
            item.service_date,
            item.remittance_date,
            item.paid_amount,
            item.classification,
            item.claim,
        )
        for item in parsed.adjudicated
    ]


@pytest.mark.parametrize("name", sorted(CASES))
def test_scan_finds_what_a_whole_parse_finds(name: str, rulebook: Rulebook) -> None:
    raw = CASES[name]
    whole = parse_bytes(name, raw, rulebook, validate_guide=False)
    scanned = scan(name, raw, rulebook)
    assert scanned.problems.kept == whole.problems
    assert scanned.ok is whole.ok
    assert (scanned.kind, scanned.version, scanned.sha256) == (
        whole.kind,
        whole.version,
        whole.sha256,
    )
    assert scanned.claims == whole.claims_total
    assert scanned.denials == len(whole.cases_of(DenialKind.DENIAL))
    assert scanned.rejections == len(whole.cases_of(DenialKind.REJECTION))
    assert scanned.reversals == len(whole.cases_of(DenialKind.REVERSAL, DenialKind.RECOUPMENT))
    assert scanned.problems_json() == whole.problems_json()


@pytest.mark.parametrize("name", sorted(CASES))
def test_parts_hold_the_whole_files_claims_in_place(name: str, rulebook: Rulebook) -> None:
    raw = CASES[name]
    whole = parse_bytes(name, raw, rulebook, validate_guide=False)
    if not whole.ok:
        return  # parts() is read only once scan() found no error
    read = list(parts(name, raw, rulebook, size=7))
    adjudicated = [claim for part in read for claim in _claims(part)]
    assert adjudicated == _claims(whole)
    assert [ack for part in read for ack in part.acknowledged] == whole.acknowledged
    assert [case for part in read for case in part.cases] == whole.cases
    assert all(len(p.adjudicated) + len(p.acknowledged) <= 7 + 1 for p in read)
    offsets = [0]
    for part in read[:-1]:
        offsets.append(offsets[-1] + len(part.adjudicated))
    assert [part.first_adjudicated for part in read] == offsets
    assert {(part.kind, part.sha256) for part in read} <= {(whole.kind, whole.sha256)}


def test_a_large_file_is_read_in_many_parts(rulebook: Rulebook) -> None:
    read = list(parts("random.835", REMITTANCE, rulebook, size=50))
    assert len(read) == 6
    assert [len(part.adjudicated) for part in read] == [50] * 6


def test_problems_beyond_the_limit_are_counted_not_kept(rulebook: Rulebook) -> None:
    text = REMITTANCE.decode()
    # Every claim's status made invalid: one error each.
    broken = re.sub(r"(CLP\*PCN\d+)\*\d+\*", r"\1*Q*", text)
    whole = parse_bytes("x", broken.encode(), rulebook, validate_guide=False)
    scanned = scan("x", broken.encode(), rulebook, limit=10)
    assert len(whole.errors) == 300
    assert scanned.problems.kept == whole.errors[:10]
    assert not scanned.ok
    assert scanned.problems.omitted == {Severity.ERROR: 290, Severity.WARNING: 0}
    assert len(scanned.problems_json()["errors"]) == 10


def test_scan_leaves_the_implementation_guide_check_out(rulebook: Rulebook) -> None:
    """pyx12 runs beside the ingest in another process (services.ingest_validation): the scan
    finds what our own parser finds, none of pyx12's findings."""
    raw = build_file(random_remittance(300, seed=7))
    assert validate(raw)  # pyx12 finds something in about one claim in ten
    whole = parse_bytes("x", raw, rulebook, validate_guide=False)
    assert scan("x", raw, rulebook).problems.kept == whole.problems


def test_a_set_of_another_kind_is_refused_alike_whole_and_streamed(rulebook: Rulebook) -> None:
    """A 999 after an 835 in one file: both readers refuse it with the same error."""
    raw = build_file([random_remittance(3), FunctionalAck999(sets=[SetResponse999()])])
    expected = "a 999 transaction set in a 835 file"
    whole = parse_bytes("mixed.835", raw, rulebook)
    streamed = scan("mixed.835", raw, rulebook)
    kept = [p for p in streamed.problems.kept if p.severity is Severity.ERROR]
    for problems in (whole.errors, kept):
        assert [p.message for p in problems if "transaction set in a" in p.message] == [expected]
