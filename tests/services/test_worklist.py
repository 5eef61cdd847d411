"""The biller's worklists on the read model (services.tasks, services.follow_ups), on SQLite and
PostgreSQL with an injected office day: actionable work apart from what waits on the payer,
ordered by deadline risk then priority; follow-up dates that park a case until a day, after
which it is back; the rules a follow-up date obeys, and its audit trail."""

from __future__ import annotations

import itertools
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
import pytest_asyncio
import temporalio.client
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from db.models import AuditEventRow, CaseRow, TaskRow
from domain.case import Actor, Role
from domain.worklist import WorkView
from services.audit import AuditService
from services.errors import Conflict, Invalid, NotFound
from services.follow_ups import FollowUpService
from services.preferences import Preferences, PreferenceService
from services.tasks import TaskService
from services.users import UserService

NOW = datetime(2026, 12, 7, 15, 0, tzinfo=UTC)
TODAY = NOW.date()
_numbers = itertools.count(1)


@dataclass
class Office:
    """The office's day, moved by the tests."""

    today: date = TODAY

    def __call__(self) -> date:
        return self.today


@dataclass
class Desk:
    """One biller (a fresh user id per test, so that PostgreSQL's shared database does not
    mix tests) with her services on one session."""

    session: Session
    office: Office
    biller: Actor
    tasks: TaskService
    follow_ups: FollowUpService
    cases: list[str] = field(default_factory=list)

    def add(
        self,
        task_type: str,
        *,
        priority: float,
        due_in: int | None,
        escalation: int = 0,
        assignee: str | None = "me",
        status: str = "awaiting_payer",
    ) -> tuple[str, str]:
        """A case with one open task (assigned to the biller unless told otherwise)."""
        case_id = f"case-{uuid.uuid4().hex[:24]}"
        task_id = f"{case_id}-t{next(_numbers)}"
        due = self.office.today + timedelta(days=due_in) if due_in is not None else None
        self.session.add(
            CaseRow(
                case_id=case_id,
                version=1,
                kind="denial",
                status=status,
                category="medical_necessity",
                payer_id="PAYER",
                payer_name="Payer",
                payer_type="commercial",
                claim_id=f"PCN-{task_id[-8:]}",
                service_date_from=NOW.date() - timedelta(days=40),
                billed_amount=Decimal(900),
                paid_amount=Decimal(0),
                denied_amount=Decimal(900),
                recovered_amount=Decimal(0),
                priority=priority,
                created_at=NOW,
                updated_at=NOW,
                state={},
            )
        )
        self.session.add(
            TaskRow(
                task_id=task_id,
                case_id=case_id,
                case_version=1,
                type=task_type,
                status="open",
                queue="biller",
                assignee=self.biller.user_id if assignee == "me" else assignee,
                priority=priority,
                deadline_key="appeal:1" if due else None,
                deadline_due=due,
                escalation=escalation,
                created_at=NOW,
                due_at=datetime.combine(due or NOW.date() + timedelta(days=30), NOW.timetz()),
                last_touched_at=NOW,
            )
        )
        self.session.commit()
        self.cases.append(case_id)
        return case_id, task_id

    def listed(self, view: WorkView = WorkView.ACTIONABLE) -> list[str]:
        page = self.tasks.list_tasks(self.biller, assignee=self.biller.user_id, view=view)
        assert page.total == len(page.items)
        return [task.task_id for task in page.items]

    def audit(self, action: str) -> list[AuditEventRow]:
        return list(
            self.session.exec(
                select(AuditEventRow)
                .where(AuditEventRow.user_id == self.biller.user_id, AuditEventRow.action == action)
                .order_by(col(AuditEventRow.id))
            )
        )


@pytest_asyncio.fixture
async def desk(engine: Engine) -> AsyncIterator[Desk]:
    office = Office()
    client = await temporalio.client.Client.connect("127.0.0.1:1", lazy=True)  # never called
    with Session(engine, expire_on_commit=False) as session:
        audit = AuditService(session)
        biller = Actor(user_id=f"biller-{uuid.uuid4().hex[:8]}", role=Role.BILLER)
        yield Desk(
            session,
            office,
            biller,
            TaskService(session, client, audit, office),
            FollowUpService(session, audit, office),
        )


