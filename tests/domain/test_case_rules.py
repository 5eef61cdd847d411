"""Pure case rules: escalation timing, permissions, path checks, deadline keys and recomputation."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from domain.case import (
    Actor,
    CasePolicy,
    CaseState,
    CaseStatus,
    EscalationLevel,
    Role,
    Submission,
    SubmissionKind,
    Task,
    TaskType,
    case_deadlines,
    decided_appeal_level_problem,
    path_deadline_key,
    path_problem,
    prevention_pattern_key,
)
from domain.deadlines import Deadline, DeadlineExtension, DeadlineKind
from domain.escalation import escalation_instants, escalation_level_at, stall_clock_start
from domain.models import Category, DenialKind, PayerType, WorkPath
from domain.payer_rules import PayerRule
from domain.permissions import work_permission_problem
from domain.rulebook import Rulebook
from testkit.records import adj, make_record

TODAY = date(2025, 6, 2)
NOW = datetime(2025, 6, 2, 9, 30, tzinfo=UTC)
DEADLINE_AT = datetime(2025, 7, 1, tzinfo=UTC)
POLICY = CasePolicy()
SECOND = timedelta(seconds=1)
DAY = timedelta(days=1)


def make_task(
    *,
    task_type: TaskType = TaskType.PREPARE_APPEAL,
    queue: Role = Role.BILLER,
    assignee: str | None = None,
    last_touched_at: datetime = NOW,
    due_at: datetime = NOW + 7 * DAY,
) -> Task:
    return Task(
        task_id="task-1",
        type=task_type,
        queue=queue,
        assignee=assignee,
        created_at=NOW - DAY,
        due_at=due_at,
        last_touched_at=last_touched_at,
    )


def make_state(
    rulebook: Rulebook,
    *,
    kind: DenialKind = DenialKind.DENIAL,
    deadlines: list[Deadline] | None = None,
    classify: bool = True,
    **claim_args: Any,
) -> CaseState:
    record = make_record(TODAY, kind=kind, **claim_args)
    return CaseState(
        case_id="case-test",
        record=record,
        policy=POLICY,
        classification=rulebook.classify(record) if classify else None,
        deadlines=deadlines or [],
        created_at=NOW,
        updated_at=NOW,
    )


def deadline(kind: DeadlineKind, due: date, level: int | None = None) -> Deadline:
    return Deadline(kind=kind, due=due, level=level, basis="test", rule_id="r", source="s")


# --- escalation ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("before_deadline", "level"),
    [
        (30 * DAY, EscalationLevel.NONE),
        (14 * DAY + SECOND, EscalationLevel.NONE),
        (14 * DAY, EscalationLevel.REMINDER),
        (7 * DAY + SECOND, EscalationLevel.REMINDER),
        (7 * DAY, EscalationLevel.ESCALATED),
        (2 * DAY + SECOND, EscalationLevel.ESCALATED),
        (2 * DAY, EscalationLevel.URGENT),
        (timedelta(0), EscalationLevel.URGENT),
        (-3 * DAY, EscalationLevel.URGENT),
    ],
    ids=[
        "T-30",
        "T-14-1s",
        "T-14",
        "T-7-1s",
        "T-7",
        "T-2-1s",
        "T-2",
        "T-0",
        "T+3",
    ],
)
def test_escalation_level_at_boundaries(before_deadline: timedelta, level: EscalationLevel) -> None:
    """Reminder at exactly T-14, escalated at T-7, urgent at T-2; one second earlier, not yet."""
    assert escalation_level_at(DEADLINE_AT, DEADLINE_AT - before_deadline, POLICY) is level


def test_escalation_level_follows_the_policy() -> None:
    """Custom policy days move the boundaries."""
    policy = CasePolicy(reminder_days=10, escalate_days=5, urgent_days=1)
    at = escalation_level_at
    assert at(DEADLINE_AT, DEADLINE_AT - 10 * DAY - SECOND, policy) is EscalationLevel.NONE
    assert at(DEADLINE_AT, DEADLINE_AT - 10 * DAY, policy) is EscalationLevel.REMINDER
    assert at(DEADLINE_AT, DEADLINE_AT - 5 * DAY, policy) is EscalationLevel.ESCALATED
    assert at(DEADLINE_AT, DEADLINE_AT - 1 * DAY - SECOND, policy) is EscalationLevel.ESCALATED
    assert at(DEADLINE_AT, DEADLINE_AT - 1 * DAY, policy) is EscalationLevel.URGENT


def test_escalation_instants_in_order() -> None:
    """Reminder, escalation, urgency, then the deadline itself, earliest first."""
    assert escalation_instants(DEADLINE_AT, POLICY) == [
        datetime(2025, 6, 17, tzinfo=UTC),
        datetime(2025, 6, 24, tzinfo=UTC),
        datetime(2025, 6, 29, tzinfo=UTC),
        DEADLINE_AT,
    ]
    for instant, level in zip(
        escalation_instants(DEADLINE_AT, POLICY),
        [EscalationLevel.REMINDER, EscalationLevel.ESCALATED, EscalationLevel.URGENT],
        strict=False,
    ):
        assert escalation_level_at(DEADLINE_AT, instant, POLICY) is level


def test_escalation_instants_sorted_for_any_policy() -> None:
    """Even an odd policy yields instants in time order."""
    policy = CasePolicy(reminder_days=3, escalate_days=7, urgent_days=0)
    instants = escalation_instants(DEADLINE_AT, policy)
    assert instants == sorted(instants)
    assert instants[0] == DEADLINE_AT - 7 * DAY
    assert instants[-2:] == [DEADLINE_AT, DEADLINE_AT]


# --- who may work a task -------------------------------------------------------------------------

ALICE = Actor(user_id="alice", role=Role.BILLER)
SAM = Actor(user_id="sam", role=Role.SUPERVISOR)
ADA = Actor(user_id="ada", role=Role.ADMIN)


@pytest.mark.parametrize(
    ("actor", "queue", "assignee", "problem"),
    [
        (ALICE, Role.BILLER, "alice", None),
        (ALICE, Role.BILLER, "bob", "task task-1 is assigned to bob, not to alice"),
        (ALICE, Role.BILLER, None, None),
        (ALICE, Role.SUPERVISOR, None, "task task-1 is in the supervisor queue"),
        (SAM, Role.BILLER, "bob", None),
        (SAM, Role.BILLER, None, None),
        (SAM, Role.SUPERVISOR, None, None),
        (ADA, Role.BILLER, None, "role 'admin' cannot work case tasks"),
        (ADA, Role.BILLER, "ada", "role 'admin' cannot work case tasks"),
        (ADA, Role.SUPERVISOR, None, "role 'admin' cannot work case tasks"),
    ],
    ids=[
        "biller-own",
        "biller-others",
        "biller-unassigned-biller-queue",
        "biller-supervisor-queue",
        "supervisor-assigned-to-biller",
        "supervisor-biller-queue",
        "supervisor-supervisor-queue",
        "admin-biller-queue",
        "admin-assigned-to-admin",
        "admin-supervisor-queue",
    ],
)
def test_work_permission_matrix(
    actor: Actor, queue: Role, assignee: str | None, problem: str | None
) -> None:
    """Billers work their own or unassigned biller-queue tasks; supervisors any; admins none."""
    assert work_permission_problem(actor, make_task(queue=queue, assignee=assignee)) == problem


# --- path checks ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "allowed"),
    [
        (WorkPath.CORRECTED_CLAIM, True),
        (WorkPath.WRITE_OFF_REVIEW, True),
        (WorkPath.APPEAL, False),
        (WorkPath.DUPLICATE_CHECK, False),
        (WorkPath.TRANSFER_TO_PATIENT, False),
    ],
)
def test_rejection_only_corrected_claim_or_write_off(
    path: WorkPath, allowed: bool, rulebook: Rulebook
) -> None:
    """A rejection is corrected and resubmitted (racing timely filing) or written off."""
    state = make_state(
        rulebook,
        kind=DenialKind.REJECTION,
        deadlines=[deadline(DeadlineKind.TIMELY_FILING, TODAY + 30 * DAY)],
    )
    refused = "a rejection can only be corrected and resubmitted, or written off"
    expected = None if allowed else refused
    assert path_problem(state, path, TODAY) == expected


def test_rejection_corrected_claim_after_timely_filing_passed(rulebook: Rulebook) -> None:
    """A rejection's corrected claim races timely filing: once it passed, it is refused."""
    state = make_state(
        rulebook,
        kind=DenialKind.REJECTION,
        deadlines=[deadline(DeadlineKind.TIMELY_FILING, date(2025, 6, 1))],
    )
    assert path_problem(state, WorkPath.CORRECTED_CLAIM, TODAY) == (
        "the timely filing deadline passed on 2025-06-01"
    )


