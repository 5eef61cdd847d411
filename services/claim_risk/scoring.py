"""Scoring claims under check: a denial probability per line and per claim, and for the lines
at risk a LEARNED_RISK finding with the factors behind it, in words and counts."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from domain.claim_checks.findings import ClaimUnderCheck, Finding, FindingKind, Severity
from services.claim_risk.history import HistoryLine, lines_of
from services.claim_risk.model import RiskModel

WARN_AT = 0.5  # a line more likely denied than paid: look before sending
INFO_AT = 0.25


@dataclass(frozen=True, slots=True)
class RiskAssessment:
    probability: float  # that the payer denies at least one of the claim's lines
    findings: tuple[Finding, ...] = ()


class RiskScorer:
    def __init__(self, model: RiskModel, version: str) -> None:
        self.model = model
        self.version = version

    def assess(self, claims: Sequence[ClaimUnderCheck]) -> list[RiskAssessment]:
        """One assessment per claim, in order; all claims' lines are scored in one batch."""
        lines = [line for claim in claims for line in lines_of(claim)]
        probabilities = self.model.line_probabilities(lines).tolist()
        found, start = [], 0
        for claim in claims:
            end = start + len(claim.lines)
            paid = 1.0
            findings = []
            for checked, line, risk in zip(
                claim.lines, lines[start:end], probabilities[start:end], strict=True
            ):
                paid *= 1.0 - risk
                if risk >= INFO_AT:
                    findings.append(self._finding(checked.line_number, line, risk))
            found.append(RiskAssessment(probability=1.0 - paid, findings=tuple(findings)))
            start = end
        return found

    def _finding(self, line_number: int, line: HistoryLine, risk: float) -> Finding:
        factors = self.model.evidence.factors(line)
        evidence = "; ".join(factor.text for factor in factors) or (
            "no single pattern stands out: the risk comes from the combination of payer, code "
            "and the line's other details in this organisation's history"
        )
        fix = " ".join(dict.fromkeys(factor.fix for factor in factors)) or (
            "Review the line against the payer's policy before sending."
        )
        return Finding(
            kind=FindingKind.LEARNED_RISK,
            severity=Severity.WARN if risk >= WARN_AT else Severity.INFO,
            code=self.version,
            message=f"Line {line_number} ({line.procedure_code}) "
            + ("is likely to be denied" if risk >= WARN_AT else "has a raised risk of denial")
            + f": {risk:.0%} by risk model {self.version}.",
            evidence=evidence,
            fix=fix,
            line_number=line_number,
            probability=round(min(max(risk, 0.0), 1.0), 4),
        )
