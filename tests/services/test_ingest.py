"""Ingesting X12 files: cases opened once, failed files kept and reported, payer answers
matched to open cases instead of opening new ones."""

from __future__ import annotations

import asyncio
import hashlib
import io
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlmodel import Session, select
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter

from db import ingest_chunks
from db.models import CaseRow, IngestFileRow, RemittanceClaimRow
from domain.case import CaseOutcome, CaseStatus
from domain.identity import case_id_for
from domain.models import DenialKind
from domain.rulebook import Rulebook
from edi.parser import parse_bytes
from services.ingest import IngestService
from services.ingest_report import FileReport
from tests.harness import ALICE, BOB, CaseHarness
from tests.ingest_helpers import wait_row
from tests.workflows.case_flow import submit_corrected_claim, to_path
from workflows.case_workflow import DenialCaseWorkflow

SAMPLES = Path(__file__).resolve().parents[1] / "data" / "x12"


def remittance(claims: str, *, paid_on: date, payer_id: str = "87726") -> bytes:
    """A minimal 835 from UnitedHealthcare (payer id 87726) holding `claims` (CLP loops)."""
    segments = [
        "ISA*00*          *00*          *ZZ*87726          *ZZ*PROVIDER       *"
        f"{paid_on:%y%m%d}*1200*^*00501*000000901*0*P*:",
        f"GS*HP*87726*PROVIDER*{paid_on:%Y%m%d}*1200*901*X*005010X221A1",
        "ST*835*0001",
        f"BPR*I*100*C*ACH************{paid_on:%Y%m%d}",
        "TRN*1*12345*1870000000",
        "N1*PR*UNITEDHEALTHCARE",
        f"REF*2U*{payer_id}",
        "N1*PE*CLINIC*XX*1999999984",
        "LX*1",
        *claims.strip().split("\n"),
    ]
    body_count = len(segments) - 2 + 1  # ST .. SE
    segments += [f"SE*{body_count}*0001", "GE*1*901", "IEA*1*000000901"]
    return ("~\n".join(segments) + "~\n").encode()


@pytest.fixture
def service(harness: CaseHarness, rulebook: Rulebook) -> Iterator[IngestService]:
    with Session(harness.engine, expire_on_commit=False) as session:
        yield harness.ingest_service(session, rulebook)


async def wait_for_cases(harness: CaseHarness, case_ids: list[str], status: CaseStatus) -> None:
    for case_id in case_ids:
        await harness.wait_status(harness.client.get_workflow_handle(case_id), status)


async def test_sample_835_opens_its_denial_once(
    harness: CaseHarness, service: IngestService, rulebook: Rulebook
) -> None:
    raw = (SAMPLES / "pyx12__835_mult_loops.835").read_bytes()
    report = await service.ingest("mult_loops.835", raw, ALICE)
    assert (report.status, report.kind, report.claims, report.denials) == ("ingested", "835", 1, 1)
    assert (report.cases_started, report.duplicates_skipped) == (1, 0)
    (case_id,) = case_ids_of(raw, rulebook)
    # Remitted in 2004: every deadline has long passed, so the case goes straight to review.
    state = await harness.wait_status(
        harness.client.get_workflow_handle(case_id), CaseStatus.WRITE_OFF_REVIEW
    )
    assert state.lost_to_deadline and state.category is not None
    assert state.category.value == "missing_information"

    again = await service.ingest("renamed.835", raw, BOB)
    assert (again.status, again.cases_started, again.duplicates_skipped) == ("duplicate", 0, 1)
    with Session(harness.engine) as session:
        (stored,) = session.exec(select(IngestFileRow)).all()
        assert (stored.status, stored.received_by) == ("ingested", "alice")
        assert ingest_chunks.whole(harness.engine, stored.sha256) == raw
        claims = session.exec(select(RemittanceClaimRow)).all()
        assert [(c.claim_id, c.claim_status, c.is_denial) for c in claims] == [
            ("2005555A", "4", True)
        ]
        assert len(session.exec(select(CaseRow)).all()) == 1


async def test_failed_file_is_kept_reported_and_starts_nothing(
    harness: CaseHarness, service: IngestService
) -> None:
    raw = b"\x89PNG\r\n\x1a\n not x12 at all"
    report = await service.ingest("scan.png", raw, ALICE)
    assert report.status == "failed"
    assert report.cases_started == 0
    assert "not an X12 file" in report.errors[0]["message"]
    again = await service.ingest("scan.png", raw, ALICE)
    assert again.errors == report.errors and again.status == "failed"
    with Session(harness.engine) as session:
        stored = session.get(IngestFileRow, report.sha256)
        assert stored is not None and stored.status == "failed"
        assert ingest_chunks.whole(harness.engine, stored.sha256) == raw
        assert session.exec(select(CaseRow)).all() == []


