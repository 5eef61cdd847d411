"""Every corrected claim the product builds is checked before it is sent: the same check as
an 837 file (rule checks, the prevention edits switched on, the active risk model), run on the
837 the submission would send (written by edi.claim837 exactly as the submission activity
writes it, then read back), so what is checked is what goes out.

The biller can check the claim from the task before sending (nothing counted); sending it runs
the check again as the gate: a blocking finding refuses the submission with its reasons and
fix, and the edits' hits are counted then (each attempt the check caught)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import UTC, date, datetime

from sqlmodel import Session

from db.prevention_edits import active_edits, record_edit_hits
from domain.appeals.corrections import (
    ClaimCorrections,
    corrections_problem,
    replacement_claim,
    revenue_codes,
)
from domain.case import Actor, CaseState
from domain.claim_checks.findings import (
    ClaimCheckResult,
    Finding,
    FindingKind,
    Severity,
)
from domain.payer_rules import PayerRuleRegistry
from edi.claim837 import Submitter, write_837
from edi.claims837 import Claims837Error, read_claims
from services.audit import AuditService, Outcome
from services.claim_checks import active_risk_scorer, check_claims
from services.errors import Invalid

UNREADABLE = "corrected_claim_837"


class ClaimBlocked(Invalid):
    """The check found something that blocks the claim: each blocking finding and its fix."""

    def __init__(self, result: ClaimCheckResult) -> None:
        blocking = [f for f in result.findings if f.severity is Severity.BLOCK]
        reasons = "; ".join(
            f"{f'line {f.line_number}: ' if f.line_number else ''}{f.message} Fix: {f.fix}"
            for f in blocking
        )
        super().__init__(f"the check before sending blocks this corrected claim: {reasons}")
        self.result = result


class CorrectedClaimCheck:
    def __init__(
        self,
        session: Session,
        registry: Callable[[], PayerRuleRegistry],
        submitter: Submitter,
        audit: AuditService,
    ) -> None:
        self._session = session
        self._registry = registry  # the current rules, admins' versions included
        self._submitter = submitter  # the billing office's identity: what the 837 carries
        self._audit = audit

    def check(
        self, state: CaseState, corrections: ClaimCorrections, submitted: date
    ) -> ClaimCheckResult | None:
        """The findings on the corrected claim these corrections build, or None while they
        cannot build one (`problem` says why; the case workflow refuses them then)."""
        if self.problem(state, corrections, submitted):
            return None
        claim = replacement_claim(state.record.claim, corrections, state.kind)
        text = write_837(
            claim,
            corrections.diagnosis_codes,
            self._submitter,
            0,
            datetime.now(UTC),
            revenue_codes(corrections),
        )
        try:
            [under_check] = list(read_claims(text))
        except Claims837Error as exc:  # what we would send cannot be read: never send it
            return ClaimCheckResult(
                claim_id=claim.claim_id,
                payer_id=claim.payer.payer_id,
                line_count=len(claim.service_lines),
                findings=(
                    Finding(
                        kind=FindingKind.RULE,
                        severity=Severity.BLOCK,
                        code=UNREADABLE,
                        message="The corrected claim's 837 cannot be read back.",
                        evidence=str(exc),
                        fix="Check the lines' procedure codes, charges and units",
                    ),
                ),
            )
        [[(_, result)]] = list(
            check_claims(
                [under_check],
                registry=self._registry(),
                edits=active_edits(self._session),
                scorer=active_risk_scorer(self._session),
                submitted=submitted,
            )
        )
        return result

    @staticmethod
    def problem(state: CaseState, corrections: ClaimCorrections, submitted: date) -> str | None:
        """Why these corrections cannot build the claim yet, in the biller's words."""
        return corrections_problem(state.record.claim, corrections, state.kind, submitted)

    def gate(
        self, state: CaseState, corrections: ClaimCorrections, submitted: date, actor: Actor
    ) -> ClaimCheckResult | None:
        """Check before sending: the edits' hits are counted, and a blocked claim is refused
        (ClaimBlocked, audited with the codes that blocked it)."""
        result = self.check(state, corrections, submitted)
        if result is None:
            return None
        hits = Counter(f.code for f in result.findings if f.kind is FindingKind.PREVENTION_EDIT)
        if hits:
            record_edit_hits(self._session, hits)
            self._session.commit()
        if result.blocked:
            self._audit.record(
                actor,
                "claim_check.corrected_claim",
                Outcome.REFUSED,
                case_id=state.case_id,
                blocked_by=sorted(
                    {f.code for f in result.findings if f.severity is Severity.BLOCK}
                ),
            )
            raise ClaimBlocked(result)
        return result
