"""The pre-submission check: every claim of an 837 through the rule checks, the prevention
edits switched on and the active risk model, the results stored as one run.

Claims are read, checked and stored a chunk at a time (`CHUNK`), so a large file is never held
as claims all at once; the model scores a whole chunk in one call. Logs name the run and its
counts, never a claim."""

from __future__ import annotations

import csv
import hashlib
import io
import logging
import uuid
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from itertools import islice
from typing import Protocol

from sqlmodel import Session

from db.claim_checks import CheckedClaim, ClaimCheckRunRow, add_results, add_run, worst_of
from db.prevention_edits import active_edits, record_edit_hits
from domain.claim_checks.edits import PreventionEdit, edit_findings
from domain.claim_checks.findings import (
    ClaimCheckResult,
    ClaimUnderCheck,
    Finding,
    FindingKind,
)
from domain.claim_checks.rules import duplicate_findings, rule_findings
from domain.payer_rules import PayerRuleRegistry
from edi.claims837 import read_claims_file
from services.claim_risk import active_scorer

log = logging.getLogger(__name__)
CHUNK = 2_000
_SEVERITY_ORDER = {"block": 0, "warn": 1, "info": 2}


class Assessment(Protocol):
    @property
    def probability(self) -> float: ...
    @property
    def findings(self) -> tuple[Finding, ...]: ...


class Scorer(Protocol):
    """What the check needs of a risk model (services.claim_risk.RiskScorer)."""

    @property
    def version(self) -> str: ...
    def assess(self, claims: Sequence[ClaimUnderCheck]) -> Sequence[Assessment]: ...


def _ordered(findings: Iterable[Finding]) -> tuple[Finding, ...]:
    """Blocks first, then warnings, then notes; the claim's own before its lines'."""
    return tuple(
        sorted(
            findings,
            key=lambda f: (
                _SEVERITY_ORDER[f.severity.value],
                f.line_number is not None,
                f.line_number or 0,
            ),
        )
    )


def _chunks(claims: Iterable[ClaimUnderCheck], size: int) -> Iterator[list[ClaimUnderCheck]]:
    iterator = iter(claims)
    while chunk := list(islice(iterator, size)):
        yield chunk


def check_claims(
    claims: Iterable[ClaimUnderCheck],
    *,
    registry: PayerRuleRegistry,
    edits: Sequence[PreventionEdit],
    scorer: Scorer | None,
    submitted: date,
    chunk: int = CHUNK,
) -> Iterator[list[tuple[ClaimUnderCheck, ClaimCheckResult]]]:
    """Each chunk of claims with its results, in file order."""
    seen: Counter[tuple[str, str, str]] = Counter()  # originals so far, for duplicates
    for batch in _chunks(claims, chunk):
        duplicates = duplicate_findings(batch, seen)
        assessments = list(scorer.assess(batch)) if scorer is not None else []
        if scorer is not None and len(assessments) != len(batch):
            raise RuntimeError(
                f"risk model {scorer.version} answered {len(assessments)} assessments for "
                f"{len(batch)} claims"
            )
        out = []
        for index, claim in enumerate(batch):
            assessment = assessments[index] if assessments else None
            findings = [
                *rule_findings(claim, registry, submitted),
                *duplicates.get(index, ()),
                *edit_findings(claim, edits),
                *(assessment.findings if assessment is not None else ()),
            ]
            out.append(
                (
                    claim,
                    ClaimCheckResult(
                        claim_id=claim.claim_id,
                        payer_id=claim.payer_id,
                        line_count=len(claim.lines),
                        denial_probability=assessment.probability if assessment else None,
                        model_version=scorer.version if scorer is not None else None,
                        findings=_ordered(findings),
                    ),
                )
            )
        yield out


@dataclass
class CheckRun:
    """One checked file: its stored run and every claim's result in file order."""

    run: ClaimCheckRunRow
    results: list[ClaimCheckResult] = field(default_factory=list)

    @property
    def blocked(self) -> bool:
        return self.run.blocked > 0