@pytest.mark.parametrize(
    ("status", "path", "level", "decided"),
    [
        (CaseStatus.WRITE_OFF_REVIEW, WorkPath.WRITE_OFF_REVIEW, 2, True),
        # The level 2 appeal's own answer is awaited: not yet decided.
        (CaseStatus.AWAITING_PAYER, WorkPath.APPEAL, 2, False),
        # A corrected claim's answer is awaited: the level 2 appeal was decided before it.
        (CaseStatus.AWAITING_PAYER, WorkPath.CORRECTED_CLAIM, 2, True),
        # Level 3 was opened after the level 2 decision and has no submission yet.
        (CaseStatus.WRITE_OFF_REVIEW, WorkPath.WRITE_OFF_REVIEW, 3, False),
    ],
)
def test_decided_appeal_level(
    status: CaseStatus, path: WorkPath, level: int, decided: bool, rulebook: Rulebook
) -> None:
    """An appeal level is decided once its appeal was submitted and its answer is not the one
    still awaited; such a level cannot be appealed again."""
    state = make_state(rulebook)
    state.status, state.path, state.appeal_level = status, path, level
    state.submissions = [
        Submission(
            kind=SubmissionKind.APPEAL,
            appeal_level=2,
            submitted_on=TODAY,
            summary="second level",
            submitted_by="alice",
        )
    ]
    expected = f"the level {level} appeal was already decided and no further level is open"
    assert decided_appeal_level_problem(state) == (expected if decided else None)