async def test_a_file_an_earlier_version_failed_is_read_again(
    harness: CaseHarness, service: IngestService
) -> None:
    """A failed file is parsed again when it comes back (a newer parser may read it): its
    stored row and report are replaced by the new outcome."""
    today = await harness.today()
    raw = remittance(
        f"CLP*PCN8*4*800*0**CI*ICN8\nCAS*CO*50*800\nDTM*232*{today:%Y%m%d}", paid_on=today
    )
    earlier = FileReport(file="old.835", sha256=hashlib.sha256(raw).hexdigest(), status="failed")
    earlier.errors.append({"message": "not read by an earlier version", "location": {}})
    with Session(harness.engine) as session:
        session.add(
            IngestFileRow(
                sha256=earlier.sha256,
                filename="old.835",
                size=len(raw),
                status="failed",
                received_by="bob",
                received_at=datetime.now(UTC),
                report=earlier.model_dump(mode="json"),
            )
        )
        session.flush()
        ingest_chunks.store(session, earlier.sha256, io.BytesIO(raw))
        session.commit()
    report = await service.ingest("old.835", raw, ALICE)
    assert (report.status, report.errors, report.cases_started) == ("ingested", [], 1)
    with Session(harness.engine) as session:
        stored = session.get(IngestFileRow, earlier.sha256)
        assert stored is not None and (stored.status, stored.report["cases_started"]) == (
            "ingested",
            1,
        )


async def test_truncated_file_is_never_half_ingested(
    harness: CaseHarness, service: IngestService
) -> None:
    today = await harness.today()
    whole = remittance(
        "CLP*PCN1*4*500*0**CI*ICN1\nCAS*CO*50*500\nDTM*232*" + f"{today:%Y%m%d}",
        paid_on=today,
    )
    cut = whole[: whole.index(b"DTM*232")]
    report = await service.ingest("cut.835", cut, ALICE)
    assert report.status == "failed" and report.cases_started == 0
    assert any("truncated" in error["message"] for error in report.errors)
    with Session(harness.engine) as session:
        assert session.exec(select(RemittanceClaimRow)).all() == []


async def test_later_835_paying_the_claim_closes_the_case_as_recovered(
    harness: CaseHarness, service: IngestService, rulebook: Rulebook
) -> None:
    """A denial worked by corrected claim: the next 835 pays the corrected claim (new ICN,
    REF*F8 pointing at the original) and the case closes as recovered by Signal."""
    today = await harness.today()
    denied = remittance(
        f"CLP*PCN77*4*640*0**CI*ICN77\nCAS*CO*16*640\nDTM*232*{today - timedelta(days=20):%Y%m%d}",
        paid_on=today - timedelta(days=2),
    )
    first = await service.ingest("denied.835", denied, ALICE)
    assert first.cases_started == 1
    (case_id,) = case_ids_of(denied, rulebook)
    handle = harness.client.get_workflow_handle_for(DenialCaseWorkflow.run, case_id)
    await harness.wait_status(handle, CaseStatus.TRIAGED)
    await to_path(harness, handle)
    await submit_corrected_claim(harness, handle, today)  # asserts it awaits the payer

    paid = remittance(
        f"CLP*PCN77*1*640*600**CI*ICN78*11*7\nREF*F8*ICN77\nCAS*CO*45*40\n"
        f"DTM*232*{today - timedelta(days=20):%Y%m%d}",
        paid_on=today,
    )
    report = await service.ingest("paid.835", paid, ALICE)
    assert (report.payer_responses_matched, report.cases_started) == (1, 0)
    result = await handle.result()
    assert result.outcome is CaseOutcome.RECOVERED
    assert result.recovered_amount == 600
    final = await harness.state(handle)
    assert final.payer_responses[-1].source == "835"
    assert final.payer_responses[-1].payer_claim_control_number == "ICN78"


