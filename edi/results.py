"""What parsing a file yields: every adjudicated claim, the records that open cases, and the
problems found, with the JSON shape `denials parse --json` prints."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from datetime import date
from decimal import Decimal
from enum import StrEnum
from json.encoder import encode_basestring_ascii
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from domain.classification import Classification
from domain.models import Adjustment, Claim, DenialKind, DenialRecord, Payer, ServiceLine
from edi.problems import Location, Problem, Severity


class FileKind(StrEnum):
    REMITTANCE = "835"
    CLAIM_ACKNOWLEDGMENT = "277CA"
    FUNCTIONAL_ACKNOWLEDGMENT = "999"


SUPPORTED_VERSIONS = {
    FileKind.REMITTANCE: "005010X221A1",
    FileKind.CLAIM_ACKNOWLEDGMENT: "005010X214",
    FileKind.FUNCTIONAL_ACKNOWLEDGMENT: "005010X231A1",
}


class AdjudicatedClaim:
    """One CLP loop of an 835: counted whether or not it is a denial.

    Its full `Claim` model is built on first use: a large remittance is mostly paid claims
    that nothing but the counts and the payer-answer matching ever reads.
    """

    __slots__ = (
        "_build_claim",
        "_claim",
        "billed_amount",
        "claim_id",
        "claim_status",
        "classification",
        "original_reference",
        "paid_amount",
        "payer",
        "payer_claim_control_number",
        "provider_npi",
        "remittance_date",
        "remittance_trace",
        "segment_number",
        "service_date",
        "transaction",
    )

    def __init__(
        self,
        *,
        claim_id: str,
        payer_claim_control_number: str,
        claim_status: str,
        payer: Payer,
        provider_npi: str,
        billed_amount: Decimal,
        paid_amount: Decimal,
        service_date: date,
        remittance_date: date | None,
        original_reference: str,
        remittance_trace: str,
        transaction: int,
        segment_number: int,
        build_claim: Callable[[], Claim],
    ) -> None:
        self.claim_id = claim_id
        self.payer_claim_control_number = payer_claim_control_number
        self.claim_status = claim_status
        self.payer = payer
        self.provider_npi = provider_npi
        self.billed_amount = billed_amount
        self.paid_amount = paid_amount
        self.service_date = service_date
        self.remittance_date = remittance_date
        self.original_reference = original_reference  # REF*F8: the claim this one corrects
        # TRN02 (the check or EFT trace number): one remittance however many files bring it.
        self.remittance_trace = remittance_trace
        self.transaction = transaction  # the ST segment's number: its place in the file
        # The CLP's number, not the segment: a large remittance would keep one per claim.
        self.segment_number = segment_number
        self.classification: Classification
        self._build_claim = build_claim
        self._claim: Claim | None = None

    @property
    def claim(self) -> Claim:
        if self._claim is None:
            self._claim = self._build_claim()
        return self._claim

    @property
    def location(self) -> Location:
        return Location(segment_number=self.segment_number, segment_id="CLP")

    @property
    def is_reversal(self) -> bool:
        return self.claim_status == "22"


class CaseRecord(BaseModel):
    """A record that opens a case (denial, rejection, reversal or recoupment), and where in
    the file it came from."""

    record: DenialRecord
    classification: Classification
    location: Location


class AcknowledgedClaim(BaseModel):
    """A claim a 277CA or 999 reports on, accepted or rejected."""

    claim: Claim
    accepted: bool
    details: list[str]
    location: Location


class ParsedFile(BaseModel):
    model_config = ConfigDict(arbitrary_types_allowed=True)

    file: str
    sha256: str
    kind: FileKind | None = None
    version: str | None = None
    adjudicated: list[AdjudicatedClaim] = Field(default_factory=list)
    acknowledged: list[AcknowledgedClaim] = Field(default_factory=list)
    cases: list[CaseRecord] = Field(default_factory=list)
    problems: list[Problem] = Field(default_factory=list)
    # A part of a file read in parts (edi.stream.parts): where its first claims stand in it.
    first_adjudicated: int = 0
    first_acknowledged: int = 0

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity is Severity.ERROR]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.severity is Severity.WARNING]

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def claims_total(self) -> int:
        """Claims adjudicated (835) or acknowledged (277CA, 999): the denominator of rates."""
        return len(self.adjudicated) + len(self.acknowledged)

    def cases_of(self, *kinds: DenialKind) -> list[CaseRecord]:
        return [case for case in self.cases if case.record.kind in kinds]

    def summary(self) -> dict[str, Any]:
        """The `denials parse --json` object for this file (summary_json's, read back)."""
        result: dict[str, Any] = json.loads(self.summary_json())
        return result

    def summary_json(self, more_warnings: Iterable[Problem] = (), **more: object) -> str:
        """The `denials parse --json` line of this file: what json.dumps writes of its object,
        byte for byte, with `more_warnings` after the file's own and `more` as its last keys.
        The cases are written as text: their dicts cost json.dumps as much time again (7,000
        cases: 0.25 s against 0.13)."""
        head = json.dumps(
            {
                "file": self.file,
                "sha256": self.sha256,
                "kind": self.kind.value if self.kind else None,
                "version": self.version,
                "claims_total": self.claims_total,
            }
        )
        problems = self.problems_json()
        problems["warnings"].extend(problem_json(problem) for problem in more_warnings)
        cases: dict[str, list[str]] = {"denials": [], "rejections": [], "reversals": []}
        for case in self.cases:  # one pass: on a large file each visit of a case counts
            cases[_LISTED_IN[case.record.kind]].append(_case_json(case))
        listed = ", ".join(f'"{key}": [{", ".join(found)}]' for key, found in cases.items())
        return f"{head[:-1]}, {listed}, {json.dumps(problems | more)[1:]}"

    def problems_json(self) -> dict[str, list[dict[str, Any]]]:
        """The errors and warnings as summary() gives them, without the cases' JSON (an ingest
        keeps the problems in its report; a large file has tens of thousands of cases)."""
        return {
            "errors": [problem_json(p) for p in self.errors],
            "warnings": [problem_json(p) for p in self.warnings],
        }


def problem_json(problem: Problem) -> dict[str, Any]:
    """A problem as the `errors` and `warnings` of summary() list it."""
    return {
        "message": problem.message,
        "location": problem.location.model_dump(exclude_none=True)
        | {"text": str(problem.location)},
    }


_LISTED_IN = {
    DenialKind.DENIAL: "denials",
    DenialKind.REJECTION: "rejections",
    DenialKind.REVERSAL: "reversals",
    DenialKind.RECOUPMENT: "reversals",
}

# What json.dumps (ensure_ascii) writes of a string, quotes included. Enum values and amounts
# (digits, '-', '.') are written as they are: nothing in them needs escaping.
_string = encode_basestring_ascii


def _case_json(case: CaseRecord) -> str:
    """A case as summary_json lists it: json.dumps of its object, byte for byte."""
    record, classification = case.record, case.classification
    claim = record.claim
    payer = claim.payer
    lines = claim.service_lines
    rarcs = claim.all_rarcs() if claim.rarcs or any(line.rarcs for line in lines) else []
    return (
        f'{{"kind": "{record.kind._value_}", "claim_id": {_string(claim.claim_id)}, '
        f'"payer_claim_control_number": {_string(claim.payer_claim_control_number)}, '
        f'"claim_status": {_string(claim.claim_status)}, "payer_id": {_string(payer.payer_id)}, '
        f'"payer_name": {_string(payer.name)}, "payer_type": "{payer.type._value_}", '
        f'"billed_amount": "{claim.billed_amount:.2f}", '
        f'"paid_amount": "{claim.paid_amount:.2f}", '
        f'"denied_amount": "{classification.denied_amount:.2f}", '
        f'"level": "{classification.level._value_}", '
        f'"adjustments": {_adjustments_json(classification.denial_adjustments)}, '
        f'"rarcs": {_strings_json(rarcs)}, "category": "{classification.category._value_}", '
        f'"denial_class": "{classification.denial_class._value_}", '
        f'"details": {_strings_json(record.details)}, '
        f'"service_lines": [{", ".join(map(_line_json, lines))}], '
        f'"location": {_string(str(case.location))}}}'
    )


def _line_json(line: ServiceLine) -> str:
    return (
        f'{{"line_number": {line.line_number:d}, '
        f'"procedure_code": {_string(line.procedure_code)}, '
        f'"modifiers": {_strings_json(line.modifiers)}, '
        f'"billed_amount": "{line.billed_amount:.2f}", "paid_amount": "{line.paid_amount:.2f}", '
        f'"adjustments": {_adjustments_json(line.adjustments)}, '
        f'"rarcs": {_strings_json(line.rarcs)}}}'
    )


def _adjustments_json(adjustments: list[Adjustment]) -> str:
    listed = ", ".join(
        f'{{"group": "{a.group._value_}", "carc": {_string(a.carc)}, "amount": "{a.amount:.2f}"}}'
        for a in adjustments
    )
    return f"[{listed}]"


def _strings_json(strings: list[str]) -> str:
    return f"[{', '.join(map(_string, strings))}]"