def test_no_appeal_rights_blocks_appeal_only(rulebook: Rulebook) -> None:
    """With MA130 the appeal path is refused; correcting the claim stays open."""
    state = make_state(
        rulebook,
        rarcs=["MA130"],
        deadlines=[
            deadline(DeadlineKind.CORRECTED_CLAIM, TODAY + 60 * DAY),
            deadline(DeadlineKind.APPEAL, TODAY + 60 * DAY, level=1),
        ],
    )
    assert state.classification is not None
    assert state.classification.appeal_rights is False
    assert path_problem(state, WorkPath.APPEAL, TODAY) == (
        "RARC MA130: no appeal rights, correct and resubmit"
    )
    assert path_problem(state, WorkPath.CORRECTED_CLAIM, TODAY) is None


def test_passed_deadline_blocks_the_path(rulebook: Rulebook) -> None:
    """A path whose deadline passed yesterday is refused; one due today is still open."""
    state = make_state(
        rulebook,
        deadlines=[
            deadline(DeadlineKind.CORRECTED_CLAIM, TODAY - DAY),
            deadline(DeadlineKind.APPEAL, TODAY, level=1),
        ],
    )
    assert path_problem(state, WorkPath.CORRECTED_CLAIM, TODAY) == (
        "the corrected claim deadline passed on 2025-06-01"
    )
    assert path_problem(state, WorkPath.APPEAL, TODAY) is None
    assert path_problem(state, WorkPath.APPEAL, TODAY + DAY) == (
        "the appeal level 1 deadline passed on 2025-06-02"
    )


def test_path_without_a_known_deadline(rulebook: Rulebook) -> None:
    """Appeal / corrected claim need their deadline; other paths do not race one."""
    state = make_state(rulebook, deadlines=[])
    assert path_problem(state, WorkPath.CORRECTED_CLAIM, TODAY) == (
        "no corrected claim deadline is known for this case"
    )
    assert path_problem(state, WorkPath.APPEAL, TODAY) == (
        "no appeal deadline is known for this case"
    )
    assert path_problem(state, WorkPath.WRITE_OFF_REVIEW, TODAY) is None
    assert path_problem(state, WorkPath.TRANSFER_TO_PATIENT, TODAY) is None
    assert path_problem(state, WorkPath.DUPLICATE_CHECK, TODAY) is None


def test_appeal_path_checks_the_current_level(rulebook: Rulebook) -> None:
    """At appeal level 2 the level-2 deadline governs, not level 1's."""
    state = make_state(
        rulebook,
        deadlines=[
            deadline(DeadlineKind.APPEAL, TODAY - 30 * DAY, level=1),
            deadline(DeadlineKind.APPEAL, TODAY + 30 * DAY, level=2),
        ],
    )
    state.appeal_level = 2
    assert path_problem(state, WorkPath.APPEAL, TODAY) is None
    state.appeal_level = 1
    assert path_problem(state, WorkPath.APPEAL, TODAY) == (
        "the appeal level 1 deadline passed on 2025-05-03"
    )