async def test_a_later_835_counts_only_what_is_newly_paid(
    harness: CaseHarness, service: IngestService, rulebook: Rulebook
) -> None:
    """A line denied inside a paid claim ($600 paid, $400 denied): the 835 paying the corrected
    claim reports $1000 for the claim, of which $400 is recovered by the case."""
    today = await harness.today()
    served = f"{today - timedelta(days=20):%Y%m%d}"
    denied = remittance(
        f"CLP*PCN88*1*1000*600**CI*ICN88\nDTM*232*{served}\n"
        f"SVC*HC:99213*600*600**1\nDTM*472*{served}\n"
        f"SVC*HC:99214*400*0**1\nDTM*472*{served}\nCAS*CO*16*400",
        paid_on=today - timedelta(days=2),
    )
    assert (await service.ingest("denied.835", denied, ALICE)).cases_started == 1
    (case_id,) = case_ids_of(denied, rulebook)
    handle = harness.client.get_workflow_handle_for(DenialCaseWorkflow.run, case_id)
    await harness.wait_status(handle, CaseStatus.TRIAGED)
    await to_path(harness, handle)
    await submit_corrected_claim(harness, handle, today)
    await wait_row(harness, case_id, lambda row: row.status == "awaiting_payer")

    paid = remittance(
        f"CLP*PCN88*1*1000*1000**CI*ICN89*11*7\nREF*F8*ICN88\nDTM*232*{served}\n"
        f"SVC*HC:99213*600*600**1\nDTM*472*{served}\n"
        f"SVC*HC:99214*400*400**1\nDTM*472*{served}",
        paid_on=today,
    )
    assert (await service.ingest("paid.835", paid, ALICE)).payer_responses_matched == 1
    result = await handle.result()
    assert (result.outcome, result.recovered_amount) == (CaseOutcome.RECOVERED, 400)
    assert (await harness.state(handle)).payer_responses[-1].paid_amount == 400


async def test_same_denial_repeated_while_open_is_a_duplicate(
    harness: CaseHarness, service: IngestService, rulebook: Rulebook
) -> None:
    today = await harness.today()
    claim = f"CLP*PCN5*4*300*0**CI*ICN5\nCAS*CO*197*300\nDTM*232*{today:%Y%m%d}"
    first = remittance(claim, paid_on=today)
    await service.ingest("a.835", first, ALICE)
    await wait_for_cases(harness, case_ids_of(first, rulebook), CaseStatus.TRIAGED)
    resent = remittance(claim + "\nREF*EA*RESENT", paid_on=today)  # other bytes, same denial
    report = await service.ingest("b.835", resent, ALICE)
    assert (report.status, report.cases_started, report.duplicates_skipped) == ("ingested", 0, 1)


async def test_temporal_unreachable_keeps_the_file_for_a_retry(
    harness: CaseHarness, rulebook: Rulebook
) -> None:
    today = await harness.today()
    raw = remittance(
        f"CLP*PCN9*4*900*0**CI*ICN9\nCAS*CO*50*900\nDTM*232*{today:%Y%m%d}", paid_on=today
    )
    nowhere = await Client.connect("127.0.0.1:1", lazy=True, data_converter=pydantic_data_converter)
    with Session(harness.engine, expire_on_commit=False) as session:
        down = harness.ingest_service(session, rulebook, nowhere)
        report = await down.ingest("later.835", raw, ALICE)
        assert report.status == "incomplete"
        assert "unreachable" in report.errors[-1]["message"]
        assert ingest_chunks.whole(harness.engine, report.sha256) == raw

        up = harness.ingest_service(session, rulebook)
        retried = await up.ingest("later.835", raw, ALICE)
        assert (retried.status, retried.cases_started) == ("ingested", 1)


async def test_277ca_rejection_opens_a_rejection_case(
    harness: CaseHarness, service: IngestService, rulebook: Rulebook
) -> None:
    raw = (SAMPLES / "imsweb__x12_277CA_rejected.277").read_bytes()
    report = await service.ingest("rejected.277", raw, ALICE)
    assert (report.kind, report.rejections, report.cases_started) == ("277CA", 1, 1)
    (case,) = parse_bytes("x", raw, rulebook).cases
    assert case.record.kind is DenialKind.REJECTION
    handle = harness.client.get_workflow_handle_for(
        DenialCaseWorkflow.run, case_id_for(case.record)
    )
    # Billed in 2011: timely filing passed long ago, so the rejection is lost to the deadline.
    state = await harness.wait_status(handle, CaseStatus.WRITE_OFF_REVIEW)
    assert state.lost_to_deadline and state.category is not None
    assert state.category.value == "rejection"


def case_ids_of(raw: bytes, rulebook: Rulebook) -> list[str]:
    return [case_id_for(case.record) for case in parse_bytes("x", raw, rulebook).cases]