def run_check(
    session: Session,
    raw: bytes,
    *,
    registry: PayerRuleRegistry,
    scorer: Scorer | None,
    submitted: date,
    checked_by: str,
    source: str,
    keep_results: bool = True,
) -> CheckRun:
    """Check every claim of the 837 `raw` as if sent on `submitted` and store the run, the
    results and the edits' hits in one transaction. Raises edi.claims837.Claims837Error (with
    segment and line) for a file that cannot be read: nothing is stored then."""
    run = ClaimCheckRunRow(
        run_id=uuid.uuid4().hex,
        file_sha256=hashlib.sha256(raw).hexdigest(),
        file_size=len(raw),
        source=source,
        checked_by=checked_by,
        checked_at=datetime.now(UTC),
        submission_date=submitted,
        claims=0,
        lines=0,
        blocked=0,
        warned=0,
        findings=0,
        model_version=scorer.version if scorer is not None else None,
    )
    checked = CheckRun(run)
    hits: Counter[str] = Counter()
    counts: Counter[str] = Counter()  # summed here: a row's attribute set costs ten times more
    try:
        add_run(session, run)
        edits = active_edits(session)
        batches = check_claims(
            read_claims_file(raw),
            registry=registry,
            edits=edits,
            scorer=scorer,
            submitted=submitted,
        )
        for batch in batches:
            add_results(
                session,
                run.run_id,
                counts["claims"] + 1,
                [(result, claim) for claim, result in batch],
            )
            for claim, result in batch:
                counts.update(claims=1, lines=len(claim.lines), findings=len(result.findings))
                counts[worst_of(result)] += 1
                hits.update(
                    f.code for f in result.findings if f.kind is FindingKind.PREVENTION_EDIT
                )
                if keep_results:
                    checked.results.append(result)
        run.claims, run.lines, run.findings = counts["claims"], counts["lines"], counts["findings"]
        run.blocked, run.warned = counts["block"], counts["warn"]
        session.add(run)
        record_edit_hits(session, hits)
        session.commit()
    except BaseException:
        session.rollback()
        raise
    log.info(
        "claim check %s (%s): %d claims, %d lines, %d blocked, %d warned, model %s",
        run.run_id,
        source,
        run.claims,
        run.lines,
        run.blocked,
        run.warned,
        run.model_version or "none",
    )
    return checked


def active_risk_scorer(session: Session) -> Scorer | None:
    """The risk model in use (None before one is trained)."""
    return active_scorer(session)


def check_file(
    session: Session,
    raw: bytes,
    *,
    registry: PayerRuleRegistry,
    submitted: date,
    checked_by: str,
    source: str,
) -> CheckRun:
    """`run_check` with the active risk model."""
    return run_check(
        session,
        raw,
        registry=registry,
        scorer=active_risk_scorer(session),
        submitted=submitted,
        checked_by=checked_by,
        source=source,
    )


@dataclass(frozen=True)
class FindingRow:
    """One finding of a stored run as the page and its CSV list it."""

    position: int  # the claim's place in the file
    claim_id: str
    payer_id: str
    payer_name: str
    denial_probability: float | None
    finding: Finding


def finding_rows(
    claims: Sequence[CheckedClaim],
    *,
    severity: str | None = None,
    kind: str | None = None,
    payer: str | None = None,
) -> list[FindingRow]:
    """The findings of `claims` that pass the filters, claim by claim, in the claim's order."""
    return [
        FindingRow(
            claim.position,
            claim.claim_id,
            claim.payer_id,
            claim.payer_name,
            claim.denial_probability,
            finding,
        )
        for claim in claims
        if payer in (None, claim.payer_id)
        for finding in claim.findings
        if severity in (None, finding.severity.value) and kind in (None, finding.kind.value)
    ]


def payers_of(claims: Sequence[CheckedClaim]) -> list[tuple[str, str]]:
    """(payer id, name) of every payer in a run, by id."""
    return sorted({(claim.payer_id, claim.payer_name) for claim in claims})


def _cell(value: object) -> str:
    text = "" if value is None else str(value)
    # Spreadsheets run cells starting with these as formulas (CSV injection).
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


CSV_COLUMNS = (
    "claim_number",
    "claim_id",
    "payer_id",
    "payer_name",
    "denial_probability",
    "line",
    "severity",
    "kind",
    "code",
    "message",
    "evidence",
    "fix",
)


def rows_csv(rows: Iterable[FindingRow]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for row in rows:
        finding = row.finding
        probability = (
            f"{row.denial_probability:.3f}" if row.denial_probability is not None else None
        )
        writer.writerow(
            _cell(value)
            for value in (
                row.position,
                row.claim_id,
                row.payer_id,
                row.payer_name,
                probability,
                finding.line_number or "claim",
                finding.severity.value,
                finding.kind.value,
                finding.code,
                finding.message,
                finding.evidence,
                finding.fix,
            )
        )
    return out.getvalue()