@pytest.mark.parametrize(
    ("kind", "path", "level", "rights", "key"),
    [
        (DenialKind.REJECTION, WorkPath.CORRECTED_CLAIM, 0, True, "timely_filing"),
        (DenialKind.REJECTION, None, 0, False, "timely_filing"),
        (DenialKind.DENIAL, WorkPath.CORRECTED_CLAIM, 0, True, "corrected_claim"),
        (DenialKind.DENIAL, WorkPath.APPEAL, 0, True, "appeal:1"),
        (DenialKind.DENIAL, WorkPath.APPEAL, 1, True, "appeal:1"),
        (DenialKind.DENIAL, WorkPath.APPEAL, 3, True, "appeal:3"),
        (DenialKind.DENIAL, WorkPath.DUPLICATE_CHECK, 0, True, "appeal:1"),
        (DenialKind.DENIAL, WorkPath.DUPLICATE_CHECK, 0, False, "corrected_claim"),
        (DenialKind.DENIAL, WorkPath.WRITE_OFF_REVIEW, 0, True, None),
        (DenialKind.DENIAL, WorkPath.TRANSFER_TO_PATIENT, 0, True, None),
        (DenialKind.DENIAL, None, 0, True, None),
    ],
)
def test_path_deadline_key(
    kind: DenialKind, path: WorkPath | None, level: int, rights: bool, key: str | None
) -> None:
    """The deadline each path races (a duplicate check races what would follow it)."""
    assert path_deadline_key(kind, path, level, rights) == key


@pytest.mark.parametrize(
    ("category", "cause", "key"),
    [
        (Category.CODING, "Missing modifier 25", "87726|coding|missing modifier 25"),
        (Category.CODING, "  MISSING \t Modifier\n25  ", "87726|coding|missing modifier 25"),
        (None, "Unknown", "87726|unknown|unknown"),
    ],
)
def test_prevention_pattern_key_normalises(category: Category | None, cause: str, key: str) -> None:
    """Payer + category + cause, with the cause lower-cased and whitespace collapsed."""
    assert prevention_pattern_key("87726", category, cause) == key


def test_prevention_pattern_key_separates_payers_and_categories() -> None:
    """Different payers or categories never share a key."""
    keys = {
        prevention_pattern_key("A", Category.CODING, "x"),
        prevention_pattern_key("B", Category.CODING, "x"),
        prevention_pattern_key("A", Category.BUNDLING, "x"),
    }
    assert len(keys) == 3


# --- stalling ------------------------------------------------------------------------------------


def test_stall_clock_for_record_payer_response_starts_at_due() -> None:
    """Waiting on the payer cannot stall before the answer is due."""
    due = NOW + 30 * DAY
    task = make_task(task_type=TaskType.RECORD_PAYER_RESPONSE, last_touched_at=NOW, due_at=due)
    assert stall_clock_start(task) == due
    touched_late = make_task(
        task_type=TaskType.RECORD_PAYER_RESPONSE, last_touched_at=due + DAY, due_at=due
    )
    assert stall_clock_start(touched_late) == due + DAY


@pytest.mark.parametrize(
    "task_type", [t for t in TaskType if t is not TaskType.RECORD_PAYER_RESPONSE]
)
def test_stall_clock_for_other_tasks_starts_at_last_touch(task_type: TaskType) -> None:
    """Every other task stalls counting from its last touch, even if due later."""
    task = make_task(task_type=task_type, last_touched_at=NOW, due_at=NOW + 30 * DAY)
    assert stall_clock_start(task) == NOW


# --- deadline recomputation ----------------------------------------------------------------------


def medicare_rule(rulebook: Rulebook) -> PayerRule:
    return rulebook.registry.rule_for("MCR-TEST", PayerType.MEDICARE, TODAY)


def test_case_deadlines_initial(rulebook: Rulebook) -> None:
    """A fresh Medicare denial: timely filing, corrected claim, level-1 appeal."""
    state = make_state(rulebook, payer_type=PayerType.MEDICARE)  # DOS 2025-05-03, remit 05-28
    deadlines = case_deadlines(state, medicare_rule(rulebook))
    assert [(d.key, d.due) for d in deadlines] == [
        ("timely_filing", date(2026, 5, 3)),
        ("corrected_claim", date(2026, 5, 28)),
        ("appeal:1", date(2025, 9, 30)),  # 28 May + 5 = 2 Jun, + 120 days
    ]