async def test_claims_sharing_a_masked_payer_claim_number_are_never_merged(
    harness: CaseHarness, service: IngestService, rulebook: Rulebook
) -> None:
    """A de-identified 835 masks every CLP07 to one value: each denied claim (its own CLP01,
    charge and service date) opens its own case, the collision is reported, a case's denied
    amount stays within its billed amount, and a later payment answers only its own claim."""
    today = await harness.today()
    served = today - timedelta(days=20)
    claims = [("PCNM1", 999.99, 0), ("PCNM2", 100, 1), ("PCNM3", 250.5, 2)]
    raw = remittance(
        "\n".join(
            f"CLP*{pcn}*4*{billed}*0**CI*MASKED\nCAS*CO*16*{billed}\n"
            f"DTM*232*{served - timedelta(days=offset):%Y%m%d}"
            for pcn, billed, offset in claims
        ),
        paid_on=today - timedelta(days=2),
    )
    report = await service.ingest("masked.835", raw, ALICE)
    assert (report.cases_started, report.duplicates_skipped) == (3, 0)
    collisions = [w for w in report.warnings if "shares payer claim number MASKED" in w["message"]]
    assert len(collisions) == 2 and collisions[0]["location"]["segment_id"] == "CLP"
    ids = case_ids_of(raw, rulebook)  # as parsed, before the collision is known: one id
    assert len(set(ids)) == 1
    await harness.wait_status(harness.client.get_workflow_handle(ids[0]), CaseStatus.TRIAGED)
    by_claim: dict[str, CaseRow] = {}
    for _ in range(300):  # the three cases are projected in any order: wait for all of them
        with Session(harness.engine) as session:
            rows = session.exec(
                select(CaseRow).where(CaseRow.payer_claim_control_number == "MASKED")
            )
            by_claim = {row.claim_id: row for row in rows}
        if len(by_claim) == 3:
            break
        await asyncio.sleep(0.1)
    assert sorted(by_claim) == ["PCNM1", "PCNM2", "PCNM3"]
    for row in by_claim.values():
        assert row.denied_amount <= row.billed_amount

    again = await service.ingest("again.835", raw + b"\n", ALICE)  # re-sent: nothing new
    assert (again.cases_started, again.duplicates_skipped) == (0, 3)

    # Claim 2 is paid on a later 835 under the same masked number: only its case closes.
    for row in by_claim.values():
        await wait_row(harness, row.case_id, lambda r: r.status == CaseStatus.TRIAGED.value)
    paid = remittance(
        f"CLP*PCNM2*1*100*100**CI*MASKED\nDTM*232*{served - timedelta(days=1):%Y%m%d}",
        paid_on=today,
    )
    answered = await service.ingest("paid.835", paid, ALICE)
    assert (answered.payer_responses_matched, answered.cases_started) == (1, 0)
    await wait_row(harness, by_claim["PCNM2"].case_id, lambda r: r.status == "closed")
    for pcn in ("PCNM1", "PCNM3"):
        assert harness.case_row(by_claim[pcn].case_id).status != "closed"  # type: ignore[union-attr]


async def test_a_file_whose_ingest_was_cut_short_is_resumed(
    harness: CaseHarness, service: IngestService, rulebook: Rulebook
) -> None:
    """A file stored but never acted on (the process stopped mid-ingest: status 'received')
    is ingested again by resume_unfinished, its cases started once; a recent one is left to
    the ingest that may still be running."""
    today = await harness.today()
    raw = remittance(
        f"CLP*PCNRS*4*300*0**CI*ICNRS\nCAS*CO*50*300\nDTM*232*{today:%Y%m%d}", paid_on=today
    )
    with Session(harness.engine) as session:
        session.add(
            IngestFileRow(
                sha256=hashlib.sha256(raw).hexdigest(),
                filename="cut-short.835",
                size=len(raw),
                status="received",
                received_by="alice",
                received_at=datetime.now(UTC) - timedelta(minutes=30),
            )
        )
        session.flush()
        ingest_chunks.store(session, hashlib.sha256(raw).hexdigest(), io.BytesIO(raw))
        session.commit()
    young = await service.resume_unfinished(ALICE, older_than=timedelta(hours=1))
    assert young.files == 0
    resumed = await service.resume_unfinished(ALICE, older_than=timedelta(minutes=10))
    assert (resumed.files, resumed.cases_started) == (1, 1)
    assert resumed.reports[0].status == "ingested"
    again = await service.resume_unfinished(ALICE, older_than=timedelta(minutes=10))
    assert again.files == 0