def test_my_tasks_show_what_can_be_done_today_and_the_payers_answers_apart(desk: Desk) -> None:
    """Issue 15 (4): the payer responses awaited on big appeals came first and pushed the
    medical-necessity triage with 15 days left to 5th. Actionable work now leaves them out and
    is ordered by deadline risk then priority; they wait in their own view, the answer expected
    soonest first."""
    waits = [
        desk.add("record_payer_response", priority=9000 + n, due_in=20 + n)[1] for n in range(4)
    ]
    _, triage = desk.add("confirm_triage", priority=300, due_in=15, status="triaged")
    _, follow_up = desk.add("follow_up_with_payer", priority=500, due_in=None)
    _, reminded = desk.add("confirm_root_cause", priority=80, due_in=12, escalation=1)
    _, escalated = desk.add("prepare_appeal", priority=40, due_in=6, escalation=2)

    assert desk.listed() == [escalated, reminded, follow_up, triage]
    assert desk.listed(WorkView.WAITING) == waits  # by the day the answer is expected
    assert desk.listed(WorkView.ALL)[:2] == [escalated, reminded]
    assert set(desk.listed(WorkView.ALL)) == {*waits, triage, follow_up, reminded, escalated}
    assert desk.tasks.count_by_view(assignee=desk.biller.user_id) == {
        WorkView.ACTIONABLE: 4,
        WorkView.WAITING: 4,
        WorkView.PARKED: 0,
    }
    by_case = desk.tasks.list_tasks(
        desk.biller, assignee=desk.biller.user_id, category="medical_necessity", payer_id="PAYER"
    )
    assert [t.task_id for t in by_case.items][:2] == [escalated, reminded] and by_case.total == 8
    assert (
        desk.tasks.list_tasks(desk.biller, assignee=desk.biller.user_id, category="coding").total
        == 0
    )
    top = desk.tasks.next_task(desk.biller)
    assert top is not None and top.task_id == escalated
    after = desk.tasks.next_task(desk.biller, other_than_case=top.case_id)
    assert after is not None and after.task_id == reminded
    [waiting] = desk.tasks.list_tasks(
        desk.biller, assignee=desk.biller.user_id, view=WorkView.WAITING, limit=1
    ).items
    assert waiting.waiting_on_payer and not waiting.parked


def test_a_parked_case_leaves_the_worklist_and_comes_back_on_its_date(desk: Desk) -> None:
    """A follow-up date three days ahead takes the case out of the actionable list (into the
    parked view, marked with its date) until the day before; on the day it is back, marked due;
    completing work then closes the follow-up. Each change is audited, its reason included."""
    parked_case, parked_task = desk.add("confirm_triage", priority=900, due_in=30)
    _, other = desk.add("confirm_triage", priority=100, due_in=30)
    back_on = desk.office.today + timedelta(days=3)

    shown = desk.follow_ups.set(parked_case, back_on, "payer asked to call back", desk.biller)
    assert (shown.follow_up_on, shown.parked, shown.set_by) == (back_on, True, desk.biller.user_id)
    assert desk.listed() == [other]
    assert desk.listed(WorkView.PARKED) == [parked_task]
    parked = desk.tasks.list_tasks(desk.biller, assignee=desk.biller.user_id, view=WorkView.PARKED)
    [item] = parked.items
    assert (item.parked, item.follow_up_on) == (True, back_on)
    assert desk.tasks.next_task(desk.biller).task_id == other  # type: ignore[union-attr]

    desk.office.today = back_on - timedelta(days=1)
    assert desk.listed() == [other]

    desk.office.today = back_on
    assert desk.listed() == [parked_task, other]
    assert desk.listed(WorkView.PARKED) == []
    [back, _] = desk.tasks.list_tasks(
        desk.biller, assignee=desk.biller.user_id, view=WorkView.ACTIONABLE
    ).items
    assert (back.parked, back.follow_up_on) == (False, back_on)  # shown as "follow-up due"
    assert desk.follow_ups.get(parked_case).parked is False  # type: ignore[union-attr]

    desk.follow_ups.clear_reached(parked_case, desk.biller)  # what completing a task does
    assert desk.follow_ups.get(parked_case) is None
    [set_entry] = desk.audit("case.follow_up")
    assert (set_entry.case_id, set_entry.outcome) == (parked_case, "ok")
    assert set_entry.detail == {"until": back_on.isoformat(), "reason": "payer asked to call back"}
    [cleared] = desk.audit("case.follow_up_cleared")
    assert cleared.detail["why"] == "task completed on or after the follow-up date"


