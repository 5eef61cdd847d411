"""The submission activity may run twice at once (an attempt timed out while its thread went
on): both return the one submission recorded, sent once."""

from __future__ import annotations

import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from activities.submission import SubmissionActivities
from db.engine import session_scope
from db.models import SubmissionRecordRow
from db.projection import write_case_projection
from domain.appeals.corrections import ClaimCorrections
from domain.case import CasePolicy, CaseState, SubmissionKind
from domain.models import ServiceLine
from domain.rulebook import Rulebook
from edi.claim837 import Submitter
from services.clearinghouse import OutboxAdapter, SentReceipt, SubmissionPackage
from services.documents import DocumentStore
from testkit.records import adj, make_record
from workflows.messages import SubmitRequest

NOW = datetime(2026, 12, 3, 15, tzinfo=UTC)


class SlowOutbox:
    """The outbox, answering after a while (as a slow clearinghouse does)."""

    name = "slow-outbox"

    def __init__(self, outbox: Path) -> None:
        self.outbox = OutboxAdapter(outbox)

    def send(self, package: SubmissionPackage) -> SentReceipt:
        time.sleep(0.3)
        return self.outbox.send(package)


def test_two_attempts_at_once_record_and_send_one_submission(
    engine: Engine, rulebook: Rulebook, tmp_path: Path
) -> None:
    """On PostgreSQL both attempts get as far as recording it (one is refused by the key); on
    SQLite the second waits for the first's write, then finds it."""
    activities = SubmissionActivities(
        engine, rulebook, SlowOutbox(tmp_path / "outbox"), DocumentStore(tmp_path), Submitter()
    )
    line = ServiceLine(line_number=1, procedure_code="99213", billed_amount=Decimal(500))
    record = make_record(
        date(2026, 11, 20), adjustments=[adj("CO-16", 500)], billed=500, lines=[line]
    )
    case_id = f"case-{uuid.uuid4().hex[:12]}"
    state = CaseState(
        case_id=case_id, record=record, policy=CasePolicy(), created_at=NOW, updated_at=NOW
    )
    with session_scope(engine) as session:
        write_case_projection(session, state, [])  # the case documents belong to
    request = SubmitRequest(
        submission_id=f"{case_id}-t3",
        state=state,
        kind=SubmissionKind.CORRECTED_CLAIM,
        claim_corrections=ClaimCorrections(diagnosis_codes=["R69"]),
        submitted_by="alice",
        requested_at=NOW,
    )
    with ThreadPoolExecutor(2) as pool:
        first, second = pool.map(activities.submit, [request, request])
    assert (first.submission_id, first.sha256) == (second.submission_id, second.sha256)
    assert first.location == second.location
    assert len(list((tmp_path / "outbox").iterdir())) == 1
    with Session(engine) as session:
        rows = session.exec(
            select(SubmissionRecordRow).where(SubmissionRecordRow.case_id == case_id)
        ).all()
    assert [row.submission_id for row in rows] == [f"{case_id}-t3"]
