"""What an ingest reports, per file and summed over the files of one ingest."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

# Problems a file's report lists of each severity; the rest are counted (a large file may have
# a warning on every claim, and its report is stored and shown whole).
PROBLEM_LIMIT = 500
# Cases a file's report names; the rest are counted. A 50 MiB 835 opens tens of thousands, and
# the report is stored, served and rendered whole: the audit entry (ingest.file) names them all.
STARTED_LIMIT = 500


class IngestCounts(BaseModel):
    """What files turned into: counted per file and summed over an ingest."""

    claims: int = 0
    denials: int = 0
    rejections: int = 0
    reversals: int = 0
    cases_started: int = 0
    duplicates_skipped: int = 0
    payer_responses_matched: int = 0
    late_payments: int = 0  # payments on cases closed written off: their write-off shrank


class StartedCase(BaseModel):
    """A case a file started, named as the pages name it (its claim number)."""

    case_id: str
    claim_id: str


class FileReport(IngestCounts):
    file: str
    sha256: str
    kind: str | None = None
    status: str = Field(
        description="ingested | duplicate | failed | incomplete | received (another ingest is "
        "working the same file now: nothing done)"
    )
    errors: list[dict[str, Any]] = Field(default_factory=list)
    warnings: list[dict[str, Any]] = Field(default_factory=list)
    errors_omitted: int = Field(default=0, description="Errors found beyond those listed")
    warnings_omitted: int = Field(default=0, description="Warnings found beyond those listed")
    started_cases: list[StartedCase] = Field(
        default_factory=list,
        description=f"The cases this file started, the first {STARTED_LIMIT} (none for a "
        "duplicate); the audit trail's ingest.file entry names every one",
    )
    started_cases_omitted: int = Field(
        default=0, description="Cases started beyond those listed in started_cases"
    )
    validation: str | None = Field(
        default=None,
        description="The implementation-guide check (pyx12) when this answer was given: pending "
        "(it runs beside the ingest; its findings at GET /api/v1/ingest/{sha256}, "
        "`validation`), started before (when the file was first received), or not run "
        "(no ISA envelope)",
    )

    def started(self, case: StartedCase) -> None:
        """A case the file started: counted, and listed while fewer than STARTED_LIMIT are."""
        self.cases_started += 1
        if len(self.started_cases) < STARTED_LIMIT:
            self.started_cases.append(case)
        else:
            self.started_cases_omitted += 1

    def warn(self, problem: dict[str, Any]) -> None:
        """A warning listed, or counted once PROBLEM_LIMIT are."""
        if len(self.warnings) < PROBLEM_LIMIT:
            self.warnings.append(problem)
        else:
            self.warnings_omitted += 1

    def omissions_said(self) -> None:
        """Say, as the last of each list, how many more were found than listed."""
        for omitted, listed, name in (
            (self.errors_omitted, self.errors, "errors"),
            (self.warnings_omitted, self.warnings, "warnings"),
        ):
            if omitted:
                listed.append(
                    {
                        "message": f"and {omitted:,} more {name} not listed (the first "
                        f"{PROBLEM_LIMIT:,} are)",
                        "location": {"text": "file"},
                    }
                )


class IngestSummary(IngestCounts):
    files: int = 0
    errors: int = 0
    reports: list[FileReport] = Field(default_factory=list)

    @classmethod
    def of(cls, reports: list[FileReport]) -> IngestSummary:
        # What the files hold (claims, denials, ...) counts for the files ingested only: a
        # failed file started nothing, a duplicate was counted when first ingested, an
        # incomplete one counts when ingested again to finish. What was done (cases started,
        # duplicates skipped, answers matched) counts wherever it happened.
        contents = {"claims", "denials", "rejections", "reversals"}
        total = cls(files=len(reports), reports=reports)
        for report in reports:
            for name in IngestCounts.model_fields:
                if report.status == "ingested" or name not in contents:
                    setattr(total, name, getattr(total, name) + getattr(report, name))
            total.errors += len(report.errors)
        return total