def test_parking_never_hides_urgent_work_and_a_new_date_replaces_the_old(desk: Desk) -> None:
    """An urgent task (T-2) stays actionable though its case is parked, marked parked; setting a
    second date replaces the first (one open follow-up per case); unparking brings the case
    back at once."""
    urgent_case, urgent = desk.add("prepare_appeal", priority=10, due_in=2, escalation=3)
    calm_case, calm = desk.add("prepare_appeal", priority=10, due_in=40)
    desk.follow_ups.set(urgent_case, desk.office.today + timedelta(days=2), "docs", desk.biller)
    desk.follow_ups.set(calm_case, desk.office.today + timedelta(days=5), "docs", desk.biller)
    assert desk.listed() == [urgent]
    [item] = desk.tasks.list_tasks(
        desk.biller, assignee=desk.biller.user_id, view=WorkView.ACTIONABLE
    ).items
    assert item.parked

    later = desk.office.today + timedelta(days=9)
    desk.follow_ups.set(calm_case, later, "the payer moved its call", desk.biller)
    assert desk.follow_ups.get(calm_case).follow_up_on == later  # type: ignore[union-attr]
    assert desk.listed(WorkView.PARKED) == [calm]

    desk.follow_ups.clear(calm_case, desk.biller)
    assert desk.listed() == [urgent, calm]
    with pytest.raises(NotFound, match="no follow-up date"):
        desk.follow_ups.clear(calm_case, desk.biller)
    assert [e.outcome for e in desk.audit("case.follow_up_cleared")] == ["ok", "refused"]


def test_a_follow_up_date_must_be_ahead_and_before_the_deadline(desk: Desk) -> None:
    """Refused, saying why, and audited as refused: today or earlier, a year and more ahead,
    past the deadline the open work races (the payer's answer is no such deadline), an empty
    reason, a closed case; nothing is parked."""
    today = desk.office.today
    case_id, _ = desk.add("prepare_appeal", priority=10, due_in=10)
    for on, reason, message in [
        (today, "x", "must be after today"),
        (today + timedelta(days=366), "x", "at most 365 days ahead"),
        (today + timedelta(days=11), "x", "work is due by"),
        (today + timedelta(days=3), "  ", "say why the case waits"),
    ]:
        with pytest.raises(Invalid, match=message):
            desk.follow_ups.set(case_id, on, reason, desk.biller)
    desk.follow_ups.set(case_id, today + timedelta(days=10), "on the due day", desk.biller)

    waiting_case, _ = desk.add("record_payer_response", priority=10, due_in=5)
    desk.follow_ups.set(waiting_case, today + timedelta(days=60), "answer late", desk.biller)
    closed_case, _ = desk.add("confirm_triage", priority=1, due_in=None, status="closed")
    with pytest.raises(Conflict, match="is closed"):
        desk.follow_ups.set(closed_case, today + timedelta(days=1), "x", desk.biller)
    with pytest.raises(NotFound):
        desk.follow_ups.set("case-none", today + timedelta(days=1), "x", desk.biller)
    outcomes = [e.outcome for e in desk.audit("case.follow_up")]
    assert outcomes == ["refused"] * 4 + ["ok", "ok", "refused", "refused"]


def test_the_next_task_preference_is_each_users_own(sqlite_engine: Engine) -> None:
    with Session(sqlite_engine) as session:
        UserService(session).ensure_demo_users()
        preferences = PreferenceService(session)
        assert preferences.get("alice") == Preferences(continue_to_next_task=False)
        preferences.set("alice", Preferences(continue_to_next_task=True))
        assert preferences.get("alice").continue_to_next_task
        assert not preferences.get("bob").continue_to_next_task
        preferences.set("alice", Preferences(continue_to_next_task=False))
        assert not preferences.get("alice").continue_to_next_task
