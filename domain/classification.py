"""Denial classification from CAS group code + CARC (+ RARC): category, soft/hard, suggested path.

The mapping is data: `domain/data/carc_categories.csv` covers the full CARC list (built on
`shared/codes/carc.csv`), and a customer CSV with the same columns overrides rows by CARC.
Adjustments that are routine (CO-45 fee schedule, PR-1/2/3 patient share, OA-23 prior payer,
CO-42, ...) are *not* denials: counting every CAS row as a denial is the classic bug.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from pathlib import Path
from typing import Protocol

from pydantic import BaseModel, ConfigDict, Field

from domain.categories import CategoryProfile
from domain.data_files import read_data_text
from domain.models import (
    Adjustment,
    Category,
    Claim,
    DenialClass,
    DenialKind,
    GroupCode,
    WorkPath,
)
from domain.payer_rules import PayerRule
from domain.prevalidated import prevalidated

CARC_COLUMNS = ("carc", "category", "denial_class", "not_denial_groups", "description")


class ClassificationFileError(ValueError):
    """A classification file that cannot be used, naming the file, line and problem."""


class AdjustmentLike(Protocol):
    """What classification reads of an adjustment (the parser's light ones included)."""

    @property
    def group(self) -> GroupCode: ...
    @property
    def carc(self) -> str: ...
    @property
    def amount(self) -> Decimal: ...
    @property
    def code(self) -> str: ...


class RarcEffect(StrEnum):
    NO_APPEAL_RIGHTS = "no_appeal_rights"


@dataclass(frozen=True)
class CarcRule:
    carc: str
    category: Category
    denial_class: DenialClass
    not_denial_groups: frozenset[str]
    description: str

    def is_denial_for(self, group: GroupCode) -> bool:
        return not ("*" in self.not_denial_groups or group.value in self.not_denial_groups)


class DenialLevel(StrEnum):
    CLAIM = "claim"
    LINE = "line"


class Classification(BaseModel):
    """The outcome of classifying one claim, with the reasons that produced it."""

    model_config = ConfigDict(frozen=True)

    is_denial: bool
    category: Category
    denial_class: DenialClass
    level: DenialLevel
    suggested_path: WorkPath
    appeal_rights: bool
    denied_amount: Decimal
    primary_adjustment: Adjustment | None = None
    denial_adjustments: list[Adjustment] = Field(default_factory=list)
    reasons: list[str] = Field(default_factory=list)
    no_appeal_reason: str = Field(
        default="", description="Why appeal_rights is False, to refuse an appeal in its words"
    )


class ClassificationTable:
    """CARC and RARC rules, loaded from the shipped files plus an optional customer override."""

    def __init__(
        self,
        carc_rules: dict[str, CarcRule],
        rarc_effects: dict[str, RarcEffect],
        rarc_descriptions: dict[str, str] | None = None,
    ):
        self.carc_rules = carc_rules
        self.rarc_effects = rarc_effects
        self.rarc_descriptions = rarc_descriptions or {}
        # Remittances repeat a few dozen (group, CARC) pairs thousands of times.
        self._denial_codes: dict[tuple[GroupCode, str], bool] = {}
        self._descriptions: dict[tuple[GroupCode, str], str] = {}
        self._not_denials: dict[tuple[GroupCode, str], str] = {}

    @classmethod
    def load(cls, override_file: Path | None = None) -> ClassificationTable:
        rules = _parse_carc_csv(read_data_text("carc_categories.csv"), "carc_categories.csv")
        if override_file is not None:
            try:
                text = override_file.read_text(encoding="utf-8")
            except OSError as exc:
                raise ClassificationFileError(f"{override_file}: {exc}") from exc
            rules.update(_parse_carc_csv(text, str(override_file)))
        rows = list(csv.DictReader(io.StringIO(read_data_text("rarc_rules.csv"))))
        rarcs = {row["rarc"].strip().upper(): RarcEffect(row["effect"].strip()) for row in rows}
        descriptions = {row["rarc"].strip().upper(): row["description"].strip() for row in rows}
        return cls(rules, rarcs, descriptions)

    def rule_for(self, carc: str) -> CarcRule | None:
        return self.carc_rules.get(carc.strip().upper())

    def is_denial(self, adjustment: AdjustmentLike) -> bool:
        """Unknown CARCs count as denials: a human looks at them rather than nobody."""
        if adjustment.amount <= 0:
            return False
        key = (adjustment.group, adjustment.carc)
        known = self._denial_codes.get(key)
        if known is None:
            rule = self.rule_for(adjustment.carc)
            known = self._denial_codes[key] = rule is None or rule.is_denial_for(adjustment.group)
        return known

    def any_denial(self, adjustments: Iterable[AdjustmentLike]) -> bool:
        return any(self.is_denial(adjustment) for adjustment in adjustments)

    def describe(self, adjustment: AdjustmentLike) -> str:
        key = (adjustment.group, adjustment.carc)
        text = self._descriptions.get(key)
        if text is None:
            rule = self.rule_for(adjustment.carc)
            meaning = rule.description if rule else "unknown reason code"
            text = self._descriptions[key] = f"{adjustment.code} ({meaning})"
        return text

    def not_a_denial(self, adjustment: AdjustmentLike) -> str:
        """The reason an adjustment is no denial, one string per code: a remittance repeats
        CO-45 and PR-2 on most of its hundreds of thousands of claims."""
        key = (adjustment.group, adjustment.carc)
        text = self._not_denials.get(key)
        if text is None:
            text = self._not_denials[key] = f"{self.describe(adjustment)} is not a denial"
        return text


def _parse_carc_csv(text: str, origin: str) -> dict[str, CarcRule]:
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    missing = [c for c in CARC_COLUMNS if c not in (reader.fieldnames or [])]
    if missing:
        raise ClassificationFileError(f"{origin}: missing column(s) {', '.join(missing)}")
    rules: dict[str, CarcRule] = {}
    for raw in reader:
        where = f"{origin}, line {reader.line_num}"
        if any(raw.get(column) is None for column in CARC_COLUMNS) or None in raw:
            fields = len([v for v in raw.values() if v is not None])
            raise ClassificationFileError(
                f"{where} (CARC {(raw.get('carc') or '?').strip()}): expected "
                f"{len(reader.fieldnames or [])} fields, found {fields}"
            )
        row = {column: raw[column].strip() for column in CARC_COLUMNS}
        carc = row["carc"].upper()
        if not carc:
            raise ClassificationFileError(f"{where}: empty carc")
        try:
            category = Category(row["category"])
            denial_class = DenialClass(row["denial_class"])
        except ValueError as exc:
            raise ClassificationFileError(f"{where} (CARC {carc}): {exc}") from exc
        groups = frozenset(
            group.strip().upper() for group in row["not_denial_groups"].split("|") if group.strip()
        )
        unknown = groups - {"*", *(g.value for g in GroupCode)}
        if unknown:
            raise ClassificationFileError(
                f"{where} (CARC {carc}): unknown group code(s) {', '.join(sorted(unknown))}"
            )
        rules[carc] = CarcRule(carc, category, denial_class, groups, row["description"])
    return rules


_REJECTED = "rejected before adjudication: correct and resubmit (no appeal rights)"

# Patient-responsibility denials in these categories are usually billed to the patient.
_PATIENT_CATEGORIES = frozenset({Category.ELIGIBILITY, Category.NON_COVERED})


def classify(
    claim: Claim,
    kind: DenialKind,
    table: ClassificationTable,
    profiles: dict[Category, CategoryProfile],
) -> Classification:
    """Classify a claim reported as denied or rejected.

    The largest denial adjustment (claim level first on ties) decides the category and class.
    A claim with no denial adjustment is "not a denial" unless the payer denied it outright
    (CLP02 = 4) or it is a rejection.
    """
    if kind in (DenialKind.REVERSAL, DenialKind.RECOUPMENT):
        taken = max(-claim.paid_amount, Decimal(0))
        what = (
            "CLP02 = 22: the payer reversed a previous payment"
            if kind is DenialKind.REVERSAL
            else "PLB: the payer recouped money from this payment"
        )
        return Classification(
            is_denial=True,
            category=Category.PAYMENT_REVERSAL,
            denial_class=DenialClass.HARD,
            level=DenialLevel.CLAIM,
            suggested_path=profiles[Category.PAYMENT_REVERSAL].suggested_path,
            appeal_rights=True,
            denied_amount=taken,
            denial_adjustments=claim.all_adjustments(),
            reasons=[f"{what}: ${taken} taken back"],
        )
    if kind is DenialKind.REJECTION:
        return Classification(
            is_denial=True,
            category=Category.REJECTION,
            denial_class=DenialClass.SOFT,
            level=DenialLevel.CLAIM,
            suggested_path=WorkPath.CORRECTED_CLAIM,
            appeal_rights=False,
            denied_amount=claim.billed_amount,
            reasons=[_REJECTED],
            no_appeal_reason=_REJECTED,
        )

    claim_level: list[Adjustment] = []
    line_level: list[Adjustment] = []
    reasons: list[str] = []
    for adjustments, denials_found in (
        (claim.adjustments, claim_level),
        *((line.adjustments, line_level) for line in claim.service_lines),
    ):
        for adjustment in adjustments:
            if table.is_denial(adjustment):
                denials_found.append(adjustment)
            elif adjustment.amount > 0:
                reasons.append(table.not_a_denial(adjustment))
    denials = claim_level + line_level
    level = (
        DenialLevel.CLAIM
        if claim_level or claim.claim_status == "4" or claim.paid_amount <= 0
        else DenialLevel.LINE
    )
    no_appeal = [
        r for r in claim.all_rarcs() if table.rarc_effects.get(r) is RarcEffect.NO_APPEAL_RIGHTS
    ]
    no_appeal_reason = (
        f"RARC {', '.join(no_appeal)}: no appeal rights, correct and resubmit" if no_appeal else ""
    )

    if not denials:
        if claim.claim_status != "4":  # the common case in a remittance: built unvalidated
            return prevalidated(
                Classification,
                is_denial=False,
                category=Category.OTHER,
                denial_class=DenialClass.SOFT,
                level=level,
                suggested_path=profiles[Category.OTHER].suggested_path,
                appeal_rights=not no_appeal,
                denied_amount=Decimal(0),
                primary_adjustment=None,
                denial_adjustments=[],
                reasons=reasons or ["no denial adjustment"],
                no_appeal_reason=no_appeal_reason,
            )
        reasons.append("CLP02 = 4 (denied) without a denial reason code")
        category, denial_class, primary = Category.OTHER, DenialClass.SOFT, None
        denied_amount = max(claim.billed_amount - claim.paid_amount, Decimal(0))
    else:
        primary = max(denials, key=lambda a: a.amount)  # max keeps the first (claim-level) on ties
        rule = table.rule_for(primary.carc)
        if rule is None:
            category, denial_class = Category.OTHER, DenialClass.SOFT
            reasons.append(f"{primary.code} is not in the CARC table: classified as other")
        else:
            category, denial_class = rule.category, rule.denial_class
            reasons.append(f"{table.describe(primary)} -> {category.value}, {denial_class.value}")
        denied_amount = sum((a.amount for a in denials), Decimal(0))
        if claim.claim_status == "4":  # denied outright: all of it, but what the patient owes
            patient_share = sum(
                (
                    a.amount
                    for a in claim.all_adjustments()
                    if a.group is GroupCode.PR and not table.is_denial(a)
                ),
                Decimal(0),
            )
            denied_amount = max(
                denied_amount, claim.billed_amount - claim.paid_amount - patient_share
            )

    unpaid = claim.billed_amount - max(claim.paid_amount, Decimal(0))
    if denied_amount > unpaid > 0:
        # A case never counts more denied than was billed and left unpaid: adjustments above
        # that are bad data (or a file that lumps claims together), not money owed.
        reasons.append(
            f"denial adjustments total ${denied_amount}, more than the ${unpaid} billed and "
            "not paid: that is what is counted"
        )
        denied_amount = unpaid

    suggested_path = profiles[category].suggested_path
    if primary is not None and primary.group is GroupCode.PR and category in _PATIENT_CATEGORIES:
        suggested_path = WorkPath.TRANSFER_TO_PATIENT
        reasons.append(f"{primary.code} is patient responsibility: transfer to patient")
    if no_appeal:
        denial_class, suggested_path = DenialClass.SOFT, WorkPath.CORRECTED_CLAIM
        reasons.append(no_appeal_reason)
    return Classification(
        is_denial=True,
        category=category,
        denial_class=denial_class,
        level=level,
        suggested_path=suggested_path,
        appeal_rights=not no_appeal,
        denied_amount=denied_amount,
        primary_adjustment=primary,
        denial_adjustments=denials,
        reasons=reasons,
        no_appeal_reason=no_appeal_reason,
    )


def apply_payer_appeal_rights(classification: Classification, rule: PayerRule) -> Classification:
    """The payer rule's say on appeal rights, which the remittance alone does not give: a
    denial whose deciding CARC the rule lists under `no_appeal_rights` (Medicare CO-29,
    42 CFR 424.44) cannot be appealed, so it goes to write-off review.

    The deciding (primary) adjustment counts, as it does for the category: a smaller listed
    denial beside it does not take away the right to appeal the larger one. A classification
    already without appeal rights keeps its own reason and path (a RARC MA130 claim is
    corrected and resubmitted).
    """
    primary = classification.primary_adjustment
    if not classification.appeal_rights or primary is None:
        return classification
    withheld = rule.no_appeal_for(primary.carc)
    if withheld is None:
        return classification
    reason = (
        f"{primary.code}: no appeal rights under payer rule {rule.id} ({withheld.citation}); "
        "suggested for write-off review"
    )
    return classification.model_copy(
        update={
            "appeal_rights": False,
            "suggested_path": WorkPath.WRITE_OFF_REVIEW,
            "reasons": [*classification.reasons, reason],
            "no_appeal_reason": reason,
        }
    )