def test_case_deadlines_with_history_and_extensions(rulebook: Rulebook) -> None:
    """Later levels from their notice dates, latest submission's decision per key, extensions."""
    state = make_state(rulebook, payer_type=PayerType.MEDICARE)
    # Level 1 counts from the remittance: a level-1 entry here changes nothing.
    state.appeal_notice_dates = {1: date(2025, 5, 1), 2: date(2025, 8, 1)}
    state.submissions = [
        Submission(
            kind=SubmissionKind.CORRECTED_CLAIM,
            submitted_on=date(2025, 6, 3),
            summary="corrected",
            submitted_by="alice",
        ),
        Submission(
            kind=SubmissionKind.APPEAL,
            appeal_level=1,
            submitted_on=date(2025, 6, 10),
            summary="first try",
            submitted_by="alice",
        ),
        Submission(
            kind=SubmissionKind.APPEAL,
            appeal_level=1,
            submitted_on=date(2025, 6, 20),
            summary="resubmitted",
            submitted_by="alice",
        ),
        Submission(
            kind=SubmissionKind.APPEAL,
            appeal_level=5,
            submitted_on=date(2025, 6, 20),
            summary="court: no decision time frame",
            submitted_by="alice",
        ),
    ]
    state.extensions = [
        DeadlineExtension(
            kind=DeadlineKind.APPEAL,
            level=2,
            new_due=date(2026, 3, 1),
            reason="good cause",
            recorded_by="sam",
        )
    ]
    deadlines = case_deadlines(state, medicare_rule(rulebook))
    assert [(d.key, d.due) for d in deadlines] == [
        ("timely_filing", date(2026, 5, 3)),
        ("corrected_claim", date(2026, 5, 28)),
        ("appeal:1", date(2025, 9, 30)),
        ("appeal:2", date(2026, 3, 1)),  # extended from 2026-02-02 (6 Aug + 180)
        ("payer_decision", date(2025, 7, 3)),  # corrected claim + 30
        ("payer_decision:1", date(2025, 8, 19)),  # the resubmission + 60
    ]
    appeal_2 = deadlines[3]
    assert appeal_2.basis.startswith("extended to 2026-03-01: good cause (was 2026-02-02, ")


def test_case_deadlines_without_remittance_count_from_creation(rulebook: Rulebook) -> None:
    """No remittance date: the case's creation date stands in for it."""
    state = make_state(rulebook, payer_type=PayerType.COMMERCIAL, remit_days_ago=None)
    deadlines = case_deadlines(state, rulebook.registry.rule_for("X", PayerType.COMMERCIAL, TODAY))
    assert [(d.key, d.due) for d in deadlines] == [
        ("timely_filing", date(2025, 8, 1)),  # DOS 3 May + 90
        ("corrected_claim", date(2025, 11, 29)),  # 2 Jun + 180
        ("appeal:1", date(2025, 11, 29)),
    ]


def test_case_deadlines_no_appeal_rights_and_rejection(rulebook: Rulebook) -> None:
    """No appeal rights drop the appeal deadline; a rejection keeps only timely filing."""
    rule = medicare_rule(rulebook)
    no_rights = make_state(
        rulebook, payer_type=PayerType.MEDICARE, adjustments=[adj("CO-16", 1000)], rarcs=["N211"]
    )
    assert [d.key for d in case_deadlines(no_rights, rule)] == ["timely_filing", "corrected_claim"]
    rejection = make_state(rulebook, kind=DenialKind.REJECTION, payer_type=PayerType.MEDICARE)
    assert [(d.key, d.due) for d in case_deadlines(rejection, rule)] == [
        ("timely_filing", date(2026, 5, 3))
    ]
    unclassified = make_state(rulebook, payer_type=PayerType.MEDICARE, classify=False)
    assert [d.key for d in case_deadlines(unclassified, rule)] == [
        "timely_filing",
        "corrected_claim",
        "appeal:1",
    ]


def test_a_state_saved_with_its_whole_timeline_resumes_counting_from_it() -> None:
    """The input of a run continued as new before the timeline left the state: its events
    are kept as pending (projecting them again is a no-op) and numbering goes on after them."""
    state = CaseState(
        case_id="case-1", record=make_record(TODAY), policy=POLICY, created_at=NOW, updated_at=NOW
    )
    saved = state.model_dump(mode="json", exclude={"pending_events", "event_seq"})
    events = [
        {"seq": n, "at": NOW.isoformat(), "type": "note", "actor": "alice", "message": f"{n}"}
        for n in (1, 2, 3)
    ]
    resumed = CaseState.model_validate({**saved, "events": events})
    assert [e.seq for e in resumed.pending_events] == [1, 2, 3]
    assert resumed.event_seq == 3
    assert CaseState.model_validate({**saved, "events": []}).event_seq == 0


def test_a_policy_names_a_real_time_zone_and_old_policies_are_utc() -> None:
    assert CasePolicy.model_validate({}).timezone == "UTC"
    assert CasePolicy(timezone="America/Chicago").today(datetime(2026, 1, 2, 3, tzinfo=UTC)) == (
        date(2026, 1, 1)
    )
    with pytest.raises(ValueError, match="unknown time zone 'Mars/Olympus'"):
        CasePolicy(timezone="Mars/Olympus")
