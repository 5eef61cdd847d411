"""Changes to a case outside its tasks: priority, notes, cancelling, deadline extensions,
attestations, payer rules and identifying a rejected claim."""

from __future__ import annotations

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.triage import TriageActivities
    from domain.appeals.access import attestation_refusal
    from domain.appeals.attestation import Attestation, AttestationMethod
    from domain.case import CaseOutcome, CaseStatus, Role
    from domain.deadlines import DeadlineExtension, find_deadline
    from domain.identity import (
        LATER_FILE,
        Identification,
        identification_problem,
        identified_record,
    )
    from domain.permissions import Permission, allows
    from workflows.case_activities import ActivityFailed, run_local, run_unbounded
    from workflows.messages import (
        AddNote,
        CancelCase,
        CaseChange,
        ChangePriority,
        IdentifyClaim,
        RecordAttestation,
        RecordExtension,
        RefreshRules,
        RulesRequest,
    )
    from workflows.refusals import Refusal, refuse
from workflows.case_core import CaseCore


class CaseChanges(CaseCore):
    """The Updates that change the case itself rather than work a task."""

    @workflow.update
    async def change_priority(self, request: ChangePriority) -> CaseChange:
        since = self._state.event_seq
        self._validate_change_priority(request)  # state may have moved since validation
        state = self._state
        state.priority_adjustment = request.adjustment
        state.priority_adjustment_reason = request.reason
        self._event(
            "priority_changed",
            f"Priority adjusted x{request.adjustment:g}: {request.reason}",
            actor=request.actor.user_id,
        )
        self._refresh_priority()
        return await self._after_change(since)

    @change_priority.validator
    def _validate_change_priority(self, request: ChangePriority) -> None:
        self._require_supervisor(request.actor, "change priority")

    @workflow.update
    async def add_note(self, request: AddNote) -> CaseChange:
        since = self._state.event_seq
        self._validate_add_note(request)  # state may have moved since validation
        now = workflow.now()
        for task in self._state.open_tasks:
            task.last_touched_at = now
            task.stalled = False
        self._event("note", request.text, actor=request.actor.user_id)
        return await self._after_change(since)

    @add_note.validator
    def _validate_add_note(self, request: AddNote) -> None:
        if not allows(request.actor.role, Permission.WORK_TASKS):
            refuse(Refusal.FORBIDDEN, f"role '{request.actor.role.value}' cannot add case notes")
        if not request.text.strip():
            refuse(Refusal.INVALID, "a note needs text")
        if self._state.status is CaseStatus.CLOSED:
            refuse(Refusal.CONFLICT, "case is closed")

    @workflow.update
    async def cancel_case(self, request: CancelCase) -> CaseChange:
        since = self._state.event_seq
        self._validate_cancel_case(request)  # state may have moved since validation
        self._close(
            CaseOutcome.CANCELLED, f"cancelled by {request.actor.user_id}: {request.reason}"
        )
        return await self._after_change(since)

    @cancel_case.validator
    def _validate_cancel_case(self, request: CancelCase) -> None:
        self._require_supervisor(request.actor, "cancel a case")
        if self._state.status is CaseStatus.RECEIVED:
            refuse(Refusal.CONFLICT, "case is still being triaged; try again in a moment")

    @workflow.update
    async def record_extension(self, request: RecordExtension) -> CaseChange:
        since = self._state.event_seq
        self._validate_record_extension(request)  # state may have moved since validation
        state = self._state
        current = find_deadline(state.deadlines, request.kind, request.level)
        assert current is not None
        state.extensions.append(
            DeadlineExtension(
                kind=request.kind,
                level=request.level,
                new_due=request.new_due,
                reason=request.reason,
                recorded_by=request.actor.user_id,
            )
        )
        self._recompute_deadlines()
        self._event(
            "deadline_extended",
            f"{current.label} deadline extended from {current.due.isoformat()} to "
            f"{request.new_due.isoformat()}: {request.reason}",
            actor=request.actor.user_id,
        )
        self._refresh_priority()
        return await self._after_change(since)

    @record_extension.validator
    def _validate_record_extension(self, request: RecordExtension) -> None:
        if not allows(request.actor.role, Permission.WORK_TASKS):
            refuse(Refusal.FORBIDDEN, f"role '{request.actor.role.value}' cannot record extensions")
        if self._state.status in (CaseStatus.RECEIVED, CaseStatus.CLOSED):
            refuse(Refusal.CONFLICT, f"case is {self._state.status.value}")
        current = find_deadline(self._state.deadlines, request.kind, request.level)
        if current is None:
            level = f" level {request.level}" if request.level else ""
            refuse(Refusal.NOT_FOUND, f"the case has no {request.kind.value}{level} deadline")
        if request.new_due <= current.due:
            refuse(
                Refusal.INVALID,
                f"new_due {request.new_due.isoformat()} is not after the "
                f"current deadline {current.due.isoformat()}",
            )

    @workflow.update
    async def record_attestation(self, request: RecordAttestation) -> CaseChange:
        since = self._state.event_seq
        self._validate_record_attestation(request)
        state = self._state
        state.attestation = Attestation(
            method=AttestationMethod.UPLOADED
            if request.document_sha256
            else AttestationMethod.PHYSICIAN_SIGNED,
            attested_by=request.actor.user_id,
            physician_name=request.physician_name,
            statement=request.statement,
            document_sha256=request.document_sha256,
            recorded_at=workflow.now(),
        )
        how = "uploaded signed attestation" if request.document_sha256 else "attested"
        self._event(
            "attested",
            f"Medical necessity {how}: {request.physician_name}",
            actor=request.actor.user_id,
            data={"document_sha256": request.document_sha256},
        )
        self._touch_version()
        return await self._after_change(since)

    @record_attestation.validator
    def _validate_record_attestation(self, request: RecordAttestation) -> None:
        state = self._state
        actor = request.actor
        if request.document_sha256:
            if not allows(actor.role, Permission.UPLOAD_ATTESTATIONS):
                refuse(Refusal.FORBIDDEN, f"role '{actor.role.value}' cannot record attestations")
        elif not allows(actor.role, Permission.ATTEST):
            refuse(
                Refusal.FORBIDDEN,
                "only a physician attests in the case manager; upload the signed attestation",
            )
        refusal = attestation_refusal(state)
        if refusal is not None:
            is_conflict, reason = refusal
            refuse(Refusal.CONFLICT if is_conflict else Refusal.INVALID, reason)

    @workflow.update
    async def refresh_rules(self, request: RefreshRules) -> CaseChange:
        since = self._state.event_seq
        self._validate_refresh_rules(request)  # state may have moved since validation
        state = self._state
        rules_request = RulesRequest(record=state.record, as_of=self._today())
        if not self._bounded:
            rule = await run_unbounded(TriageActivities.current_rule, rules_request)
        else:
            try:
                rule = await run_local(TriageActivities.current_rule, rules_request)
            except ActivityFailed as error:
                refuse(
                    Refusal.UNAVAILABLE,
                    f"the payer rules could not be read ({type(error).__name__}); "
                    "nothing changed, try again shortly",
                )
        if state.status is not CaseStatus.CLOSED:
            previous = state.rule.id if state.rule else "none"
            state.rule = rule
            self._recompute_deadlines()
            self._event(
                "deadlines_recomputed",
                f"Deadlines recomputed from payer rule {rule.id} (was {previous})",
                actor=request.actor.user_id,
            )
            self._refresh_priority()
        return await self._after_change(since)

    @refresh_rules.validator
    def _validate_refresh_rules(self, request: RefreshRules) -> None:
        if not allows(request.actor.role, Permission.RECOUNT_DEADLINES):
            refuse(Refusal.FORBIDDEN, "only a supervisor or an admin can recompute deadlines")
        if self._state.status in (CaseStatus.RECEIVED, CaseStatus.CLOSED):
            refuse(Refusal.CONFLICT, f"case is {self._state.status.value}")

    @workflow.update
    async def identify_claim(self, request: IdentifyClaim) -> CaseChange:
        since = self._state.event_seq
        self._validate_identify_claim(request)  # state may have moved since validation
        state = self._state
        before = state.record
        record = identified_record(before, _identification(request))
        try:
            rule = await run_local(
                TriageActivities.current_rule, RulesRequest(record=record, as_of=self._today())
            )
        except ActivityFailed as error:
            refuse(
                Refusal.UNAVAILABLE,
                f"the payer rules could not be read ({type(error).__name__}); nothing changed, "
                "try again shortly",
            )
        if state.record != before:
            refuse(Refusal.CONFLICT, "the claim was identified meanwhile: reload the case")
        if state.status is not CaseStatus.CLOSED:
            state.record, state.rule = record, rule
            if state.classification is not None and request.billed_amount:
                state.classification = state.classification.model_copy(
                    update={"denied_amount": request.billed_amount}
                )
            self._recompute_deadlines()
            payer = record.claim.payer
            self._event(
                "claim_identified",
                f"Claim sent to {payer.name} ({payer.payer_id}), served "
                f"{request.service_date_from.isoformat()}: deadlines counted from payer rule "
                f"{rule.id}",
                actor=request.actor.user_id,
            )
            self._refresh_priority()
        return await self._after_change(since)

    @identify_claim.validator
    def _validate_identify_claim(self, request: IdentifyClaim) -> None:
        state = self._state
        if not allows(request.actor.role, Permission.IDENTIFY_CLAIMS):
            refuse(Refusal.FORBIDDEN, f"a {request.actor.role.value} does not identify claims")
        if state.status in (CaseStatus.RECEIVED, CaseStatus.CLOSED):
            refuse(Refusal.CONFLICT, f"case is {state.status.value}")
        problem = identification_problem(state.record, _identification(request), self._today())
        if problem is not None:
            refuse(Refusal.INVALID, problem)


def _identification(request: IdentifyClaim) -> Identification:
    by = LATER_FILE if request.actor.role is Role.SYSTEM else request.actor.user_id
    return Identification(
        payer=request.payer,
        service_date_from=request.service_date_from,
        service_date_to=request.service_date_to,
        billed_amount=request.billed_amount,
        by=by,
    )
